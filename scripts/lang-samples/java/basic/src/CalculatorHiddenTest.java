import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class CalculatorHiddenTest {
    @Test
    void sumsNegatives() {
        assertThat(Calculator.sum(List.of(-1, -2))).isEqualTo(-3);
    }

    @Test
    void nullListThrows() {
        assertThrows(NullPointerException.class, () -> Calculator.sum(null));
    }
}
