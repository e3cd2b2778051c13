/** Roman numerals from 1 to 3999. */
public final class Roman {
    private static final int[] VALUES = {1000, 500, 100, 50, 10, 5, 1};
    private static final String[] SYMBOLS = {"M", "D", "C", "L", "X", "V", "I"};

    private Roman() {
    }

    /**
     * The Roman numeral of a number.
     *
     * @param n a number from 1 to 3999
     * @return its numeral, with subtractive forms
     */
    public static String toRoman(int n) {
        if (n < 1 || n > 3999) {
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
        throw new UnsupportedOperationException("TODO");
    }
}
