package dev.matrixpolicy.bench;

import java.util.ArrayList;
import java.util.List;

/** A realistic denylist of the given size: whole servers, localpart prefixes and infixes. */
public final class Globs {
    private Globs() {
    }

    public static List<String> denylist(int size) {
        List<String> globs = new ArrayList<>(size);
        for (int i = 0; globs.size() < size; i++) {
            switch (i % 3) {
                case 0 -> globs.add("*:spam" + i + ".example");
                case 1 -> globs.add("@airdrop" + i + "-*:*");
                default -> globs.add("@*crypto" + i + "?bot*");
            }
        }
        return globs;
    }
}
