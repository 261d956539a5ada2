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
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE oauth_grants SET revoked_at = $3 WHERE user_id = $2 AND revoked_at IS NULL \
             AND app_id IN (SELECT id FROM oauth_apps WHERE organization_id = $1)",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(now)
    )?;
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE oauth_codes SET expires_at = $3 WHERE user_id = $2 AND used_at IS NULL \
             AND expires_at > $3 \
             AND app_id IN (SELECT id FROM oauth_apps WHERE organization_id = $1)",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(now)
    )?;
    Ok(())
}

/// Revokes every grant the user gave, to any organization's apps, and their codes not yet
/// exchanged: a deleted account authorizes nothing.
pub async fn revoke_all_user_grants(
    tx: &mut Tx,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE oauth_grants SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL"
        )
        .bind(user_id)
        .bind(now)
    )?;
    run!(
        tx,
        execute,
        sqlx::query(
            "UPDATE oauth_codes SET expires_at = $2 WHERE user_id = $1 AND used_at IS NULL \
             AND expires_at > $2",
        )
        .bind(user_id)
        .bind(now)
    )?;
    Ok(())
}
