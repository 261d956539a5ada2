-- Invitations into an organization. `status` is stored as pending, accepted, cancelled or
-- expired; a pending invite past `expires_at` reads as expired.
CREATE TABLE invites (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    email_lower     TEXT NOT NULL,
    role            TEXT NOT NULL,
    status          TEXT NOT NULL,
    token_hash      TEXT NOT NULL,
    invited_by      TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX invites_token_hash_key ON invites (token_hash);
-- At most one pending invite per email and organization.
CREATE UNIQUE INDEX invites_pending_email_key ON invites (organization_id, email_lower)
    WHERE status = 'pending';
CREATE INDEX invites_org_idx ON invites (organization_id, id);
