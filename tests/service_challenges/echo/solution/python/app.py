"""Echo over HTTP."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    """GET /healthz, GET /echo?x=..."""

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        """Answer the health check and echo requests."""
        url = urlsplit(self.path)
        if url.path == "/healthz":
            body: object = {"ok": True}
        elif url.path == "/echo":
            body = {k: v[0] for k, v in parse_qs(url.query).items()}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
