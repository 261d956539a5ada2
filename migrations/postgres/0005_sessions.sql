-- A session is one sign-in (register or login) and every refresh that continues it: the
-- token family its access and refresh tokens share, so its id is their family_id. A session
-- is live while it is not revoked and some token of its family is neither revoked nor
-- expired. user_agent is the sign-in's User-Agent header, cut to 256 characters; ip is the
-- address the sign-in came from (a reverse proxy's, behind one).
CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL,
    user_agent   text,
    ip           text,
    revoked_at   timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id, id);

-- Sign-ins made before sessions were recorded: each family with an unrevoked token becomes a
-- session of unknown device and address.
INSERT INTO sessions (id, user_id, created_at, last_used_at)
    SELECT family_id, user_id, MIN(created_at), MAX(created_at) FROM tokens
    WHERE family_id IS NOT NULL AND revoked_at IS NULL
    GROUP BY family_id, user_id;

-- A deleted account stays as a tombstone, so that what refers to it (invites it sent, the
-- event log's actors) still does; its personal data is erased and deleted_at says when.
ALTER TABLE users ADD COLUMN deleted_at timestamptz;
