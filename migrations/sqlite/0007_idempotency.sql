-- Idempotency keys: the first answer to a POST made with an Idempotency-Key header, kept per
-- credential (the SHA-256 of the request's Authorization header) for 24 hours. A row with no
-- status is a request still running: claim_id names the request that holds it, until
-- locked_until, after which a retry may take it over. response is the answer's headers and
-- body, sealed with the server's key (an answer may carry a token).
CREATE TABLE idempotency_keys (
    credential_digest TEXT NOT NULL,
    idempotency_key   TEXT NOT NULL,
    request_digest    TEXT NOT NULL,
    claim_id          BLOB NOT NULL,
    status            INTEGER,
    response          TEXT,
    locked_until      TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    expires_at        TEXT NOT NULL,
    PRIMARY KEY (credential_digest, idempotency_key)
) STRICT;
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- Retention of the webhook log finds what is old by time: finished deliveries by when they
-- finished, attempts and events by when they happened, and an event's deliveries by event.
CREATE INDEX deliveries_finished_idx ON deliveries (updated_at) WHERE status <> 'pending';
CREATE INDEX deliveries_event_idx ON deliveries (event_id);
CREATE INDEX delivery_attempts_time_idx ON delivery_attempts (attempted_at);
CREATE INDEX events_created_idx ON events (created_at);
