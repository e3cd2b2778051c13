"""Orders and inventory over HTTP (FastAPI), kept in PostgreSQL (psycopg 3).

Stock changes are single conditional UPDATEs, so concurrent requests never lose a
write or oversell; an order's items are taken in product order inside one transaction,
all or nothing. An ``Idempotency-Key`` is a unique column of the order: a retry finds
the order its first attempt made.
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import store
import uvicorn
from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from pydantic import BaseModel, Field, StrictInt

POOL = ConnectionPool(
    os.environ["DATABASE_URL"],
    min_size=2,
    max_size=10,
    open=False,
    kwargs={"row_factory": dict_row},
)


class ApiError(Exception):
    """An error answer: HTTP status, error code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class NewProduct(BaseModel):
    """The body of POST /products."""

    sku: Annotated[str, Field(pattern=r"^[A-Z0-9-]{3,32}$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    price_cents: Annotated[StrictInt, Field(ge=0)]
    stock: Annotated[StrictInt, Field(ge=0)] = 0


class StockChange(BaseModel):
    """The body of POST /products/{id}/stock."""

    delta: StrictInt


class Item(BaseModel):
    """One line of an order."""

    product_id: StrictInt
    quantity: Annotated[StrictInt, Field(ge=1, le=10_000)]


class NewOrder(BaseModel):
    """The body of POST /orders."""

    customer: Annotated[str, Field(min_length=1, max_length=100)]
    items: Annotated[list[Item], Field(min_length=1, max_length=50)]


@asynccontextmanager
async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
    """Open the pool and create the tables before the first request."""
    POOL.open(wait=True)
    with POOL.connection() as conn:
        store.create_schema(conn)
    yield
    POOL.close()


app = FastAPI(lifespan=lifespan)


@app.exception_handler(ApiError)
async def api_error(_: Request, exc: ApiError) -> JSONResponse:
    """Every error as {"error": {"code", "message"}}."""
    return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, exc.status)


@app.exception_handler(RequestValidationError)
async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
    """Bodies and query parameters that do not validate: 422."""
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = f"{where}: {first.get('msg', 'invalid')}"
    return JSONResponse({"error": {"code": "validation_failed", "message": message}}, 422)


def _id(raw: str) -> int:
    """A path id; anything but a positive integer names nothing."""
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(404, "not_found", f"no such resource: {raw[:40]}")
    return int(raw)


Limit = Annotated[int, Query(ge=1, le=100)]
Offset = Annotated[int, Query(ge=0)]


@app.get("/healthz")
def health() -> dict[str, str]:
    """Ready once the tables exist."""
    return {"status": "ok"}


@app.post("/products", status_code=201)
def create_product(body: NewProduct) -> dict[str, Any]:
    """Add a product; its SKU is unique."""
    with POOL.connection() as conn:
        product = store.insert_product(conn, body.sku, body.name, body.price_cents, body.stock)
    if product is None:
        raise ApiError(409, "sku_taken", f"a product with SKU {body.sku} exists")
    return product


@app.get("/products")
def list_products(limit: Limit = 20, offset: Offset = 0, in_stock: bool = False) -> dict:
    """A page of products in id order; ``in_stock`` leaves out those with none."""
    with POOL.connection() as conn:
        items, total = store.list_products(conn, limit, offset, in_stock)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@app.get("/products/{product_id}")
def get_product(product_id: str) -> dict[str, Any]:
    """One product."""
    with POOL.connection() as conn:
        product = store.get_product(conn, _id(product_id))
    if product is None:
        raise ApiError(404, "not_found", f"no product {product_id}")
    return product


@app.post("/products/{product_id}/stock")
def change_stock(product_id: str, body: StockChange) -> dict[str, Any]:
    """Add ``delta`` (negative: take) to a product's stock, never below zero."""
    pid = _id(product_id)
    with POOL.connection() as conn:
        product = store.change_stock(conn, pid, body.delta)
        if product is None:
            if store.get_product(conn, pid) is None:
                raise ApiError(404, "not_found", f"no product {product_id}")
            raise ApiError(409, "insufficient_stock", "stock cannot go below zero")
    return product


def _fingerprint(body: NewOrder) -> str:
    canonical = json.dumps(body.model_dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@app.post("/orders", status_code=201)
def place_order(
    body: NewOrder,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Any:
    """Place an order: all its items are taken from stock, or none are."""
    ids = [i.product_id for i in body.items]
    if len(set(ids)) != len(ids):
        raise ApiError(422, "validation_failed", "items: each product appears once")
    with POOL.connection() as conn:
        outcome, order = store.place_order(
            conn,
            body.customer,
            [(i.product_id, i.quantity) for i in body.items],
            idempotency_key,
            _fingerprint(body),
        )
    if outcome == "replayed":
        return JSONResponse(order, 200)
    errors = {
        "unknown_product": (422, "an item names a product that does not exist"),
        "insufficient_stock": (409, "not enough stock for every item"),
        "idempotency_key_reused": (
            409,
            "this Idempotency-Key was used for another order",
        ),
    }
    if outcome in errors:
        status, message = errors[outcome]
        raise ApiError(status, outcome, message)
    return order


@app.get("/orders")
def list_orders(
    limit: Limit = 20,
    offset: Offset = 0,
    customer: str | None = None,
    status: Literal["placed", "cancelled"] | None = None,
) -> dict[str, Any]:
    """A page of orders in id order, filtered by customer and status."""
    with POOL.connection() as conn:
        items, total = store.list_orders(conn, limit, offset, customer, status)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@app.get("/orders/{order_id}")
def get_order(order_id: str) -> dict[str, Any]:
    """One order with its items."""
    with POOL.connection() as conn:
        order = store.get_order(conn, _id(order_id))
    if order is None:
        raise ApiError(404, "not_found", f"no order {order_id}")
    return order


@app.post("/orders/{order_id}/cancel")
def cancel_order(order_id: str) -> dict[str, Any]:
    """Cancel a placed order; its items go back to stock."""
    with POOL.connection() as conn:
        outcome, order = store.cancel_order(conn, _id(order_id))
    if outcome == "not_found":
        raise ApiError(404, "not_found", f"no order {order_id}")
    if outcome == "already_cancelled":
        raise ApiError(409, "already_cancelled", "the order is already cancelled")
    return order


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="0.0.0.0",
        port=int(os.environ.get("PORT", "8080")),
        log_level="warning",
    )
