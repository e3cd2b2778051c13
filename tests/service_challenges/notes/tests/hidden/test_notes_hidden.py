def test_notes_are_rows_of_mysql(http, db):
    made = http.post("/notes", json={"author": "grace", "title": "cobol", "tags": ["b", "a"]})
    note_id = made.json()["id"]
    with db.cursor() as cur:
        cur.execute("SELECT author, title FROM notes WHERE id = %s", (note_id,))
        assert cur.fetchone() == ("grace", "cobol")
        cur.execute("SELECT tag FROM note_tags WHERE note_id = %s ORDER BY tag", (note_id,))
        assert [row[0] for row in cur.fetchall()] == ["a", "b"]
    assert db.get_server_info()  # the fixture is a MySQL (MariaDB) connection


def test_views_are_counted_in_redis(http, redis):
    note_id = http.post("/notes", json={"author": "ken", "title": "unix"}).json()["id"]
    http.get(f"/notes/{note_id}")
    assert http.get(f"/notes/{note_id}").json()["views"] == 2
    assert redis.get(f"views:{note_id}") == "2"


def test_a_duplicate_title_of_one_author_is_409(http):
    assert http.post("/notes", json={"author": "linus", "title": "git"}).status_code == 201
    assert http.post("/notes", json={"author": "linus", "title": "git"}).status_code == 409


def test_notes_and_counts_survive_a_restart(http, service, redis):
    note_id = http.post("/notes", json={"author": "barbara", "title": "clu"}).json()["id"]
    http.get(f"/notes/{note_id}")
    service.restart()
    assert http.get(f"/notes/{note_id}").json()["views"] == 2
    assert redis.get(f"views:{note_id}") == "2"
