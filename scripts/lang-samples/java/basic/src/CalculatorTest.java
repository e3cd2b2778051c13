import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CalculatorTest {
    @Test
    void addsTwoNumbers() {
        assertThat(Calculator.add(2, 3)).isEqualTo(5);
    }

    @ParameterizedTest
    @CsvSource({"1, 1, 2", "2, 2, 4", "-1, 1, 0"})
    void addsMany(int a, int b, int sum) {
        assertThat(Calculator.add(a, b)).isEqualTo(sum);
    }

    @Nested
    class Sums {
        @Test
        void positive() {
            assertThat(Calculator.sum(List.of(1, 2, 3))).isEqualTo(6);
        }
    }
}
