import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;

/** Only the health check. */
public final class Main {
    private Main() {
    }

    /** Serve on $PORT. */
    public static void main(String[] args) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(Integer.parseInt(System.getenv("PORT"))), 0);
        server.createContext("/", ex -> {
            ex.sendResponseHeaders("/healthz".equals(ex.getRequestURI().getPath()) ? 200 : 404, -1);
            ex.close();
        });
        server.start();
    }
}
