-- A webhook's deliveries by when they were made: the hour-by-hour counts of its recent
-- outcomes read a day of one webhook's rows, not all of them.
CREATE INDEX deliveries_webhook_created_idx ON deliveries (webhook_id, created_at);
