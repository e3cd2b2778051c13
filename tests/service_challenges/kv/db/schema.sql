CREATE TABLE kv (
    key text PRIMARY KEY,
    value text NOT NULL
);
