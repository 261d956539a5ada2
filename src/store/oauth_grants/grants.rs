//! Grants: one authorization whose tokens live and die together.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::run;
use crate::store::Tx;

/// Starts a grant: the tokens issued under it live and die together.
pub async fn insert_grant(
    tx: &mut Tx,
    id: Uuid,
    app_id: Uuid,
    user_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "INSERT INTO oauth_grants (id, app_id, user_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(app_id)
        .bind(user_id)
        .bind(now)
    )?;
    Ok(())
}

/// Revokes every token of one grant.
pub async fn revoke_grant(
    tx: &mut Tx,
    grant_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query("UPDATE oauth_grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(grant_id)
            .bind(now)
    )?;
    Ok(())
}

/// Revokes the user's grants to the organization's apps, and their codes not yet exchanged:
/// leaving an organization ends them.
pub async fn revoke_user_grants(
    tx: &mut Tx,
    org_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    revoke_grants_of(tx, user_id, Some(org_id), now).await
}

/// Revokes every grant the user gave, to any organization's apps, and their codes not yet
/// exchanged: after a password reset or an account's deletion, they authorize nothing.
pub async fn revoke_all_user_grants(
    tx: &mut Tx,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    revoke_grants_of(tx, user_id, None, now).await
}

/// The user's grants and unexchanged codes, to one organization's apps or to all.
async fn revoke_grants_of(
    tx: &mut Tx,
    user_id: Uuid,
    org_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let of_org = "($3 IS NULL OR app_id IN (SELECT id FROM oauth_apps WHERE organization_id = $3))";
    let grants = format!(
        "UPDATE oauth_grants SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL \
         AND {of_org}"
    );
    let codes = format!(
        "UPDATE oauth_codes SET expires_at = $2 WHERE user_id = $1 AND used_at IS NULL \
         AND expires_at > $2 AND {of_org}"
    );
    for sql in [grants, codes] {
        run!(tx, execute, sqlx::query(&sql).bind(user_id).bind(now).bind(org_id))?;
    }
    Ok(())
}
