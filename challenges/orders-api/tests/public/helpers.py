"""Helpers the tests share (not tests themselves)."""

import itertools

_skus = itertools.count(1)


def new_sku(prefix: str = "SKU") -> str:
    """A product code no other test uses."""
    return f"{prefix}-{next(_skus):05d}"


def create_product(http, *, price_cents=1000, stock=10, name="Widget", sku=None):
    """Create a product and return its JSON (asserting the 201)."""
    body = {"sku": sku or new_sku(), "name": name, "price_cents": price_cents, "stock": stock}
    response = http.post("/products", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def error_code(response):
    """The ``error.code`` of an error response."""
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    return body["error"]["code"]
