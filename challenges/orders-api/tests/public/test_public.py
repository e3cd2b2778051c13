"""What the statement promises, checked the way a client would."""

from helpers import create_product, error_code, new_sku


def test_health_answers_ok(http):
    response = http.get("/healthz")
    assert response.status_code == 200


def test_create_product_returns_201_and_the_product(http):
    sku = new_sku("PUB")
    response = http.post(
        "/products", json={"sku": sku, "name": "Blue mug", "price_cents": 1250, "stock": 3}
    )
    assert response.status_code == 201
    body = response.json()
    assert isinstance(body["id"], int)
    assert {k: body[k] for k in ("sku", "name", "price_cents", "stock")} == {
        "sku": sku, "name": "Blue mug", "price_cents": 1250, "stock": 3,
    }


def test_get_product_by_id(http):
    product = create_product(http)
    response = http.get(f"/products/{product['id']}")
    assert response.status_code == 200
    assert response.json() == product


def test_unknown_product_is_404(http):
    response = http.get("/products/999999999")
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_invalid_product_is_422(http):
    response = http.post("/products", json={"sku": new_sku(), "name": "", "price_cents": 5})
    assert response.status_code == 422
    assert error_code(response) == "validation_failed"


def test_duplicate_sku_is_409(http):
    product = create_product(http)
    response = http.post(
        "/products", json={"sku": product["sku"], "name": "Again", "price_cents": 1, "stock": 0}
    )
    assert response.status_code == 409
    assert error_code(response) == "sku_taken"


def test_placing_an_order_takes_its_items_from_stock(http):
    product = create_product(http, price_cents=300, stock=5)
    response = http.post(
        "/orders",
        json={"customer": "ada", "items": [{"product_id": product["id"], "quantity": 2}]},
    )
    assert response.status_code == 201
    order = response.json()
    assert order["status"] == "placed"
    assert order["total_cents"] == 600
    assert http.get(f"/products/{product['id']}").json()["stock"] == 3


def test_products_are_listed_in_pages(http):
    for _ in range(3):
        create_product(http)
    page = http.get("/products", params={"limit": 2, "offset": 0})
    assert page.status_code == 200
    body = page.json()
    assert len(body["items"]) == 2
    assert body["limit"] == 2 and body["offset"] == 0
    assert body["total"] >= 3
    ids = [p["id"] for p in body["items"]]
    assert ids == sorted(ids)
