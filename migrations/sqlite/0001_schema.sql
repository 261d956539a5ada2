-- Roster's schema on SQLite: STRICT tables; UUIDs are 16-byte BLOBs, times RFC 3339 text in
-- UTC (which sorts in time order), booleans 0 or 1, lists JSON arrays. Migrations are
-- append-only: a change is a new file, never an edit of one that has been applied.

CREATE TABLE users (
    id            BLOB PRIMARY KEY,
    email         TEXT NOT NULL,
    email_lower   TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_email_lower_key ON users (email_lower);

-- Access, refresh and personal access tokens. Only the SHA-256 of a token is kept.
CREATE TABLE tokens (
    id           BLOB PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('access', 'refresh', 'pat')),
    token_hash   TEXT NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id    BLOB,
    name         TEXT,
    expires_at   TEXT,
    used_at      TEXT,
    revoked_at   TEXT,
    last_used_at TEXT,
    created_at   TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX tokens_token_hash_key ON tokens (token_hash);
CREATE INDEX tokens_family_idx ON tokens (family_id);
CREATE INDEX tokens_user_kind_idx ON tokens (user_id, kind);
CREATE INDEX tokens_expires_idx ON tokens (expires_at);

-- Sign-in attempts within the rate-limit window, per subject.
CREATE TABLE login_failures (
    id          BLOB PRIMARY KEY,
    subject     TEXT NOT NULL,
    occurred_at TEXT NOT NULL
) STRICT;
CREATE INDEX login_failures_subject_idx ON login_failures (subject, occurred_at);
CREATE INDEX login_failures_time_idx ON login_failures (occurred_at);

CREATE TABLE organizations (
    id         BLOB PRIMARY KEY,
    slug       TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);

CREATE TABLE members (
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, user_id)
) STRICT;
CREATE INDEX members_user_idx ON members (user_id);

-- The event log: the audit trail and the durable source of webhook deliveries. `payload` is
-- the exact body a receiver gets. No foreign key to
-- organizations: an organization's events outlive it.
CREATE TABLE events (
    id              BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      TEXT NOT NULL
) STRICT;
CREATE INDEX events_org_idx ON events (organization_id, id);
CREATE INDEX events_org_type_idx ON events (organization_id, event_type, id);

-- Invitations. `status` is stored as pending, accepted, cancelled or expired; a pending invite
-- past `expires_at` reads as expired.
CREATE TABLE invites (
    id              BLOB PRIMARY KEY,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    email_lower     TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'cancelled', 'expired')),
    token_hash      TEXT NOT NULL,
    -- A user, or an OAuth app acting as itself.
    invited_by      BLOB NOT NULL,
    expires_at      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX invites_token_hash_key ON invites (token_hash);
-- At most one pending invite per email and organization.
CREATE UNIQUE INDEX invites_pending_email_key ON invites (organization_id, email_lower)
    WHERE status = 'pending';
CREATE INDEX invites_org_idx ON invites (organization_id, id);

-- OAuth apps of an organization. Only SHA-256 digests of client secrets are kept; a rotated
-- secret keeps working until previous_secret_expires_at.
CREATE TABLE oauth_apps (
    id                         BLOB PRIMARY KEY,
    organization_id            BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                       TEXT NOT NULL,
    client_id                  TEXT NOT NULL,
    secret_hash                TEXT NOT NULL,
    previous_secret_hash       TEXT,
    previous_secret_expires_at TEXT,
    redirect_uris              TEXT NOT NULL,
    scopes                     TEXT NOT NULL,
    status                     TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX oauth_apps_client_id_key ON oauth_apps (client_id);
CREATE INDEX oauth_apps_org_idx ON oauth_apps (organization_id, id);

-- Authorization codes: single use, short-lived, bound to a PKCE challenge and redirect URI.
-- grant_id names the tokens a code gave, so that replaying the code revokes them.
CREATE TABLE oauth_codes (
    id             BLOB PRIMARY KEY,
    code_hash      TEXT NOT NULL,
    app_id         BLOB NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id        BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes         TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    grant_id       BLOB NOT NULL,
    expires_at     TEXT NOT NULL,
    used_at        TEXT,
    created_at     TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX oauth_codes_code_hash_key ON oauth_codes (code_hash);
CREATE INDEX oauth_codes_app_idx ON oauth_codes (app_id);
CREATE INDEX oauth_codes_expires_idx ON oauth_codes (expires_at);

-- One authorization: a redeemed code, or one client_credentials issuance. Its tokens die with
-- it. Rotation locks this row, so a revocation racing a refresh cannot miss the new pair.
CREATE TABLE oauth_grants (
    id         BLOB PRIMARY KEY,
    app_id     BLOB NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id    BLOB REFERENCES users (id) ON DELETE CASCADE,
    revoked_at TEXT,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX oauth_grants_app_idx ON oauth_grants (app_id);
CREATE INDEX oauth_grants_user_idx ON oauth_grants (user_id, app_id);
CREATE INDEX oauth_grants_created_idx ON oauth_grants (created_at);

-- OAuth access and refresh tokens. user_id is null for client_credentials tokens, which act
-- as the app.
CREATE TABLE oauth_tokens (
    id         BLOB PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    token_hash TEXT NOT NULL,
    app_id     BLOB NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id    BLOB REFERENCES users (id) ON DELETE CASCADE,
    grant_id   BLOB NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX oauth_tokens_token_hash_key ON oauth_tokens (token_hash);
CREATE INDEX oauth_tokens_grant_idx ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_app_idx ON oauth_tokens (app_id);
CREATE INDEX oauth_tokens_expires_idx ON oauth_tokens (expires_at);

-- Webhooks outlive their organization's deletion (no foreign key), so that its
-- organization.deleted event is still delivered. Deleting a webhook marks it deleted.
-- oauth_app_id is the app whose own token created it; revoking the app deactivates it.
CREATE TABLE webhooks (
    id                         BLOB PRIMARY KEY,
    organization_id            BLOB NOT NULL,
    url                        TEXT NOT NULL,
    is_active                  INTEGER NOT NULL CHECK (is_active IN (0, 1)),
    secret_sealed              TEXT NOT NULL,
    previous_secret_sealed     TEXT,
    previous_secret_expires_at TEXT,
    oauth_app_id               BLOB,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL,
    deleted_at                 TEXT
) STRICT;
CREATE INDEX webhooks_org_idx ON webhooks (organization_id, id);
CREATE INDEX webhooks_oauth_app_idx ON webhooks (oauth_app_id);

-- Subscriptions, with the organization copied in so that finding an event's subscribers
-- reads only that organization's subscriptions to that event type.
CREATE TABLE webhook_events (
    webhook_id      BLOB NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    organization_id BLOB NOT NULL,
    event_type      TEXT NOT NULL,
    PRIMARY KEY (webhook_id, event_type)
) STRICT;
CREATE INDEX webhook_events_subscribers_idx ON webhook_events (organization_id, event_type);

-- One delivery per (event, subscribed webhook), written in the event's transaction. A worker
-- claims due rows by stamping a lease_id and pushing next_attempt_at to the lease's end, so a
-- crashed worker's rows simply fall due again.
CREATE TABLE deliveries (
    id              BLOB PRIMARY KEY,
    webhook_id      BLOB NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        BLOB NOT NULL REFERENCES events (id),
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    chain_attempts  INTEGER NOT NULL,
    total_attempts  INTEGER NOT NULL,
    next_attempt_at TEXT,
    lease_id        BLOB,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_webhook_idx ON deliveries (webhook_id, id);
CREATE INDEX deliveries_failed_idx ON deliveries (webhook_id, updated_at) WHERE status = 'failed';
-- The worker reads back what it leased by lease ID.
CREATE INDEX deliveries_lease_idx ON deliveries (lease_id) WHERE lease_id IS NOT NULL;

CREATE TABLE delivery_attempts (
    id            BLOB PRIMARY KEY,
    delivery_id   BLOB NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number        INTEGER NOT NULL,
    attempted_at  TEXT NOT NULL,
    duration_ms   INTEGER NOT NULL,
    status_code   INTEGER,
    error         TEXT,
    response_body TEXT
) STRICT;
CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, number);
