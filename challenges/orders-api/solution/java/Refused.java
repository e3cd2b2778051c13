/** Why the store refused a request; the message is the API's error code. */
public final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** A refusal with the API's error code. */
    public Refused(String code) {
        super(code);
    }
}
