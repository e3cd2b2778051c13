import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Checks of request bodies and query strings: each returns the clean value or throws Invalid. */
public final class Validation {
    private static final Pattern SKU = Pattern.compile("[A-Z0-9-]{3,32}");
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,9}");
    private static final long INT_MAX = Integer.MAX_VALUE;

    /** A new product: what POST /products takes. */
    public record NewProduct(String sku, String name, int priceCents, int stock) {
    }

    /** One line of a new order. */
    public record NewItem(long productId, int quantity) {
    }

    /** A new order: what POST /orders takes. */
    public record NewOrder(String customer, List<NewItem> items) {
    }

    /** The limit and offset of a list request. */
    public record Page(int limit, int offset) {
    }

    private Validation() {
    }

    /** A JSON integer (not a float, a string or a boolean) from min to max. */
    public static long integer(JsonNode value, String name, long min, long max) {
        if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()
                || value.asLong() < min || value.asLong() > max) {
            throw new Invalid(name + ": an integer from " + min + " to " + max + " is required");
        }
        return value.asLong();
    }

    /** A JSON string of min to max characters. */
    public static String text(JsonNode value, String name, int min, int max) {
        String s = value != null && value.isTextual() ? value.asText() : null;
        int length = s == null ? -1 : s.codePointCount(0, s.length());
        if (length < min || length > max) {
            throw new Invalid(name + ": a string of " + min + " to " + max + " characters is required");
        }
        return s;
    }

    /** The body as a JSON object (a list or a scalar is not one). */
    public static JsonNode object(JsonNode body, String name) {
        if (body == null || !body.isObject()) {
            throw new Invalid(name + ": a JSON object is required");
        }
        return body;
    }

    /** The body of POST /products: sku, name, price_cents and stock (default 0). */
    public static NewProduct newProduct(JsonNode body) {
        object(body, "body");
        String sku = text(body.get("sku"), "sku", 3, 32);
        if (!SKU.matcher(sku).matches()) {
            throw new Invalid("sku: A-Z, 0-9 and - only");
        }
        String name = text(body.get("name"), "name", 1, 200);
        int price = (int) integer(body.get("price_cents"), "price_cents", 0, INT_MAX);
        int stock = body.has("stock") ? (int) integer(body.get("stock"), "stock", 0, INT_MAX) : 0;
        return new NewProduct(sku, name, price, stock);
    }

    /** The delta of POST /products/{id}/stock. */
    public static int stockDelta(JsonNode body) {
        return (int) integer(object(body, "body").get("delta"), "delta", -INT_MAX, INT_MAX);
    }

    /** The body of POST /orders: a customer and 1 to 50 items, each product once. */
    public static NewOrder newOrder(JsonNode body) {
        object(body, "body");
        String customer = text(body.get("customer"), "customer", 1, 100);
        JsonNode items = body.get("items");
        if (items == null || !items.isArray() || items.size() < 1 || items.size() > 50) {
            throw new Invalid("items: a list of 1 to 50 items is required");
        }
        List<NewItem> clean = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < items.size(); i++) {
            JsonNode line = object(items.get(i), "items[" + i + "]");
            long id = integer(line.get("product_id"), "items[" + i + "].product_id", 1, Long.MAX_VALUE);
            int quantity = (int) integer(line.get("quantity"), "items[" + i + "].quantity", 1, 10_000);
            if (!seen.add(id)) {
                throw new Invalid("items: product " + id + " appears twice");
            }
            clean.add(new NewItem(id, quantity));
        }
        return new NewOrder(customer, clean);
    }

    /** limit (1-100, default 20) and offset (at least 0, default 0) of a list request. */
    public static Page page(Map<String, String> query) {
        int limit = queryInteger(query.get("limit"), "limit", 1, 100, 20);
        int offset = queryInteger(query.get("offset"), "offset", 0, Integer.MAX_VALUE, 0);
        return new Page(limit, offset);
    }

    /** A boolean query parameter: true or false (1 or 0; absent: false). */
    public static boolean flag(String value, String name) {
        if (value == null || "false".equals(value) || "0".equals(value)) {
            return false;
        }
        if ("true".equals(value) || "1".equals(value)) {
            return true;
        }
        throw new Invalid(name + ": true or false");
    }

    /** The status filter of GET /orders: placed, cancelled or absent (null). */
    public static String orderStatus(String value) {
        if (value != null && !"placed".equals(value) && !"cancelled".equals(value)) {
            throw new Invalid("status: placed or cancelled");
        }
        return value;
    }

    private static int queryInteger(String value, String name, int min, int max, int fallback) {
        if (value == null) {
            return fallback;
        }
        if (!DIGITS.matcher(value).matches()) {
            throw new Invalid(name + ": an integer from " + min + " to " + max + " is required");
        }
        int n = Integer.parseInt(value);
        if (n < min || n > max) {
            throw new Invalid(name + ": an integer from " + min + " to " + max + " is required");
        }
        return n;
    }
}
