-- Verified addresses, single-use account links, and the email outbox.

-- When the address was last proved to be the person's, by a link sent to it. Accounts made
-- before verification existed start unverified.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- Links sent by email (verify an address, reset a password, confirm a new address). Only the
-- SHA-256 of a token is kept. email is the address the link was sent to: verifying proves
-- that address, not whatever the account holds by then.
CREATE TABLE account_tokens (
    token_hash text PRIMARY KEY,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'password_reset', 'change_email')),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      text NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose);
CREATE INDEX account_tokens_expires_idx ON account_tokens (expires_at);

-- Email waiting to be sent, written in the transaction of the change that causes it.
-- sealed_body holds the rendered text and HTML, encrypted like other secrets at rest (its
-- links carry tokens), and is cleared once the email is sent or has failed. A claim moves
-- next_attempt_at to the end of its lease, so an email claimed by an instance that died
-- falls due again by itself.
CREATE TABLE emails (
    id              uuid PRIMARY KEY,
    template        text NOT NULL,
    recipient       text NOT NULL,
    subject         text NOT NULL,
    sealed_body     text,
    status          text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    created_at      timestamptz NOT NULL,
    finished_at     timestamptz
);
CREATE INDEX emails_due_idx ON emails (next_attempt_at) WHERE status = 'pending';
CREATE INDEX emails_finished_idx ON emails (finished_at) WHERE status <> 'pending';
