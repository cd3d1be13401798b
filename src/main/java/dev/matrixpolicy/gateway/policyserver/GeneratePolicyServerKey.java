package dev.matrixpolicy.gateway.policyserver;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;

/**
 * The admin's command that writes a new policy server key file and prints its public key, run from
 * the gateway jar without starting the gateway:
 *
 * <pre>
 * java -cp matrix-policy-gateway.jar -Dloader.main=dev.matrixpolicy.gateway.policyserver.GeneratePolicyServerKey \
 *     org.springframework.boot.loader.launch.PropertiesLauncher /path/to/policy_server.key
 * </pre>
 *
 * Exit status 0 on success, 1 when the file exists (it is never replaced) or cannot be written, 2
 * on a usage error.
 */
public final class GeneratePolicyServerKey {
    private GeneratePolicyServerKey() {
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: GeneratePolicyServerKey <key file to create>");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        try {
            PolicyServerKey key = PolicyServerKey.generate(file);
            System.out.println("Wrote " + file + " (owner-only). Public key for the room's m.room.policy event:");
            System.out.println(key.publicKeyBase64());
        } catch (FileAlreadyExistsException exists) {
            System.err.println(file + " exists; a policy server key is never overwritten");
            System.exit(1);
        } catch (IOException failed) {
            System.err.println("Cannot write " + file + ": " + failed);
            System.exit(1);
        }
    }
}
