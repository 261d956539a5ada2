-- Roster's schema on PostgreSQL. Migrations are append-only: a change is a new file, never an
-- edit of one that has been applied.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    email_lower   text NOT NULL,
    name          text NOT NULL,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_lower_key ON users (email_lower);

-- Access, refresh and personal access tokens. Only the SHA-256 of a token is kept.
CREATE TABLE tokens (
    id           uuid PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('access', 'refresh', 'pat')),
    token_hash   text NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id    uuid,
    name         text,
    expires_at   timestamptz,
    used_at      timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    created_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX tokens_token_hash_key ON tokens (token_hash);
CREATE INDEX tokens_family_idx ON tokens (family_id);
CREATE INDEX tokens_user_kind_idx ON tokens (user_id, kind);
CREATE INDEX tokens_expires_idx ON tokens (expires_at);

-- Sign-in attempts within the rate-limit window, per subject.
CREATE TABLE login_failures (
    id          uuid PRIMARY KEY,
    subject     text NOT NULL,
    occurred_at timestamptz NOT NULL
);
CREATE INDEX login_failures_subject_idx ON login_failures (subject, occurred_at);
CREATE INDEX login_failures_time_idx ON login_failures (occurred_at);

CREATE TABLE organizations (
    id         uuid PRIMARY KEY,
    slug       text NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);

CREATE TABLE members (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            text NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX members_user_idx ON members (user_id);

-- The event log: the audit trail and the durable source of webhook deliveries. `payload` is
-- the exact body a receiver gets (json keeps its text as written). No foreign key to
-- organizations: an organization's events outlive it.
CREATE TABLE events (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL,
    event_type      text NOT NULL,
    payload         json NOT NULL,
    created_at      timestamptz NOT NULL
);
CREATE INDEX events_org_idx ON events (organization_id, id);
CREATE INDEX events_org_type_idx ON events (organization_id, event_type, id);

-- Invitations. `status` is stored as pending, accepted, cancelled or expired; a pending invite
-- past `expires_at` reads as expired.
CREATE TABLE invites (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email           text NOT NULL,
    email_lower     text NOT NULL,
    role            text NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
    status          text NOT NULL CHECK (status IN ('pending', 'accepted', 'cancelled', 'expired')),
    token_hash      text NOT NULL,
    -- A user, or an OAuth app acting as itself.
    invited_by      uuid NOT NULL,
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX invites_token_hash_key ON invites (token_hash);
-- At most one pending invite per email and organization.
CREATE UNIQUE INDEX invites_pending_email_key ON invites (organization_id, email_lower)
    WHERE status = 'pending';
CREATE INDEX invites_org_idx ON invites (organization_id, id);

-- OAuth apps of an organization. Only SHA-256 digests of client secrets are kept; a rotated
-- secret keeps working until previous_secret_expires_at.
CREATE TABLE oauth_apps (
    id                         uuid PRIMARY KEY,
    organization_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                       text NOT NULL,
    client_id                  text NOT NULL,
    secret_hash                text NOT NULL,
    previous_secret_hash       text,
    previous_secret_expires_at timestamptz,
    redirect_uris              text[] NOT NULL,
    scopes                     text[] NOT NULL,
    status                     text NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL
);
CREATE UNIQUE INDEX oauth_apps_client_id_key ON oauth_apps (client_id);
CREATE INDEX oauth_apps_org_idx ON oauth_apps (organization_id, id);

-- Authorization codes: single use, short-lived, bound to a PKCE challenge and redirect URI.
-- grant_id names the tokens a code gave, so that replaying the code revokes them.
CREATE TABLE oauth_codes (
    id             uuid PRIMARY KEY,
    code_hash      text NOT NULL,
    app_id         uuid NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes         text[] NOT NULL,
    redirect_uri   text NOT NULL,
    code_challenge text NOT NULL,
    grant_id       uuid NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    created_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX oauth_codes_code_hash_key ON oauth_codes (code_hash);
CREATE INDEX oauth_codes_app_idx ON oauth_codes (app_id);
CREATE INDEX oauth_codes_expires_idx ON oauth_codes (expires_at);

-- One authorization: a redeemed code, or one client_credentials issuance. Its tokens die with
-- it. Rotation locks this row, so a revocation racing a refresh cannot miss the new pair.
CREATE TABLE oauth_grants (
    id         uuid PRIMARY KEY,
    app_id     uuid NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX oauth_grants_app_idx ON oauth_grants (app_id);
CREATE INDEX oauth_grants_user_idx ON oauth_grants (user_id, app_id);
CREATE INDEX oauth_grants_created_idx ON oauth_grants (created_at);

-- OAuth access and refresh tokens. user_id is null for client_credentials tokens, which act
-- as the app.
CREATE TABLE oauth_tokens (
    id         uuid PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('access', 'refresh')),
    token_hash text NOT NULL,
    app_id     uuid NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    grant_id   uuid NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    scopes     text[] NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX oauth_tokens_token_hash_key ON oauth_tokens (token_hash);
CREATE INDEX oauth_tokens_grant_idx ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_app_idx ON oauth_tokens (app_id);
CREATE INDEX oauth_tokens_expires_idx ON oauth_tokens (expires_at);

-- Webhooks outlive their organization's deletion (no foreign key), so that its
-- organization.deleted event is still delivered. Deleting a webhook marks it deleted.
-- oauth_app_id is the app whose own token created it; revoking the app deactivates it.
CREATE TABLE webhooks (
    id                         uuid PRIMARY KEY,
    organization_id            uuid NOT NULL,
    url                        text NOT NULL,
    is_active                  boolean NOT NULL,
    secret_sealed              text NOT NULL,
    previous_secret_sealed     text,
    previous_secret_expires_at timestamptz,
    oauth_app_id               uuid,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL,
    deleted_at                 timestamptz
);
CREATE INDEX webhooks_org_idx ON webhooks (organization_id, id);
CREATE INDEX webhooks_oauth_app_idx ON webhooks (oauth_app_id);

-- Subscriptions, with the organization copied in so that finding an event's subscribers
-- reads only that organization's subscriptions to that event type.
CREATE TABLE webhook_events (
    webhook_id      uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    organization_id uuid NOT NULL,
    event_type      text NOT NULL,
    PRIMARY KEY (webhook_id, event_type)
);
CREATE INDEX webhook_events_subscribers_idx ON webhook_events (organization_id, event_type);

-- One delivery per (event, subscribed webhook), written in the event's transaction. A worker
-- claims due rows by stamping a lease_id and pushing next_attempt_at to the lease's end, so a
-- crashed worker's rows simply fall due again.
CREATE TABLE deliveries (
    id              uuid PRIMARY KEY,
    webhook_id      uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        uuid NOT NULL REFERENCES events (id),
    event_type      text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    chain_attempts  integer NOT NULL,
    total_attempts  integer NOT NULL,
    next_attempt_at timestamptz,
    lease_id        uuid,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_webhook_idx ON deliveries (webhook_id, id);
CREATE INDEX deliveries_failed_idx ON deliveries (webhook_id, updated_at) WHERE status = 'failed';
-- The queue churns: every delivery is updated at least twice. Vacuum it early so dead index
-- entries do not pile up in front of the due-deliveries scans.
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

CREATE TABLE delivery_attempts (
    id            uuid PRIMARY KEY,
    delivery_id   uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number        integer NOT NULL,
    attempted_at  timestamptz NOT NULL,
    duration_ms   integer NOT NULL,
    status_code   integer,
    error         text,
    response_body text
);
CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, number);
ALTER TABLE delivery_attempts SET (autovacuum_vacuum_scale_factor = 0.05);
