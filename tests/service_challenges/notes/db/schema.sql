CREATE TABLE notes (
    id         INT AUTO_INCREMENT PRIMARY KEY,
    author     VARCHAR(64) NOT NULL,
    title      VARCHAR(200) NOT NULL,
    body       TEXT,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE KEY notes_author_title (author, title),
    KEY notes_created (created_at)
) ENGINE=InnoDB;

CREATE TABLE note_tags (
    note_id INT NOT NULL,
    tag     VARCHAR(32) NOT NULL,
    PRIMARY KEY (note_id, tag),
    CONSTRAINT note_tags_note FOREIGN KEY (note_id) REFERENCES notes (id) ON DELETE CASCADE
) ENGINE=InnoDB;
