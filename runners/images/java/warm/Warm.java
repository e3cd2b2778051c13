import java.util.ArrayList;
import java.util.List;

public class Warm {
    public static List<Integer> twice(List<Integer> xs) {
        List<Integer> out = new ArrayList<>();
        for (int x : xs) {
            out.add(2 * x);
        }
        return out;
    }
}
