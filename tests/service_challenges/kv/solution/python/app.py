"""A key-value store over HTTP, kept in PostgreSQL."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

DSN = os.environ["DATABASE_URL"]


class Handler(BaseHTTPRequestHandler):
    """GET/PUT /kv/<key>, GET /healthz."""

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        if self.path == "/healthz":
            self._send(200, {"ok": True})
            return
        key = self.path.removeprefix("/kv/")
        with psycopg.connect(DSN) as conn:
            row = conn.execute("SELECT value FROM kv WHERE key = %s", (key,)).fetchone()
        if row is None:
            self._send(404, {"error": "not found"})
        else:
            self._send(200, {"key": key, "value": row[0]})

    def do_PUT(self) -> None:  # noqa: N802 - the standard library's name
        key = self.path.removeprefix("/kv/")
        length = int(self.headers.get("Content-Length", "0"))
        value = json.loads(self.rfile.read(length))["value"]
        with psycopg.connect(DSN) as conn:
            conn.execute(
                "INSERT INTO kv (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (key, value),
            )
        self._send(200, {"key": key, "value": value})


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
