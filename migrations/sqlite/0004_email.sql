-- Verified addresses, single-use account links, and the email outbox.

-- When the address was last proved to be the person's, by a link sent to it. Accounts made
-- before verification existed start unverified.
ALTER TABLE users ADD COLUMN email_verified_at TEXT;

-- Links sent by email (verify an address, reset a password, confirm a new address). Only the
-- SHA-256 of a token is kept. email is the address the link was sent to: verifying proves
-- that address, not whatever the account holds by then.
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'password_reset', 'change_email')),
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose);
CREATE INDEX account_tokens_expires_idx ON account_tokens (expires_at);

-- Email waiting to be sent, written in the transaction of the change that causes it.
-- sealed_body holds the rendered text and HTML, encrypted like other secrets at rest (its
-- links carry tokens), and is cleared once the email is sent or has failed. A claim moves
-- next_attempt_at to the end of its lease, so an email claimed by an instance that died
-- falls due again by itself.
CREATE TABLE emails (
    id              BLOB PRIMARY KEY,
    template        TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    sealed_body     TEXT,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT
) STRICT;
CREATE INDEX emails_due_idx ON emails (next_attempt_at) WHERE status = 'pending';
CREATE INDEX emails_finished_idx ON emails (finished_at) WHERE status <> 'pending';
