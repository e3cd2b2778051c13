def test_health(http):
    assert http.get("/healthz").status_code == 200


def test_hello_names_the_caller(http):
    response = http.get("/hello", params={"name": "ada"})
    assert response.status_code == 200
    assert response.json() == {"hello": "ada"}
