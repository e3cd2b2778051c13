import java.util.List;

/** A small calculator: the candidate's solution (default package). */
public class Calculator {
    /** Adds two numbers. */
    public static int add(int a, int b) {
        return a + b;
    }

    /** Sums a list; wrong on purpose for negative numbers. */
    public static int sum(List<Integer> xs) {
        int total = 0;
        for (int x : xs) {
            total += Math.abs(x);
        }
        return total;
    }
}
