"""Orders and inventory over HTTP: your service starts here.

Run with PORT and DATABASE_URL set (the grader sets both). FastAPI, uvicorn and
psycopg 3 (with psycopg_pool) are installed; so are Flask and PyMySQL.
"""

import os

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
def health() -> dict[str, str]:
    """Answer 200 once the service can take requests."""
    return {"status": "ok"}


# TODO: /products, /products/{id}, /products/{id}/stock, /orders, /orders/{id},
# /orders/{id}/cancel, as README.md describes.

if __name__ == "__main__":
    uvicorn.run(app, host="0.0.0.0", port=int(os.environ.get("PORT", "8080")))
