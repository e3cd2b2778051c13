"""Everything lives in PostgreSQL: a restart of the service loses nothing."""

import uuid

from helpers import create_product


def test_data_survives_a_restart(http, service):
    product = create_product(http, stock=9)
    key = str(uuid.uuid4())
    order = http.post("/orders", json={"customer": "restart", "items": [
        {"product_id": product["id"], "quantity": 2}]}, headers={"Idempotency-Key": key}).json()
    service.restart()
    assert http.get(f"/products/{product['id']}").json()["stock"] == 7
    assert http.get(f"/orders/{order['id']}").json() == order
    again = http.post("/orders", json={"customer": "restart", "items": [
        {"product_id": product["id"], "quantity": 2}]}, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.json()["id"] == order["id"]


def test_the_service_keeps_its_data_in_the_database(db, http):
    create_product(http)
    tables = db.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
    ).fetchone()[0]
    assert tables >= 2
