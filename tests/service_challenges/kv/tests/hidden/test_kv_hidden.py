def test_overwrite(http):
    http.put("/kv/b", json={"value": "1"})
    http.put("/kv/b", json={"value": "2"})
    assert http.get("/kv/b").json()["value"] == "2"


def test_survives_restart(http, service):
    http.put("/kv/c", json={"value": "kept"})
    service.restart()
    assert http.get("/kv/c").json()["value"] == "kept"


def test_stored_in_the_database(http, db):
    http.put("/kv/d", json={"value": "in-db"})
    row = db.execute("SELECT value FROM kv WHERE key = 'd'").fetchone()
    assert row == ("in-db",)


def test_logs_are_readable(service):
    assert isinstance(service.logs(), str)
