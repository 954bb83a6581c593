package org.cotrain.config;

import java.util.Collection;
import java.util.Comparator;

/** "Did you mean ...?" for misspelt keys: the closest known key by edit distance. */
public final class KeySuggestion {

    private KeySuggestion() {}

    /** The known key closest to {@code key} (smallest edit distance, then longest common prefix). */
    public static String closest(String key, Collection<String> known) {
        return known.stream()
                .min(Comparator.<String>comparingInt(k -> editDistance(key, k)).thenComparing(k -> -commonPrefix(key, k)))
                .orElseThrow();
    }

    /** Levenshtein distance: the fewest single-character insertions, deletions and substitutions from a to b. */
    public static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitute, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.length()];
    }

    static int commonPrefix(String a, String b) {
        int n = 0;
        while (n < a.length() && n < b.length() && a.charAt(n) == b.charAt(n)) {
            n++;
        }
        return n;
    }
}
