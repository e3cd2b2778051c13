"""The SQL of the orders service: schema, products, orders (psycopg 3, dict rows)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import Connection

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id          BIGSERIAL PRIMARY KEY,
    sku         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    stock       INTEGER NOT NULL CHECK (stock >= 0)
);
CREATE TABLE IF NOT EXISTS orders (
    id              BIGSERIAL PRIMARY KEY,
    customer        TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'placed'
                    CHECK (status IN ('placed', 'cancelled')),
    total_cents     BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    idempotency_key TEXT UNIQUE,
    request_hash    TEXT
);
CREATE INDEX IF NOT EXISTS orders_customer_status_idx ON orders (customer, status);
CREATE TABLE IF NOT EXISTS order_items (
    order_id         BIGINT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id       BIGINT NOT NULL REFERENCES products (id),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
"""
PRODUCT = "id, sku, name, price_cents, stock"
ORDER = "id, customer, status, total_cents, created_at"


def create_schema(conn: Connection[Any]) -> None:
    """Create the tables (idempotent: a restart finds them)."""
    conn.execute(SCHEMA)
    conn.commit()


def insert_product(
    conn: Connection[Any], sku: str, name: str, price: int, stock: int
) -> dict[str, Any] | None:
    """The new product, or None when the SKU is taken."""
    return conn.execute(
        f"INSERT INTO products (sku, name, price_cents, stock) VALUES (%s, %s, %s, %s) "
        f"ON CONFLICT (sku) DO NOTHING RETURNING {PRODUCT}",
        (sku, name, price, stock),
    ).fetchone()


def get_product(conn: Connection[Any], product_id: int) -> dict[str, Any] | None:
    """One product, or None."""
    return conn.execute(f"SELECT {PRODUCT} FROM products WHERE id = %s", (product_id,)).fetchone()


def list_products(
    conn: Connection[Any], limit: int, offset: int, in_stock: bool
) -> tuple[list[dict[str, Any]], int]:
    """A page of products in id order, and how many match."""
    where = "WHERE stock > 0" if in_stock else ""
    rows = conn.execute(
        f"SELECT {PRODUCT} FROM products {where} ORDER BY id LIMIT %s OFFSET %s",
        (limit, offset),
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM products {where}").fetchone()
    return rows, total["n"] if total else 0


def change_stock(conn: Connection[Any], product_id: int, delta: int) -> dict[str, Any] | None:
    """Apply ``delta`` in one conditional UPDATE; None: unknown, or below 0."""
    return conn.execute(
        f"UPDATE products SET stock = stock + %s WHERE id = %s AND stock + %s >= 0 "
        f"RETURNING {PRODUCT}",
        (delta, product_id, delta),
    ).fetchone()


def _order(conn: Connection[Any], row: dict[str, Any]) -> dict[str, Any]:
    items = conn.execute(
        "SELECT product_id, quantity, unit_price_cents FROM order_items "
        "WHERE order_id = %s ORDER BY product_id",
        (row["id"],),
    ).fetchall()
    return {**row, "created_at": row["created_at"].isoformat(), "items": items}


def get_order(conn: Connection[Any], order_id: int) -> dict[str, Any] | None:
    """One order with its items, or None."""
    row = conn.execute(f"SELECT {ORDER} FROM orders WHERE id = %s", (order_id,)).fetchone()
    return _order(conn, row) if row else None


class _RefusedError(Exception):
    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def place_order(
    conn: Connection[Any],
    customer: str,
    items: list[tuple[int, int]],
    key: str | None,
    fingerprint: str,
) -> tuple[str, dict[str, Any] | None]:
    """("created" | "replayed", order) or (why it was refused, None)."""
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO orders (customer, total_cents, idempotency_key, "
                f"request_hash) "
                f"VALUES (%s, 0, %s, %s) ON CONFLICT (idempotency_key) DO NOTHING "
                f"RETURNING {ORDER}",
                (customer, key, fingerprint),
            ).fetchone()
            if row is None:
                # Another request with this key committed first (PostgreSQL waited).
                return _replay(conn, key, fingerprint)
            total = 0
            # In product order: two orders never wait on each other's rows in a cycle.
            for product_id, quantity in sorted(items):
                taken = conn.execute(
                    "UPDATE products SET stock = stock - %s "
                    "WHERE id = %s AND stock >= %s "
                    "RETURNING price_cents",
                    (quantity, product_id, quantity),
                ).fetchone()
                if taken is None:
                    exists = get_product(conn, product_id)
                    raise _RefusedError("insufficient_stock" if exists else "unknown_product")
                conn.execute(
                    "INSERT INTO order_items "
                    "(order_id, product_id, quantity, unit_price_cents) "
                    "VALUES (%s, %s, %s, %s)",
                    (row["id"], product_id, quantity, taken["price_cents"]),
                )
                total += quantity * taken["price_cents"]
            row = conn.execute(
                f"UPDATE orders SET total_cents = %s WHERE id = %s RETURNING {ORDER}",
                (total, row["id"]),
            ).fetchone()
            return "created", _order(conn, row)
    except _RefusedError as refused:
        return refused.outcome, None
    except psycopg.errors.ForeignKeyViolation:
        return "unknown_product", None


def _replay(
    conn: Connection[Any], key: str | None, fingerprint: str
) -> tuple[str, dict[str, Any] | None]:
    row = conn.execute(
        f"SELECT {ORDER}, request_hash FROM orders WHERE idempotency_key = %s", (key,)
    ).fetchone()
    if row is None or row.pop("request_hash") != fingerprint:
        return "idempotency_key_reused", None
    return "replayed", _order(conn, row)


def list_orders(
    conn: Connection[Any],
    limit: int,
    offset: int,
    customer: str | None,
    status: str | None,
) -> tuple[list[dict[str, Any]], int]:
    """A page of orders in id order, filtered, and how many match.

    (The known-slow variant: every order is read, with its items, then filtered and
    paged here rather than in the query.)
    """
    rows = conn.execute(f"SELECT {ORDER} FROM orders ORDER BY id").fetchall()
    orders = [_order(conn, r) for r in rows]
    kept = [
        o
        for o in orders
        if (customer is None or o["customer"] == customer)
        and (status is None or o["status"] == status)
    ]
    return kept[offset : offset + limit], len(kept)


def cancel_order(conn: Connection[Any], order_id: int) -> tuple[str, dict[str, Any] | None]:
    """("cancelled", order), ("already_cancelled", None) or ("not_found", None)."""
    with conn.transaction():
        row = conn.execute(
            f"SELECT {ORDER} FROM orders WHERE id = %s FOR UPDATE", (order_id,)
        ).fetchone()
        if row is None:
            return "not_found", None
        if row["status"] == "cancelled":
            return "already_cancelled", None
        conn.execute(
            "UPDATE products p SET stock = p.stock + i.quantity FROM order_items i "
            "WHERE i.order_id = %s AND p.id = i.product_id",
            (order_id,),
        )
        row = conn.execute(
            f"UPDATE orders SET status = 'cancelled' WHERE id = %s RETURNING {ORDER}",
            (order_id,),
        ).fetchone()
        return "cancelled", _order(conn, row)
