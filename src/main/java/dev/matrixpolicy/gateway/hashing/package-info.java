/**
 * The gateway's two hashes. SHA-256, the one cryptographic hash it computes: of a list's content, to
 * skip reading it again when it has not changed (policy list files and URLs, user list files, media
 * hash lists, the reloader's configuration files), of a secret, to tell a rotated one without keeping
 * it twice, of an ID, for MSC4205's hashed policy rules, and of an event, for the policy server's
 * content hash. And {@link dev.matrixpolicy.gateway.hashing.Probing}, the hash with a secret of the
 * process by which the flat tables place keys that others choose.
 *
 * <p>Pure Java, at the bottom of the layering beside {@code replies}: it uses no other package of the
 * gateway and no Spring, so every package may use it.
 */
package dev.matrixpolicy.gateway.hashing;
