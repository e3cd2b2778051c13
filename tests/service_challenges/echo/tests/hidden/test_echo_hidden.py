def test_echo_two(http):
    assert http.get("/echo", params={"a": "b", "c": "d"}).json() == {"a": "b", "c": "d"}


def test_echo_empty(http):
    assert http.get("/echo").json() == {}


def test_unknown_path(http):
    assert http.get("/nope").status_code == 404
