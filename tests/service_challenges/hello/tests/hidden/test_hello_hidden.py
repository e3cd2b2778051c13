def test_an_unknown_path_is_404(http):
    assert http.get("/nowhere").status_code == 404


def test_it_answers_again_after_a_restart(http, service):
    service.restart()
    assert http.get("/hello", params={"name": "bob"}).json() == {"hello": "bob"}
