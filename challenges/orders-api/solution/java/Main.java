import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.sql.SQLException;
import java.util.concurrent.Executors;

/** Orders and inventory over HTTP (the JDK's HttpServer), kept in PostgreSQL (JDBC). */
public final class Main {
    private Main() {
    }

    /** Create the tables, then serve on $PORT until the process is stopped. */
    public static void main(String[] args) throws IOException, SQLException {
        Pool pool = Pool.fromUrl(System.getenv("DATABASE_URL"), 10);
        Store store = new Store(pool);
        store.createSchema();
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
        HttpServer server = HttpServer.create(new InetSocketAddress("0.0.0.0", port), 128);
        server.createContext("/", new Api(store));
        // More threads than connections: a request waits for a connection, not a thread.
        server.setExecutor(Executors.newFixedThreadPool(16));
        server.start();
        System.out.println("listening on :" + port);
    }
}
