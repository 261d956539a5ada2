-- Endpoint health. A webhook's failure streak: when the first failed attempt since its last
-- success was made (failing_since), and how many deliveries have failed every attempt since
-- (failing_deliveries); any success resets both. disabled_reason ('gone' after a 410,
-- 'failing' after a long streak) and disabled_at say why and when Roster made it inactive;
-- last_error is the latest failed attempt's status or error.
ALTER TABLE webhooks ADD COLUMN failing_since timestamptz;
ALTER TABLE webhooks ADD COLUMN failing_deliveries integer NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN disabled_reason text;
ALTER TABLE webhooks ADD COLUMN disabled_at timestamptz;
ALTER TABLE webhooks ADD COLUMN last_error text;
ALTER TABLE webhooks ADD COLUMN last_error_at timestamptz;
-- Custom request headers: their names in clear (comma-separated, names are HTTP tokens and
-- hold no comma), the name-to-value map sealed like the secret, since values may be tokens.
ALTER TABLE webhooks ADD COLUMN header_names text NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN headers_sealed text;
-- Deliveries per second at most (NULL: unlimited), and when the next second's share opens.
ALTER TABLE webhooks ADD COLUMN rate_limit integer;
ALTER TABLE webhooks ADD COLUMN rate_window_ends_at timestamptz;
