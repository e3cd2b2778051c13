/** Roman numerals from 1 to 3999. */
public final class Roman {
    private static final int[] VALUES = {1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1};
    private static final String[] SYMBOLS =
        {"M", "CM", "D", "CD", "C", "XC", "L", "XL", "X", "IX", "V", "IV", "I"};

    private Roman() {
    }

    /**
     * The Roman numeral of a number.
     *
     * @param n a number from 1 to 3999
     * @return its numeral, with subtractive forms
     */
    public static String toRoman(int n) {
        if (n < 1 || n >= 3999) {
            throw new IllegalArgumentException("out of range: " + n);
        }
        StringBuilder out = new StringBuilder();
        int rest = n;
        for (int i = 0; i < VALUES.length; i++) {
            while (rest >= VALUES[i]) {
                out.append(SYMBOLS[i]);
                rest -= VALUES[i];
            }
        }
        return out.toString();
    }

    /**
     * The number a Roman numeral stands for.
     *
     * @param s a numeral as {@link #toRoman} writes it
     * @return its value
     */
    public static int fromRoman(String s) {
        int total = 0;
        int at = 0;
        for (int i = 0; i < VALUES.length; i++) {
            while (s.startsWith(SYMBOLS[i], at)) {
                total += VALUES[i];
                at += SYMBOLS[i].length();
            }
        }
        if (at != s.length() || total == 0) {
            throw new IllegalArgumentException("not a numeral: " + s);
        }
        return total;
    }
}
