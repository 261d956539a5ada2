-- OAuth apps of an organization. Only SHA-256 digests of client secrets are kept; a rotated
-- secret keeps working until previous_secret_expires_at.
CREATE TABLE oauth_apps (
    id                         TEXT PRIMARY KEY,
    organization_id            TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                       TEXT NOT NULL,
    client_id                  TEXT NOT NULL,
    secret_hash                TEXT NOT NULL,
    previous_secret_hash       TEXT,
    previous_secret_expires_at INTEGER,
    redirect_uris              TEXT NOT NULL, -- JSON array of strings
    scopes                     TEXT NOT NULL, -- space-separated, in catalog order
    status                     TEXT NOT NULL, -- active | revoked
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
);
CREATE UNIQUE INDEX oauth_apps_client_id_key ON oauth_apps (client_id);
CREATE INDEX oauth_apps_org_idx ON oauth_apps (organization_id, id);

-- Authorization codes: single use, short-lived, bound to a PKCE challenge and redirect URI.
-- grant_id names the tokens a code gave, so that replaying the code revokes them.
CREATE TABLE oauth_codes (
    id             TEXT PRIMARY KEY,
    code_hash      TEXT NOT NULL,
    app_id         TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes         TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    grant_id       TEXT NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE UNIQUE INDEX oauth_codes_code_hash_key ON oauth_codes (code_hash);
CREATE INDEX oauth_codes_app_idx ON oauth_codes (app_id);

-- One authorization: a redeemed code, or one client_credentials issuance. Its tokens die with
-- it. Rotation locks this row, so a revocation racing a refresh cannot miss the new pair.
CREATE TABLE oauth_grants (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    revoked_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX oauth_grants_app_idx ON oauth_grants (app_id);
CREATE INDEX oauth_grants_user_idx ON oauth_grants (user_id, app_id);

-- OAuth access and refresh tokens. user_id is empty for client_credentials tokens, which
-- act as the app. Tokens of one grant share grant_id, for rotation reuse and revocation.
CREATE TABLE oauth_tokens (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL, -- access | refresh
    token_hash TEXT NOT NULL,
    app_id     TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    grant_id   TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX oauth_tokens_token_hash_key ON oauth_tokens (token_hash);
CREATE INDEX oauth_tokens_grant_idx ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_app_idx ON oauth_tokens (app_id);

-- Webhooks an app created with its own token; revoking the app deactivates them.
ALTER TABLE webhooks ADD COLUMN oauth_app_id TEXT;
CREATE INDEX webhooks_oauth_app_idx ON webhooks (oauth_app_id);
