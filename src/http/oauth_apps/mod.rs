//! An organization's OAuth apps: registering, reading, changing, rotating secrets and
//! revoking. All of it is for OWNERs and ADMINs in person; no OAuth token may manage apps.
//!
//! One room per use case; the response types are in [`views`] and the request fields'
//! checks in [`fields`]. A client secret is shown once, on creation or rotation; the
//! database keeps only its digest.

pub mod create;
pub mod fields;
pub mod read;
pub mod revoke;
pub mod secrets;
pub mod update;
pub mod views;

use crate::store::Conn;
use uuid::Uuid;

use crate::domain::event::AppRef;
use crate::error::{ApiError, ApiResult};
use crate::http::access::{self, Hold, Managed, Need};
use crate::http::principal::Principal;
use crate::store::oauth_apps::{self, OAuthApp};
use crate::store::organizations::Organization;

impl Managed for OAuthApp {
    const NAME: &'static str = "OAuth app";

    async fn load(
        conn: &mut dyn Conn,
        org_id: Uuid,
        id: Uuid,
        hold: Hold,
    ) -> Result<Option<Self>, sqlx::Error> {
        match hold {
            Hold::Row => oauth_apps::find_locked(conn, org_id, id).await,
            Hold::Nothing => oauth_apps::find(conn, org_id, id).await,
        }
    }
}

/// The organization and its app, held for a change by one of its managers in person.
async fn held(
    conn: &mut dyn Conn,
    org_id: Uuid,
    app_id: Uuid,
    principal: &Principal,
) -> ApiResult<(Organization, OAuthApp)> {
    let action = "manage OAuth apps";
    access::managed(conn, org_id, app_id, principal, Need::NoOAuth, action, Hold::Row).await
}

/// The app as `oauth_app.*` events describe it.
fn app_ref(app: &OAuthApp) -> AppRef<'_> {
    AppRef { app_id: app.id, name: &app.name, client_id: &app.client_id }
}

fn revoked() -> ApiError {
    ApiError::conflict("OAuth app is revoked")
}
