import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/** A helper beside the hidden tests (not a test itself): cases they share. */
final class Samples {
    private Samples() {
    }

    static Stream<Arguments> subtractive() {
        return Stream.of(
            Arguments.of(4, "IV"), Arguments.of(9, "IX"), Arguments.of(40, "XL"), Arguments.of(1994, "MCMXCIV"));
    }
}
