"""Hello (Flask), started as server.py."""

import os

from flask import Flask, request

app = Flask(__name__)


@app.get("/healthz")
def health() -> dict[str, bool]:
    """Ready."""
    return {"ok": True}


@app.get("/hello")
def hello() -> dict[str, str]:
    """Greet the caller."""
    return {"hello": request.args.get("name", "")}


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ["PORT"]), threaded=True)
