-- Server keys: credentials of the application's own backend, made with `roster keys create`.
-- Only the SHA-256 of a key is kept; scopes is a JSON array.
CREATE TABLE server_keys (
    id           BLOB PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
) STRICT;
CREATE UNIQUE INDEX server_keys_token_hash_key ON server_keys (token_hash);

-- Event types the application registers, beside the built-in ones; schema is the JSON
-- Schema (2020-12) every published event's data must meet.
CREATE TABLE event_types (
    name          TEXT PRIMARY KEY,
    description   TEXT NOT NULL,
    schema        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    deprecated_at TEXT
) STRICT;
