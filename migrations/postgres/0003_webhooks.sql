-- Webhooks outlive their organization's deletion (no foreign key), so that its
-- organization.deleted event is still delivered. Deleting a webhook marks it deleted.
CREATE TABLE webhooks (
    id                         TEXT PRIMARY KEY,
    organization_id            TEXT NOT NULL,
    url                        TEXT NOT NULL,
    is_active                  BIGINT NOT NULL,
    secret_sealed              TEXT NOT NULL,
    previous_secret_sealed     TEXT,
    previous_secret_expires_at BIGINT,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL,
    deleted_at                 BIGINT
);
CREATE INDEX webhooks_org_idx ON webhooks (organization_id, id);

-- Subscriptions, with the organization copied in so that finding an event's subscribers
-- reads only that organization's subscriptions to that event type.
CREATE TABLE webhook_events (
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    PRIMARY KEY (webhook_id, event_type)
);
CREATE INDEX webhook_events_subscribers_idx ON webhook_events (organization_id, event_type);

-- One delivery per (event, subscribed webhook), written in the event's transaction. Workers
-- claim due rows by taking a lease (lease_id, lease_until); an expired lease is claimable
-- again, so a crashed worker loses nothing.
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL REFERENCES events (id),
    event_type      TEXT NOT NULL,
    status          TEXT NOT NULL,
    chain_attempts  BIGINT NOT NULL,
    total_attempts  BIGINT NOT NULL,
    next_attempt_at BIGINT,
    lease_id        TEXT,
    lease_until     BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_webhook_idx ON deliveries (webhook_id, id);
CREATE INDEX deliveries_failed_idx ON deliveries (webhook_id, updated_at) WHERE status = 'failed';

CREATE TABLE delivery_attempts (
    id            TEXT PRIMARY KEY,
    delivery_id   TEXT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number        BIGINT NOT NULL,
    attempted_at  BIGINT NOT NULL,
    duration_ms   BIGINT NOT NULL,
    status_code   BIGINT,
    error         TEXT,
    response_body TEXT
);
CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, number);
