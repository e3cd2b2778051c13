import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/** A fixed set of database connections, each lent to one thread at a time. */
public final class Pool {
    /** Work done with a connection. */
    @FunctionalInterface
    public interface Work<T> {
        /** Do the work on {@code db}. */
        T run(Connection db) throws SQLException;
    }

    private final BlockingQueue<Connection> idle;

    private Pool(BlockingQueue<Connection> idle) {
        this.idle = idle;
    }

    /** A pool of {@code size} connections to a postgresql://user:password@host:port/name URL. */
    public static Pool fromUrl(String url, int size) throws SQLException {
        URI uri = URI.create(url);
        String[] credentials = uri.getRawUserInfo().split(":", 2);
        Properties props = new Properties();
        props.setProperty("user", URLDecoder.decode(credentials[0], StandardCharsets.UTF_8));
        props.setProperty("password", URLDecoder.decode(credentials[1], StandardCharsets.UTF_8));
        props.setProperty("sslmode", "disable");
        String jdbc = "jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + uri.getPath();
        BlockingQueue<Connection> idle = new ArrayBlockingQueue<>(size);
        for (int i = 0; i < size; i++) {
            idle.add(DriverManager.getConnection(jdbc, props));
        }
        return new Pool(idle);
    }

    /** Run {@code work} with a connection of the pool (in autocommit mode). */
    public <T> T with(Work<T> work) throws SQLException {
        Connection db;
        try {
            db = idle.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for a connection", e);
        }
        try {
            return work.run(db);
        } finally {
            idle.add(db);
        }
    }

    /** Run {@code work} in a transaction: committed when it returns, rolled back if it throws. */
    public <T> T transaction(Work<T> work) throws SQLException {
        return with(db -> {
            db.setAutoCommit(false);
            try {
                T result = work.run(db);
                db.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        });
    }
}
