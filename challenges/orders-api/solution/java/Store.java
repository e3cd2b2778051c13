import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The SQL of the orders service (JDBC). Stock changes are single conditional UPDATEs, so
 * concurrent requests never lose a write or oversell; an order's items are taken in
 * product order inside one transaction, all or nothing.
 */
public final class Store {
    private static final String SCHEMA = """
        CREATE TABLE IF NOT EXISTS products (
            id          BIGSERIAL PRIMARY KEY,
            sku         TEXT NOT NULL UNIQUE,
            name        TEXT NOT NULL,
            price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
            stock       INTEGER NOT NULL CHECK (stock >= 0)
        );
        CREATE TABLE IF NOT EXISTS orders (
            id              BIGSERIAL PRIMARY KEY,
            customer        TEXT NOT NULL,
            status          TEXT NOT NULL DEFAULT 'placed'
                            CHECK (status IN ('placed', 'cancelled')),
            total_cents     BIGINT NOT NULL,
            created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
            idempotency_key TEXT UNIQUE,
            request_hash    TEXT
        );
        CREATE INDEX IF NOT EXISTS orders_customer_status_idx ON orders (customer, status);
        CREATE TABLE IF NOT EXISTS order_items (
            order_id         BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
            product_id       BIGINT NOT NULL REFERENCES products (id),
            quantity         INTEGER NOT NULL CHECK (quantity > 0),
            unit_price_cents INTEGER NOT NULL,
            PRIMARY KEY (order_id, product_id)
        );
        """;
    private static final String PRODUCT = "id, sku, name, price_cents, stock";
    private static final String ORDER = "id, customer, status, total_cents, created_at";

    /** A product, as the API shows it. */
    public record Product(long id, String sku, String name, int priceCents, int stock) {
    }

    /** One line of an order, at the product's price when the order was placed. */
    public record Item(long productId, int quantity, int unitPriceCents) {
    }

    /** An order with its items, as the API shows it. */
    public record Order(long id, String customer, String status, long totalCents, String createdAt,
            List<Item> items) {
    }

    /** A page of a list, and how many items match in all. */
    public record Page<T>(List<T> items, long total, int limit, int offset) {
    }

    /** A placed order, and whether it was a repeat of an earlier request. */
    public record Placed(Order order, boolean replayed) {
    }

    private final Pool pool;

    /** The store over a connection pool. */
    public Store(Pool pool) {
        this.pool = pool;
    }

    /** Create the tables (idempotent: a restart finds them). */
    public void createSchema() throws SQLException {
        pool.with(db -> {
            try (Statement st = db.createStatement()) {
                st.execute(SCHEMA);
            }
            return null;
        });
    }

    /** The new product; Refused("sku_taken") when its SKU exists. */
    public Product insertProduct(Validation.NewProduct p) throws SQLException {
        return pool.with(db -> {
            try (PreparedStatement st = db.prepareStatement("INSERT INTO products (sku, name, price_cents, stock) "
                    + "VALUES (?, ?, ?, ?) ON CONFLICT (sku) DO NOTHING RETURNING " + PRODUCT)) {
                st.setString(1, p.sku());
                st.setString(2, p.name());
                st.setInt(3, p.priceCents());
                st.setInt(4, p.stock());
                return firstProduct(st).orElseThrow(() -> new Refused("sku_taken"));
            }
        });
    }

    /** One product; Refused("not_found") when there is none. */
    public Product product(long id) throws SQLException {
        return pool.with(db -> findProduct(db, id));
    }

    /** A page of products in id order; {@code inStock} leaves out those with none. */
    public Page<Product> products(Validation.Page page, boolean inStock) throws SQLException {
        String where = inStock ? " WHERE stock > 0" : "";
        return pool.with(db -> {
            List<Product> items = new ArrayList<>();
            try (PreparedStatement st = db.prepareStatement("SELECT " + PRODUCT + " FROM products" + where
                    + " ORDER BY id LIMIT ? OFFSET ?")) {
                st.setInt(1, page.limit());
                st.setInt(2, page.offset());
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        items.add(product(rs));
                    }
                }
            }
            long total = count(db, "SELECT count(*) FROM products" + where, List.of());
            return new Page<>(items, total, page.limit(), page.offset());
        });
    }

    /** Add {@code delta} in one conditional UPDATE: concurrent changes all apply, never below 0. */
    public Product changeStock(long id, int delta) throws SQLException {
        return pool.with(db -> {
            try (PreparedStatement st = db.prepareStatement("UPDATE products SET stock = stock + ? "
                    + "WHERE id = ? AND stock + ? >= 0 RETURNING " + PRODUCT)) {
                st.setInt(1, delta);
                st.setLong(2, id);
                st.setInt(3, delta);
                var changed = firstProduct(st);
                if (changed.isPresent()) {
                    return changed.get();
                }
            }
            findProduct(db, id);
            throw new Refused("insufficient_stock");
        });
    }

    /** One order with its items; Refused("not_found") when there is none. */
    public Order order(long id) throws SQLException {
        return pool.with(db -> findOrder(db, id));
    }

    /**
     * Place an order: every item is taken from stock in one transaction, or none is. With a
     * key, a repeat of the same request finds the order the first one made.
     */
    public Placed placeOrder(Validation.NewOrder order, String key) throws SQLException {
        String hash = fingerprint(order);
        return pool.transaction(db -> {
            Long id;
            try (PreparedStatement st = db.prepareStatement("INSERT INTO orders (customer, total_cents, "
                    + "idempotency_key, request_hash) VALUES (?, 0, ?, ?) "
                    + "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id")) {
                st.setString(1, order.customer());
                st.setString(2, key);
                st.setString(3, hash);
                try (ResultSet rs = st.executeQuery()) {
                    id = rs.next() ? rs.getLong(1) : null;
                }
            }
            if (id == null) {
                // Another request with this key committed first (PostgreSQL waited for it).
                return new Placed(replay(db, key, hash), true);
            }
            return new Placed(fill(db, id, order.items()), false);
        });
    }

    /** A page of orders in id order, filtered by customer and status (null: any). */
    public Page<Order> orders(Validation.Page page, String customer, String status) throws SQLException {
        List<String> conditions = new ArrayList<>();
        List<String> args = new ArrayList<>();
        if (customer != null) {
            conditions.add("customer = ?");
            args.add(customer);
        }
        if (status != null) {
            conditions.add("status = ?");
            args.add(status);
        }
        String where = conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
        return pool.with(db -> {
            long total = count(db, "SELECT count(*) FROM orders" + where, args);
            List<Long> ids = new ArrayList<>();
            try (PreparedStatement st = db.prepareStatement("SELECT id FROM orders" + where
                    + " ORDER BY id LIMIT ? OFFSET ?")) {
                for (int i = 0; i < args.size(); i++) {
                    st.setString(i + 1, args.get(i));
                }
                st.setInt(args.size() + 1, page.limit());
                st.setInt(args.size() + 2, page.offset());
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                    }
                }
            }
            List<Order> items = new ArrayList<>();
            for (long id : ids) {
                items.add(findOrder(db, id));
            }
            return new Page<>(items, total, page.limit(), page.offset());
        });
    }

    /** Cancel a placed order and put its items back in stock. */
    public Order cancel(long id) throws SQLException {
        return pool.transaction(db -> {
            try (PreparedStatement st = db.prepareStatement("SELECT status FROM orders WHERE id = ? FOR UPDATE")) {
                st.setLong(1, id);
                try (ResultSet rs = st.executeQuery()) {
                    if (!rs.next()) {
                        throw new Refused("not_found");
                    }
                    if ("cancelled".equals(rs.getString(1))) {
                        throw new Refused("already_cancelled");
                    }
                }
            }
            update(db, "UPDATE products p SET stock = p.stock + i.quantity FROM order_items i "
                    + "WHERE i.order_id = ? AND p.id = i.product_id", id);
            update(db, "UPDATE orders SET status = 'cancelled' WHERE id = ?", id);
            return findOrder(db, id);
        });
    }

    // Take each item from stock (in product order: two orders never wait on each other's
    // rows in a cycle), record it, and set the order's total.
    private Order fill(Connection db, long id, List<Validation.NewItem> items) throws SQLException {
        List<Validation.NewItem> sorted = new ArrayList<>(items);
        sorted.sort(Comparator.comparingLong(Validation.NewItem::productId));
        long total = 0;
        for (Validation.NewItem item : sorted) {
            int price = take(db, item.productId(), item.quantity());
            try (PreparedStatement st = db.prepareStatement("INSERT INTO order_items "
                    + "(order_id, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?)")) {
                st.setLong(1, id);
                st.setLong(2, item.productId());
                st.setInt(3, item.quantity());
                st.setInt(4, price);
                st.executeUpdate();
            }
            total += (long) price * item.quantity();
        }
        try (PreparedStatement st = db.prepareStatement("UPDATE orders SET total_cents = ? WHERE id = ?")) {
            st.setLong(1, total);
            st.setLong(2, id);
            st.executeUpdate();
        }
        return findOrder(db, id);
    }

    private int take(Connection db, long productId, int quantity) throws SQLException {
        try (PreparedStatement st = db.prepareStatement("UPDATE products SET stock = stock - ? "
                + "WHERE id = ? AND stock >= ? RETURNING price_cents")) {
            st.setInt(1, quantity);
            st.setLong(2, productId);
            st.setInt(3, quantity);
            try (ResultSet rs = st.executeQuery()) {
                if (rs.next()) {
                    return rs.getInt(1);
                }
            }
        }
        boolean exists = count(db, "SELECT count(*) FROM products WHERE id = ?", List.of(productId)) > 0;
        throw new Refused(exists ? "insufficient_stock" : "unknown_product");
    }

    private Order replay(Connection db, String key, String hash) throws SQLException {
        try (PreparedStatement st = db.prepareStatement("SELECT id, request_hash FROM orders "
                + "WHERE idempotency_key = ?")) {
            st.setString(1, key);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next() || !hash.equals(rs.getString(2))) {
                    throw new Refused("idempotency_key_reused");
                }
                return findOrder(db, rs.getLong(1));
            }
        }
    }

    private static Product findProduct(Connection db, long id) throws SQLException {
        try (PreparedStatement st = db.prepareStatement("SELECT " + PRODUCT + " FROM products WHERE id = ?")) {
            st.setLong(1, id);
            return firstProduct(st).orElseThrow(() -> new Refused("not_found"));
        }
    }

    private static Order findOrder(Connection db, long id) throws SQLException {
        List<Item> items = new ArrayList<>();
        try (PreparedStatement st = db.prepareStatement("SELECT product_id, quantity, unit_price_cents "
                + "FROM order_items WHERE order_id = ? ORDER BY product_id")) {
            st.setLong(1, id);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    items.add(new Item(rs.getLong(1), rs.getInt(2), rs.getInt(3)));
                }
            }
        }
        try (PreparedStatement st = db.prepareStatement("SELECT " + ORDER + " FROM orders WHERE id = ?")) {
            st.setLong(1, id);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    throw new Refused("not_found");
                }
                String created = rs.getObject(5, OffsetDateTime.class).withOffsetSameInstant(ZoneOffset.UTC)
                        .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
                return new Order(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4), created, items);
            }
        }
    }

    private static Optional<Product> firstProduct(PreparedStatement st) throws SQLException {
        try (ResultSet rs = st.executeQuery()) {
            return rs.next() ? Optional.of(product(rs)) : Optional.empty();
        }
    }

    private static Product product(ResultSet rs) throws SQLException {
        return new Product(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4), rs.getInt(5));
    }

    private static long count(Connection db, String sql, List<?> args) throws SQLException {
        try (PreparedStatement st = db.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                st.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static void update(Connection db, String sql, long id) throws SQLException {
        try (PreparedStatement st = db.prepareStatement(sql)) {
            st.setLong(1, id);
            st.executeUpdate();
        }
    }

    private static String fingerprint(Validation.NewOrder order) {
        StringBuilder canonical = new StringBuilder(order.customer()).append('\0');
        for (Validation.NewItem item : order.items()) {
            canonical.append(item.productId()).append(':').append(item.quantity()).append(',');
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing", e);
        }
    }
}
