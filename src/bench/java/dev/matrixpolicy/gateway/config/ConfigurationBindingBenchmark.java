package dev.matrixpolicy.gateway.config;

import dev.matrixpolicy.gateway.modules.contentrules.ContentRulesConfig;
import jakarta.validation.Validation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.validation.ValidationBindHandler;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.io.ByteArrayResource;
import org.springframework.validation.beanvalidation.SpringValidatorAdapter;

/**
 * Binding a configuration file whose {@code content_rules} entry holds many rules, the two bindings
 * every start and every reload make of it: the {@code policy-gateway} settings with each entry's
 * {@code config:} as plain values ({@link PolicyGatewayProperties}, as {@link ConfigurationLoader}
 * binds them), and that {@code config:} to the module type's record (as {@link ModuleInstanceFactory}
 * binds it). Each rule has a name and two lists, so a rule is four properties.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseSerialGC", "-Xmn64m", "-Xmx2g"})
public class ConfigurationBindingBenchmark {

    private static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of("policy-gateway");
    private static final ConfigurationPropertyName MODULE_CONFIG = ConfigurationPropertyName.of("policy-gateway.modules[0].config");

    @Param({"250", "1000", "4000"})
    int rules;

    Binder binder;
    SpringValidatorAdapter validator;

    @Setup
    public void read() throws IOException {
        StringBuilder yaml = new StringBuilder("""
                policy-gateway:
                  server-name: example.org
                  modules:
                    - module: content_rules
                      config:
                        rules:
                """);
        for (int rule = 0; rule < rules; rule++) {
            yaml.append("          - name: rule-").append(rule).append('\n')
                    .append("            keywords: [\"word").append(rule).append("\", \"other").append(rule).append("\"]\n")
                    .append("            phrases: [\"phrase").append(rule).append("\"]\n");
        }
        var sources = new YamlPropertySourceLoader()
                .load("gateway.yml", new ByteArrayResource(yaml.toString().getBytes(StandardCharsets.UTF_8)));
        binder = new Binder(ConfigurationPropertySources.from(sources));
        validator = new SpringValidatorAdapter(Validation.buildDefaultValidatorFactory().getValidator());
        if (settings().modules().size() != 1 || moduleConfig().rules().size() != rules) {
            throw new IllegalStateException("the file did not bind as written");
        }
    }

    @Benchmark
    public PolicyGatewayProperties settings() {
        return binder.bindOrCreate(ROOT, Bindable.of(PolicyGatewayProperties.class),
                new UnknownKeyCheck(new ValuesReadAsWritten(new ValidationBindHandler(validator), ROOT), ROOT));
    }

    @Benchmark
    public ContentRulesConfig moduleConfig() {
        return binder.bindOrCreate(MODULE_CONFIG, Bindable.of(ContentRulesConfig.class),
                new UnknownKeyCheck(new ValuesReadAsWritten(new ValidationBindHandler(validator), null)));
    }
}
