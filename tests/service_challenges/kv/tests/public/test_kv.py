def test_put_then_get(http):
    assert http.put("/kv/a", json={"value": "1"}).status_code == 200
    assert http.get("/kv/a").json() == {"key": "a", "value": "1"}


def test_missing_key_is_404(http):
    assert http.get("/kv/nope").status_code == 404
