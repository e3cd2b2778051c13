import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The HTTP side of the orders service: routes, handlers and the error shape. */
public final class Api implements HttpHandler {
    private static final Map<String, Integer> STATUS = Map.of(
            "validation_failed", 422, "not_found", 404, "unknown_product", 422, "sku_taken", 409,
            "insufficient_stock", 409, "idempotency_key_reused", 409, "already_cancelled", 409);
    // A path with an id: the id is the second segment, anything but a positive integer names nothing.
    private static final Pattern WITH_ID = Pattern.compile("^/(products|orders)/([^/]+)(/[^/]+)?$");
    private static final Pattern ID = Pattern.compile("[1-9][0-9]{0,17}");
    private static final int MAX_BODY = 1 << 20;

    /** A request as the handlers see it. */
    private record Request(String route, long id, Map<String, String> query, HttpExchange exchange) {
    }

    /** An answer: status and body (serialised as JSON). */
    private record Answer(int status, Object body) {
    }

    private final Store store;
    private final ObjectMapper json = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    /** The API over {@code store}. */
    public Api(Store store) {
        this.store = store;
    }

    /** Answer one request (the server calls this on one of its threads). */
    @Override
    public void handle(HttpExchange exchange) throws IOException {
        Answer answer;
        try {
            answer = route(request(exchange));
        } catch (Invalid e) {
            answer = error("validation_failed", e.getMessage());
        } catch (Refused e) {
            answer = error(e.getMessage(), e.getMessage());
        } catch (SQLException | RuntimeException e) {
            System.err.println("internal error: " + e);
            answer = error("internal", "internal error");
        }
        byte[] body = json.writeValueAsBytes(answer.body());
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(answer.status(), body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private Answer route(Request r) throws IOException, SQLException {
        return switch (r.route()) {
            case "GET /healthz" -> new Answer(200, Map.of("status", "ok"));
            case "POST /products" -> new Answer(201, store.insertProduct(Validation.newProduct(body(r))));
            case "GET /products" -> new Answer(200, store.products(Validation.page(r.query()),
                    Validation.flag(r.query().get("in_stock"), "in_stock")));
            case "GET /products/{id}" -> new Answer(200, store.product(r.id()));
            case "POST /products/{id}/stock" -> new Answer(200,
                    store.changeStock(r.id(), Validation.stockDelta(body(r))));
            case "POST /orders" -> placeOrder(r);
            case "GET /orders" -> new Answer(200, store.orders(Validation.page(r.query()),
                    r.query().get("customer"), Validation.orderStatus(r.query().get("status"))));
            case "GET /orders/{id}" -> new Answer(200, store.order(r.id()));
            case "POST /orders/{id}/cancel" -> new Answer(200, store.cancel(r.id()));
            default -> error("not_found", "no route " + r.route());
        };
    }

    private Answer placeOrder(Request r) throws IOException, SQLException {
        Validation.NewOrder order = Validation.newOrder(body(r));
        String key = r.exchange().getRequestHeaders().getFirst("Idempotency-Key");
        if (key != null && key.length() > 200) {
            throw new Invalid("Idempotency-Key: at most 200 characters");
        }
        Store.Placed placed = store.placeOrder(order, key);
        return new Answer(placed.replayed() ? 200 : 201, placed.order());
    }

    // The route ("GET /products/{id}"), the id of the path and the query of a request.
    private static Request request(HttpExchange exchange) {
        String path = exchange.getRequestURI().getPath();
        String route = exchange.getRequestMethod() + " " + path;
        long id = 0;
        Matcher m = WITH_ID.matcher(path);
        if (m.matches()) {
            if (!ID.matcher(m.group(2)).matches()) {
                throw new Refused("not_found");
            }
            id = Long.parseLong(m.group(2));
            String rest = m.group(3) == null ? "" : m.group(3);
            route = exchange.getRequestMethod() + " /" + m.group(1) + "/{id}" + rest;
        }
        return new Request(route, id, query(exchange.getRequestURI().getRawQuery()), exchange);
    }

    // The query string's parameters (the first value of each).
    private static Map<String, String> query(String raw) {
        Map<String, String> params = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return params;
        }
        for (String pair : raw.split("&")) {
            String[] kv = pair.split("=", 2);
            params.putIfAbsent(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
                    kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
        }
        return params;
    }

    // The request body as JSON (a body that is not JSON does not validate).
    private JsonNode body(Request r) throws IOException {
        try (InputStream in = r.exchange().getRequestBody()) {
            byte[] raw = in.readNBytes(MAX_BODY);
            return json.readTree(raw);
        } catch (JsonProcessingException e) {
            throw new Invalid("body: not JSON");
        }
    }

    private static Answer error(String code, String message) {
        return new Answer(STATUS.getOrDefault(code, 500), Map.of("error", Map.of("code", code, "message", message)));
    }
}
