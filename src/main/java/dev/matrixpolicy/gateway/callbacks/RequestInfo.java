package dev.matrixpolicy.gateway.callbacks;

import com.fasterxml.jackson.annotation.JsonFormat;
import java.util.Optional;

/**
 * One (user agent, IP address) pair from a registration or login, as Synapse passes them.
 *
 * @param userAgent empty when the client sent none (possible on login)
 * @param ip        the client's IP address
 */
@JsonFormat(shape = JsonFormat.Shape.ARRAY)
public record RequestInfo(Optional<String> userAgent, String ip) {
}
