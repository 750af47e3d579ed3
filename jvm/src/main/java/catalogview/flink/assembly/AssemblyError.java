package catalogview.flink.assembly;

/** An event that cannot be assembled or applied; the message names where it came from and why. */
public class AssemblyError extends Exception {
    private static final long serialVersionUID = 1L;

    public AssemblyError(String message) {
        super(message);
    }

    public AssemblyError(String message, Throwable cause) {
        super(message, cause);
    }
}
