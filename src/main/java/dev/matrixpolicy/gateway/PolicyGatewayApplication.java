package dev.matrixpolicy.gateway;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

@SpringBootApplication
public class PolicyGatewayApplication {
    public static void main(String[] args) {
        SpringApplication.run(PolicyGatewayApplication.class, args);
    }
}
