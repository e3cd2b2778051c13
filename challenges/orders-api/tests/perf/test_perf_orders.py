"""Performance case: a customer's orders, filtered and paged, under concurrent reads.

Both services (the candidate's and the reference's, each with its own empty database)
get the same shop first: a few products and a few hundred orders spread over six
customers. Then both take the same load, in alternating rounds (see the grader's
``load`` fixture); the score follows the ratio of their throughputs. A service that
filters or pages in its own code rather than in the query reads every order for
every page, and shows it here.
"""

import httpx

PRODUCTS = 5
CUSTOMERS = 6
ORDERS = 240


def _post(http, path, body):
    response = http.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _seed(base_urls):
    """The same products and orders on every service, written to each in turn (the
    database written to last would otherwise still be busy with it when the load
    starts: vacuum, statistics)."""
    clients = [httpx.Client(base_url=url, timeout=30.0) for url in base_urls]
    try:
        ids = [[] for _ in clients]
        for i in range(PRODUCTS):
            body = {"sku": f"PERF-{i:03d}", "name": f"Perf {i}", "price_cents": 100 + i,
                    "stock": 1_000_000}
            for http, mine in zip(clients, ids):
                mine.append(_post(http, "/products", body)["id"])
        for n in range(ORDERS):
            for http, mine in zip(clients, ids):
                items = [{"product_id": mine[n % PRODUCTS], "quantity": 1 + n % 3}]
                _post(http, "/orders", {"customer": f"customer-{n % CUSTOMERS}", "items": items})
    finally:
        for http in clients:
            http.close()


def test_a_customers_second_page_of_orders_under_concurrent_reads(load):
    _seed(load.urls)
    load(
        "GET",
        "/orders?customer=customer-3&status=placed&limit=20&offset=20",
        requests=200,
        concurrency=8,
    )
