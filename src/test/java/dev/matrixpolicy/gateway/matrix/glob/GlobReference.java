package dev.matrixpolicy.gateway.matrix.glob;

import java.util.Random;
import java.util.regex.Pattern;

/**
 * What the tests of globs check against ({@code GlobAutomatonTest}, and {@code UserIdMatcherTest} of
 * the package above): a glob as the regular expression it means, and random strings to try on both.
 */
public final class GlobReference {
    private GlobReference() {
    }

    public static String randomString(Random random, String alphabet, int maxLength) {
        StringBuilder value = new StringBuilder();
        int length = random.nextInt(maxLength + 1);
        for (int i = 0; i < length; i++) {
            value.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return value.toString();
    }

    public static Pattern asRegex(String glob) {
        StringBuilder regex = new StringBuilder();
        for (char c : glob.toCharArray()) {
            regex.append(switch (c) {
                case '*' -> ".*";
                case '?' -> ".";
                default -> Pattern.quote(String.valueOf(c));
            });
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }
}
