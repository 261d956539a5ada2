-- A webhook made or last changed with an OAuth token belongs to the token's app (oauth_app_id)
-- and, for a token acting for a person, to that person's authorization (oauth_user_id): it
-- stops when either access ends. orphaned_at is when that happened; such a webhook stays
-- inactive until a change sets its url.
ALTER TABLE webhooks ADD COLUMN oauth_user_id uuid;
ALTER TABLE webhooks ADD COLUMN orphaned_at timestamptz;
CREATE INDEX webhooks_oauth_user_idx ON webhooks (organization_id, oauth_user_id);

-- The webhooks of apps revoked before now ended with their access, even one reactivated since.
UPDATE webhooks SET is_active = FALSE, orphaned_at = updated_at
    WHERE deleted_at IS NULL
    AND oauth_app_id IN (SELECT id FROM oauth_apps WHERE status = 'revoked');
