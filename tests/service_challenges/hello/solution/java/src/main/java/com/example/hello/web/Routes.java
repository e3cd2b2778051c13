package com.example.hello.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.util.Map;

/** The routes of the hello service (Jackson writes the JSON). */
public final class Routes {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Routes() {
    }

    /** Register every route on the server. */
    public static void register(HttpServer server) {
        server.createContext("/healthz", ex -> send(ex, 200, "ok".getBytes()));
        server.createContext("/hello", ex -> {
            String query = ex.getRequestURI().getQuery();
            String name = query == null ? "" : query.replaceFirst("^name=", "");
            send(ex, 200, JSON.writeValueAsBytes(Map.of("hello", name)));
        });
        server.createContext("/", ex -> send(ex, 404, new byte[0]));
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        ex.getResponseBody().write(body);
        ex.close();
    }
}
