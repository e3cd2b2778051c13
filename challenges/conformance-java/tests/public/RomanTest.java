import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RomanTest {
    @ParameterizedTest
    @CsvSource({"1, I", "3, III", "30, XXX"})
    void additiveNumbers(int n, String numeral) {
        assertThat(Roman.toRoman(n)).isEqualTo(numeral);
    }

    @Test
    void rejectsZero() {
        assertThatThrownBy(() -> Roman.toRoman(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
