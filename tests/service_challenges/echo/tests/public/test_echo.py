def test_echo(http):
    assert http.get("/echo", params={"x": "1"}).json() == {"x": "1"}
