/** Spins forever for a negative input, ignoring interrupts. */
public class Spin {
    public static int run(int n) {
        long x = 0;
        while (n < 0) {
            x++;
        }
        return n + (int) (x % 1);
    }
}
