"""Products: validation, lookups, pagination, filtering, stock changes."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from helpers import create_product, error_code, new_sku


@pytest.mark.parametrize(
    "body",
    [
        {"name": "No sku", "price_cents": 1, "stock": 1},
        {"sku": "lower-case", "name": "Bad sku", "price_cents": 1, "stock": 1},
        {"sku": "AB", "name": "Short sku", "price_cents": 1, "stock": 1},
        {"sku": "OK-SKU-1", "name": "Negative price", "price_cents": -1, "stock": 1},
        {"sku": "OK-SKU-2", "name": "Float price", "price_cents": 9.5, "stock": 1},
        {"sku": "OK-SKU-3", "name": "Bool price", "price_cents": True, "stock": 1},
        {"sku": "OK-SKU-4", "name": "Negative stock", "price_cents": 1, "stock": -2},
        {"sku": "OK-SKU-5", "name": "x" * 201, "price_cents": 1, "stock": 1},
    ],
    ids=["missing-sku", "lowercase-sku", "short-sku", "negative-price", "float-price",
         "bool-price", "negative-stock", "long-name"],
)
def test_invalid_products_are_refused(http, body):
    response = http.post("/products", json=body)
    assert response.status_code == 422
    assert error_code(response) == "validation_failed"


def test_a_body_that_is_not_json_is_422(http):
    response = http.post(
        "/products", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422


def test_stock_defaults_to_zero(http):
    response = http.post("/products", json={"sku": new_sku(), "name": "N", "price_cents": 1})
    assert response.status_code == 201
    assert response.json()["stock"] == 0


def test_a_non_numeric_id_is_404(http):
    assert http.get("/products/abc").status_code == 404


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1},
                                    {"limit": "many"}], ids=["zero", "101", "neg-offset", "text"])
def test_bad_pagination_is_422(http, params):
    response = http.get("/products", params=params)
    assert response.status_code == 422
    assert error_code(response) == "validation_failed"


def test_pages_do_not_overlap_and_cover_everything(http):
    for _ in range(5):
        create_product(http)
    total = http.get("/products", params={"limit": 1}).json()["total"]
    seen = []
    for offset in range(0, total, 7):
        seen += [p["id"] for p in http.get("/products", params={"limit": 7, "offset": offset})
                 .json()["items"]]
    assert len(seen) == total == len(set(seen))
    assert seen == sorted(seen)


def test_the_default_page_size_is_20(http):
    for _ in range(21):
        create_product(http)
    body = http.get("/products").json()
    assert len(body["items"]) == 20 and body["limit"] == 20 and body["offset"] == 0


def test_in_stock_filter_leaves_out_empty_products(http):
    empty = create_product(http, stock=0)
    full = create_product(http, stock=4)
    ids, offset = [], 0
    while True:
        body = http.get(
            "/products", params={"in_stock": "true", "limit": 100, "offset": offset}
        ).json()
        assert all(p["stock"] > 0 for p in body["items"])
        ids += [p["id"] for p in body["items"]]
        offset += 100
        if offset >= body["total"]:
            break
    assert full["id"] in ids and empty["id"] not in ids


def test_stock_change_applies_a_delta(http):
    product = create_product(http, stock=2)
    response = http.post(f"/products/{product['id']}/stock", json={"delta": 5})
    assert response.status_code == 200
    assert response.json()["stock"] == 7
    response = http.post(f"/products/{product['id']}/stock", json={"delta": -3})
    assert response.json()["stock"] == 4


def test_stock_never_goes_below_zero(http):
    product = create_product(http, stock=1)
    response = http.post(f"/products/{product['id']}/stock", json={"delta": -2})
    assert response.status_code == 409
    assert error_code(response) == "insufficient_stock"
    assert http.get(f"/products/{product['id']}").json()["stock"] == 1


def test_stock_change_of_an_unknown_product_is_404(http):
    response = http.post("/products/999999998/stock", json={"delta": 1})
    assert response.status_code == 404


def test_concurrent_stock_changes_are_not_lost(base_url):
    with httpx.Client(base_url=base_url, timeout=20) as http:
        product = create_product(http, stock=0)

    def add_one(_):
        with httpx.Client(base_url=base_url, timeout=20) as client:
            return client.post(f"/products/{product['id']}/stock", json={"delta": 1}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(add_one, range(40)))
    assert codes == [200] * 40
    with httpx.Client(base_url=base_url, timeout=20) as http:
        assert http.get(f"/products/{product['id']}").json()["stock"] == 40
