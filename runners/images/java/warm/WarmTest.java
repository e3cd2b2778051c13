import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WarmTest {
    @Test
    void doubles() {
        assertThat(Warm.twice(List.of(1, 2))).containsExactly(2, 4);
    }

    @ParameterizedTest
    @CsvSource({"1, 2", "2, 4"})
    void param(int x, int y) {
        assertEquals(y, Warm.twice(List.of(x)).get(0));
    }

    @Nested
    class Inner {
        @Test
        void fails() {
            assertThat(1).isEqualTo(2);
        }
    }
}
