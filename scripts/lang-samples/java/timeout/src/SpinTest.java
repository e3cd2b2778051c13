import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SpinTest {
    @Test
    void loopsForever() {
        assertThat(Spin.run(-1)).isZero();
    }

    @Test
    void returns() {
        assertThat(Spin.run(2)).isEqualTo(2);
    }
}
