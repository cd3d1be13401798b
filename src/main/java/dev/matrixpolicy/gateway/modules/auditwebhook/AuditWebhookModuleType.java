package dev.matrixpolicy.gateway.modules.auditwebhook;

import dev.matrixpolicy.gateway.callbacks.CallbackType;
import dev.matrixpolicy.gateway.callbacks.ResultTypes;
import dev.matrixpolicy.gateway.callbacks.catalog.Callbacks;
import dev.matrixpolicy.gateway.module.ConfigValues;
import dev.matrixpolicy.gateway.module.BackendUrls;
import dev.matrixpolicy.gateway.module.ModuleConfigurationException;
import dev.matrixpolicy.gateway.module.ModuleContext;
import dev.matrixpolicy.gateway.module.ModuleType;
import dev.matrixpolicy.gateway.module.PolicyModule;
import java.net.URI;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * {@code audit_webhook}: reports notifications (account data changes, new events, profile changes,
 * deactivations, 3PID changes, logins, logouts, registrations) to an HTTP webhook, one JSON record
 * per call, delivered in the background so the callback never waits for the webhook.
 */
@Component
class AuditWebhookModuleType extends ModuleType<AuditWebhookConfig> {

    /** Every notification callback: those whose result is nothing. */
    static final List<CallbackType<?, ?, ?>> NOTIFICATIONS = Callbacks.ALL.stream()
            .filter(callback -> callback.resultType() == ResultTypes.NOTHING)
            .toList();

    AuditWebhookModuleType() {
        super("audit_webhook", AuditWebhookConfig.class);
    }

    @Override
    public PolicyModule create(AuditWebhookConfig config, ModuleContext context) {
        checkUrl(config.url());
        if (config.queueMaxSize().toBytes() < 1) {
            throw new ModuleConfigurationException("queue-max-size", "must be at least 1B, got " + ConfigValues.format(config.queueMaxSize()));
        }
        Set<CallbackType<?, ?, ?>> callbacks = callbacks(config.callbacks());
        Optional<String> token = ConfigValues.bearerToken(config.token(), config.tokenFile(), context);
        AuditWebhook webhook = AuditWebhook.start(context.instanceName(), callbacks,
                new AuditRecords(context.serverName(), config.includeStateEvents()),
                new WebhookDelivery(config, token, context),
                config, context.meterRegistry(), context::bindMeters);
        context.predecessor().filter(AuditWebhook.class::isInstance).map(AuditWebhook.class::cast)
                .ifPresent(predecessor -> predecessor.handOnTo(webhook));
        return webhook;
    }

    private static void checkUrl(URI url) {
        BackendUrls.require("url", url);
    }

    /** The callbacks named, in order; every notification when the key is left out. */
    private static Set<CallbackType<?, ?, ?>> callbacks(List<String> names) {
        if (names == null) {
            return new LinkedHashSet<>(NOTIFICATIONS);
        }
        Set<CallbackType<?, ?, ?>> chosen = new LinkedHashSet<>();
        for (int i = 0; i < names.size(); i++) {
            chosen.add(ConfigValues.callback("callbacks[" + i + "]", names.get(i), NOTIFICATIONS,
                    "a notification callback; audit_webhook reports"));
        }
        return chosen;
    }
}
