def test_a_note_is_created_and_read_back(http):
    made = http.post("/notes", json={"author": "ada", "title": "first", "body": "hello"})
    assert made.status_code == 201
    note = http.get(f"/notes/{made.json()['id']}").json()
    assert (note["author"], note["title"], note["body"]) == ("ada", "first", "hello")
