-- Portal sessions: a page of one organization's webhooks that an application hands its own
-- customer. link_hash is the SHA-256 of the one-time link's token, good until
-- link_expires_at; opening it sets session_hash, the page's own token, and opened_at. The
-- session acts as who made it: a user (user_id), or an OAuth app acting as itself or for a
-- user (oauth_app_id, with the token's scopes). event_types NULL is every type.
CREATE TABLE portal_sessions (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id          uuid REFERENCES users (id) ON DELETE CASCADE,
    oauth_app_id     uuid REFERENCES oauth_apps (id) ON DELETE CASCADE,
    scopes           text[] NOT NULL,
    link_hash        text NOT NULL,
    link_expires_at  timestamptz NOT NULL,
    session_hash     text,
    opened_at        timestamptz,
    expires_at       timestamptz NOT NULL,
    event_types      text[],
    read_only        boolean NOT NULL,
    frame_ancestors  text[] NOT NULL,
    primary_color    text,
    background_color text,
    logo_url         text,
    revoked_at       timestamptz,
    created_at       timestamptz NOT NULL,
    CHECK (user_id IS NOT NULL OR oauth_app_id IS NOT NULL)
);
CREATE UNIQUE INDEX portal_sessions_link_hash_key ON portal_sessions (link_hash);
CREATE UNIQUE INDEX portal_sessions_session_hash_key ON portal_sessions (session_hash);
CREATE INDEX portal_sessions_org_idx ON portal_sessions (organization_id, id);
CREATE INDEX portal_sessions_expiry_idx ON portal_sessions (expires_at);
