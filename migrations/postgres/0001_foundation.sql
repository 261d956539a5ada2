-- Timestamps are Unix epoch milliseconds (BIGINT); IDs are UUID text.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    email_lower   TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email_lower_key ON users (email_lower);

-- Access, refresh and personal access tokens. Only the SHA-256 of a token is kept.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    token_hash   TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id    TEXT,
    name         TEXT,
    expires_at   BIGINT,
    used_at      BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX tokens_token_hash_key ON tokens (token_hash);
CREATE INDEX tokens_family_idx ON tokens (family_id);
CREATE INDEX tokens_user_kind_idx ON tokens (user_id, kind);

CREATE TABLE login_failures (
    id          TEXT PRIMARY KEY,
    subject     TEXT NOT NULL,
    occurred_at BIGINT NOT NULL
);
CREATE INDEX login_failures_subject_idx ON login_failures (subject, occurred_at);

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);

CREATE TABLE members (
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX members_user_idx ON members (user_id);

-- The event log: the audit trail and the durable source of webhook deliveries.
-- No foreign key to organizations: an organization's events outlive it.
CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX events_org_idx ON events (organization_id, id);
CREATE INDEX events_org_type_idx ON events (organization_id, event_type, id);
