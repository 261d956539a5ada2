-- Server keys: credentials of the application's own backend, made with `roster keys create`.
-- Only the SHA-256 of a key is kept.
CREATE TABLE server_keys (
    id           uuid PRIMARY KEY,
    name         text NOT NULL,
    token_hash   text NOT NULL,
    scopes       text[] NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE UNIQUE INDEX server_keys_token_hash_key ON server_keys (token_hash);

-- Event types the application registers, beside the built-in ones; schema is the JSON
-- Schema (2020-12) every published event's data must meet.
CREATE TABLE event_types (
    name          text PRIMARY KEY,
    description   text NOT NULL,
    schema        text NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    deprecated_at timestamptz
);
