-- Portal sessions: a page of one organization's webhooks that an application hands its own
-- customer. link_hash is the SHA-256 of the one-time link's token, good until
-- link_expires_at; opening it sets session_hash, the page's own token, and opened_at. The
-- session acts as who made it: a user (user_id), or an OAuth app acting as itself or for a
-- user (oauth_app_id, with the token's scopes). event_types NULL is every type; the lists
-- are JSON arrays.
CREATE TABLE portal_sessions (
    id               BLOB PRIMARY KEY,
    organization_id  BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          BLOB REFERENCES users (id) ON DELETE CASCADE,
    oauth_app_id     BLOB REFERENCES oauth_apps (id) ON DELETE CASCADE,
    scopes           TEXT NOT NULL,
    link_hash        TEXT NOT NULL,
    link_expires_at  TEXT NOT NULL,
    session_hash     TEXT,
    opened_at        TEXT,
    expires_at       TEXT NOT NULL,
    event_types      TEXT,
    read_only        INTEGER NOT NULL CHECK (read_only IN (0, 1)),
    frame_ancestors  TEXT NOT NULL,
    primary_color    TEXT,
    background_color TEXT,
    logo_url         TEXT,
    revoked_at       TEXT,
    created_at       TEXT NOT NULL,
    CHECK (user_id IS NOT NULL OR oauth_app_id IS NOT NULL)
) STRICT;
CREATE UNIQUE INDEX portal_sessions_link_hash_key ON portal_sessions (link_hash);
CREATE UNIQUE INDEX portal_sessions_session_hash_key ON portal_sessions (session_hash);
CREATE INDEX portal_sessions_org_idx ON portal_sessions (organization_id, id);
CREATE INDEX portal_sessions_expiry_idx ON portal_sessions (expires_at);
