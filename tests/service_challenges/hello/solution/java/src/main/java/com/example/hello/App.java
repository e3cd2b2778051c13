package com.example.hello;

import com.example.hello.web.Routes;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;

/** Hello, a main class in a package of a Maven-style layout. */
public final class App {
    private App() {
    }

    /** Serve on $PORT. */
    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(System.getenv("PORT"));
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        Routes.register(server);
        server.start();
    }
}
