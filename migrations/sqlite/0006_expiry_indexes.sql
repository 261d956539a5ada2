-- Expired tokens and codes are pruned a day after they expire; these find them.
CREATE INDEX tokens_expires_idx ON tokens (expires_at);
CREATE INDEX oauth_tokens_expires_idx ON oauth_tokens (expires_at);
CREATE INDEX oauth_codes_expires_idx ON oauth_codes (expires_at);
CREATE INDEX oauth_grants_created_idx ON oauth_grants (created_at);
