/** A request that does not validate: answered 422 validation_failed. */
public final class Invalid extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** A validation failure saying what is wrong. */
    public Invalid(String message) {
        super(message);
    }
}
