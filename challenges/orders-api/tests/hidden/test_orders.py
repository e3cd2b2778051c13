"""Orders: totals, all-or-nothing stock, idempotent creates, concurrency, filters, cancels."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from helpers import create_product, error_code


def place(http, customer, items, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return http.post("/orders", json={"customer": customer, "items": items}, headers=headers)


def stock(http, product):
    return http.get(f"/products/{product['id']}").json()["stock"]


def test_an_order_records_unit_prices_and_its_total(http):
    a = create_product(http, price_cents=250, stock=10)
    b = create_product(http, price_cents=1999, stock=10)
    response = place(http, "grace", [{"product_id": b["id"], "quantity": 1},
                                     {"product_id": a["id"], "quantity": 4}])
    assert response.status_code == 201
    order = response.json()
    assert order["total_cents"] == 250 * 4 + 1999
    items = {i["product_id"]: i for i in order["items"]}
    assert items[a["id"]]["unit_price_cents"] == 250 and items[a["id"]]["quantity"] == 4
    assert items[b["id"]]["unit_price_cents"] == 1999
    assert [i["product_id"] for i in order["items"]] == sorted(items)
    assert order["customer"] == "grace" and isinstance(order["created_at"], str)


def test_get_order_by_id(http):
    product = create_product(http)
    order = place(http, "linus", [{"product_id": product["id"], "quantity": 1}]).json()
    response = http.get(f"/orders/{order['id']}")
    assert response.status_code == 200
    assert response.json() == order


def test_unknown_order_is_404(http):
    response = http.get("/orders/999999997")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"customer": "x", "items": []},
        {"customer": "x", "items": [{"product_id": 1, "quantity": 0}]},
        {"items": [{"product_id": 1, "quantity": 1}]},
        {"customer": "", "items": [{"product_id": 1, "quantity": 1}]},
        {"customer": "x", "items": "everything"},
        {"customer": "x", "items": [{"product_id": "1", "quantity": 1}]},
    ],
    ids=["no-items", "zero-quantity", "no-customer", "empty-customer", "items-not-a-list",
         "id-as-text"],
)
def test_invalid_orders_are_refused(http, body):
    response = http.post("/orders", json=body)
    assert response.status_code == 422
    assert error_code(response) == "validation_failed"


def test_an_unknown_product_refuses_the_order_and_changes_nothing(http):
    product = create_product(http, stock=5)
    response = place(http, "x", [{"product_id": product["id"], "quantity": 1},
                                 {"product_id": 999999996, "quantity": 1}])
    assert response.status_code == 422
    assert error_code(response) == "unknown_product"
    assert stock(http, product) == 5


def test_not_enough_stock_refuses_the_whole_order(http):
    plenty = create_product(http, stock=10)
    scarce = create_product(http, stock=1)
    response = place(http, "x", [{"product_id": plenty["id"], "quantity": 3},
                                 {"product_id": scarce["id"], "quantity": 2}])
    assert response.status_code == 409
    assert error_code(response) == "insufficient_stock"
    assert stock(http, plenty) == 10 and stock(http, scarce) == 1


def test_idempotent_create_returns_the_same_order(http):
    product = create_product(http, stock=10)
    key = str(uuid.uuid4())
    first = place(http, "ken", [{"product_id": product["id"], "quantity": 2}], key=key)
    again = place(http, "ken", [{"product_id": product["id"], "quantity": 2}], key=key)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert stock(http, product) == 8


def test_an_idempotency_key_reused_with_another_body_is_409(http):
    product = create_product(http, stock=10)
    key = str(uuid.uuid4())
    assert place(http, "ken", [{"product_id": product["id"], "quantity": 1}], key=key
                 ).status_code == 201
    response = place(http, "ken", [{"product_id": product["id"], "quantity": 3}], key=key)
    assert response.status_code == 409
    assert error_code(response) == "idempotency_key_reused"
    assert stock(http, product) == 9


def test_concurrent_orders_never_oversell(base_url):
    with httpx.Client(base_url=base_url, timeout=30) as http:
        product = create_product(http, stock=7)

    def buy(_):
        with httpx.Client(base_url=base_url, timeout=30) as client:
            return place(client, "rush", [{"product_id": product["id"], "quantity": 1}]
                         ).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(buy, range(20)))
    assert codes.count(201) == 7 and codes.count(409) == 13
    with httpx.Client(base_url=base_url, timeout=30) as http:
        assert stock(http, product) == 0


def test_concurrent_retries_with_one_key_make_one_order(base_url):
    with httpx.Client(base_url=base_url, timeout=30) as http:
        product = create_product(http, stock=50)
    key = str(uuid.uuid4())

    def retry(_):
        with httpx.Client(base_url=base_url, timeout=30) as client:
            response = place(client, "retry", [{"product_id": product["id"], "quantity": 1}],
                             key=key)
            return response.status_code, response.json().get("id")

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(retry, range(6)))
    assert len({order_id for _, order_id in results}) == 1
    assert sorted(code for code, _ in results) == [200] * 5 + [201]
    with httpx.Client(base_url=base_url, timeout=30) as http:
        assert stock(http, product) == 49


def test_orders_can_be_filtered_by_customer(http):
    product = create_product(http, stock=10)
    customer = f"filter-{uuid.uuid4().hex[:8]}"
    mine = [place(http, customer, [{"product_id": product["id"], "quantity": 1}]).json()["id"]
            for _ in range(3)]
    place(http, "someone-else", [{"product_id": product["id"], "quantity": 1}])
    body = http.get("/orders", params={"customer": customer}).json()
    assert [o["id"] for o in body["items"]] == mine
    assert body["total"] == 3


def test_orders_can_be_filtered_by_status_and_paged(http):
    product = create_product(http, stock=10)
    customer = f"status-{uuid.uuid4().hex[:8]}"
    ids = [place(http, customer, [{"product_id": product["id"], "quantity": 1}]).json()["id"]
           for _ in range(4)]
    http.post(f"/orders/{ids[1]}/cancel")
    cancelled = http.get("/orders", params={"customer": customer, "status": "cancelled"}).json()
    assert [o["id"] for o in cancelled["items"]] == [ids[1]]
    placed = http.get("/orders", params={"customer": customer, "status": "placed", "limit": 2,
                                         "offset": 1}).json()
    assert [o["id"] for o in placed["items"]] == [ids[2], ids[3]]
    assert placed["total"] == 3


def test_an_unknown_status_filter_is_422(http):
    response = http.get("/orders", params={"status": "shipped"})
    assert response.status_code == 422


def test_cancelling_returns_the_stock(http):
    product = create_product(http, stock=5)
    order = place(http, "x", [{"product_id": product["id"], "quantity": 4}]).json()
    response = http.post(f"/orders/{order['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert stock(http, product) == 5


def test_cancelling_twice_is_409(http):
    product = create_product(http, stock=5)
    order = place(http, "x", [{"product_id": product["id"], "quantity": 1}]).json()
    assert http.post(f"/orders/{order['id']}/cancel").status_code == 200
    response = http.post(f"/orders/{order['id']}/cancel")
    assert response.status_code == 409
    assert error_code(response) == "already_cancelled"
    assert stock(http, product) == 5


def test_cancelling_an_unknown_order_is_404(http):
    assert http.post("/orders/999999995/cancel").status_code == 404
