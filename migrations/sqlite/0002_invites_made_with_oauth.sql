-- The OAuth app whose token made an invite, if one did: such an invite makes only a MEMBER,
-- whoever accepts it. An invite an app made acting as itself already names the app as
-- invited_by; one made with a token acting for a person cannot be told apart from the person's
-- own, and is left as it is.
ALTER TABLE invites ADD COLUMN oauth_app_id BLOB;
UPDATE invites SET oauth_app_id = invited_by WHERE invited_by IN (SELECT id FROM oauth_apps);
