package dev.matrixpolicy.gateway.observability;

import static org.assertj.core.api.Assertions.assertThat;

import dev.matrixpolicy.gateway.module.InstanceMeters;
import dev.matrixpolicy.gateway.module.MeterChanges;
import dev.matrixpolicy.gateway.module.PolicyModule;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ConsistentScrapesTest {
    private static final int SERIES = 40;

    /**
     * A reload rebuilding a module under its name replaces its meters with ones of the same names and
     * tags. Scraped meanwhile, Prometheus' registry used to show both under one set of labels (the
     * scrape then failed with a 500) or neither.
     */
    @Test
    void aScrapeWhileAReloadReplacesAnInstancesMetersSeesTheOldOrTheNewNeverBothOrNeither() throws Exception {
        MeterChanges changes = new MeterChanges();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, new ConsistentScrapes(changes),
                Clock.SYSTEM);
        InstanceMeters meters = new InstanceMeters(registry, changes);
        PolicyModule[] instances = {new PolicyModule() { }, new PolicyModule() { }};
        meters.keep(instances[0], binders(1));
        meters.replace(List.of(), List.of(instances[0]));

        AtomicBoolean reloading = new AtomicBoolean(true);
        AtomicInteger reloads = new AtomicInteger();
        Thread reloader = Thread.ofPlatform().start(() -> {
            while (reloading.get()) {
                int serving = reloads.get() % 2;
                meters.keep(instances[1 - serving], binders(2 + reloads.get()));
                meters.replace(List.of(instances[serving]), List.of(instances[1 - serving]));
                reloads.incrementAndGet();
            }
        });
        List<String> inconsistent = new ArrayList<>();
        long end = System.nanoTime() + 1_500_000_000L;
        int scrapes = 0;
        try {
            while (System.nanoTime() < end || scrapes < 100) {
                String scraped;
                try {
                    scraped = registry.scrape();
                } catch (RuntimeException failed) {
                    inconsistent.add(failed.toString());
                    continue;
                } finally {
                    scrapes++;
                }
                Matcher series = Pattern.compile("(?m)^policy_module_entries\\{[^}]*} (\\S+)$").matcher(scraped);
                List<String> values = new ArrayList<>();
                while (series.find()) {
                    values.add(series.group(1));
                }
                if (values.size() != SERIES || values.stream().distinct().count() != 1) {
                    inconsistent.add(values.size() + " series, values " + values.stream().distinct().toList());
                }
            }
        } finally {
            reloading.set(false);
            reloader.join();
        }

        assertThat(reloads.get()).as("reloads during the scrapes").isGreaterThan(100);
        assertThat(inconsistent).as("of %d scrapes", scrapes).isEmpty();
    }

    /** One instance's meters: {@value #SERIES} series, each reading {@code value}. */
    private static List<MeterBinder> binders(int value) {
        List<MeterBinder> binders = new ArrayList<>();
        for (int source = 0; source < SERIES; source++) {
            String name = "source-" + source;
            binders.add(registry -> Gauge.builder("policy.module.entries", () -> value).tags("module", "list", "source", name)
                    .register(registry));
        }
        return binders;
    }
}
