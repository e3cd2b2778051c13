import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * Orders and inventory over HTTP: your service starts here.
 *
 * <p>Run with PORT and DATABASE_URL set (the grader sets both; DATABASE_URL is
 * postgresql://user:password@host:port/name, also given as PGHOST, PGPORT, PGUSER,
 * PGPASSWORD and PGDATABASE). The JDK's HttpServer serves HTTP; the PostgreSQL JDBC
 * driver (jdbc:postgresql://host:port/name) and Jackson are on the class path.
 */
public final class Main {
    private Main() {
    }

    /** Serve on $PORT until the process is stopped. */
    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
        HttpServer server = HttpServer.create(new InetSocketAddress("0.0.0.0", port), 128);
        server.createContext("/healthz", exchange -> send(exchange, 200, "{\"status\":\"ok\"}"));
        // TODO: /products, /products/{id}, /products/{id}/stock, /orders, /orders/{id},
        // /orders/{id}/cancel, as README.md describes (create your tables at start-up).
        server.createContext("/", exchange -> send(exchange, 404,
                "{\"error\":{\"code\":\"not_found\",\"message\":\"not written yet\"}}"));
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.start();
    }

    private static void send(HttpExchange exchange, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
