"""Notes kept in MySQL (PyMySQL), how often each is read counted in Redis."""

import json
import os
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pymysql
import redis

CACHE = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)


def connect() -> pymysql.connections.Connection:
    """A connection to the run's MySQL (MariaDB), from the MYSQL_* variables."""
    return pymysql.connect(
        host=os.environ["MYSQL_HOST"],
        port=int(os.environ["MYSQL_PORT"]),
        user=os.environ["MYSQL_USER"],
        password=os.environ["MYSQL_PASSWORD"],
        database=os.environ["MYSQL_DATABASE"],
        autocommit=True,
        cursorclass=pymysql.cursors.DictCursor,
    )


class Handler(BaseHTTPRequestHandler):
    """POST /notes, GET /notes/<id> (counts a view), GET /healthz."""

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
        match = re.fullmatch(r"/notes/(\d+)", self.path)
        if match is None:
            self._send(404, {"error": "not found"})
            return
        with connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT id, author, title, body FROM notes WHERE id = %s", (match[1],))
            note = cur.fetchone()
            if note is None:
                self._send(404, {"error": "not found"})
                return
            cur.execute("SELECT tag FROM note_tags WHERE note_id = %s ORDER BY tag", (note["id"],))
            note["tags"] = [row["tag"] for row in cur.fetchall()]
        note["views"] = CACHE.incr(f"views:{note['id']}")
        self._send(200, note)

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        if self.path != "/notes":
            self._send(404, {"error": "not found"})
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        with connect() as conn, conn.cursor() as cur:
            try:
                cur.execute(
                    "INSERT INTO notes (author, title, body) VALUES (%s, %s, %s)",
                    (body["author"], body["title"], body.get("body")),
                )
            except pymysql.err.IntegrityError:
                self._send(409, {"error": "this author has a note with this title"})
                return
            note_id = cur.lastrowid
            for tag in sorted(set(body.get("tags", []))):
                cur.execute("INSERT INTO note_tags (note_id, tag) VALUES (%s, %s)", (note_id, tag))
        self._send(201, {"id": note_id})

    def log_message(self, *args: object) -> None:
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
