package dev.matrixpolicy.gateway.testmodules;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.context.annotation.Bean;

/**
 * Module types that exist only in the test classpath, registered the way a module type from
 * another jar is: an auto-configuration listed in
 * {@code META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports}.
 */
@AutoConfiguration
public class TestModulesAutoConfiguration {

    @Bean
    PasswordTableModuleType passwordTableModuleType() {
        return new PasswordTableModuleType();
    }

    @Bean
    FaultyModuleType faultyModuleType() {
        return new FaultyModuleType();
    }

    @Bean
    HeldBuildModuleType heldBuildModuleType() {
        return new HeldBuildModuleType();
    }
}
