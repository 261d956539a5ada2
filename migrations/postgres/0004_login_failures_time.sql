-- Pruning old sign-in attempts reads them by time alone.
CREATE INDEX login_failures_time_idx ON login_failures (occurred_at);
