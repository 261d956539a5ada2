//! What the OAuth app routes answer. A client secret appears only in
//! [`OAuthAppWithSecret`], on creation and rotation.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::store::oauth_apps::{AppStatus, OAuthApp};

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuthAppView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    #[schema(example = "rst_ci_2wJ7kqS9c1VdNfQm0yXb3A")]
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<&'static str>,
    pub status: AppStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<OAuthApp> for OAuthAppView {
    fn from(app: OAuthApp) -> Self {
        Self {
            id: app.id,
            organization_id: app.organization_id,
            name: app.name,
            client_id: app.client_id,
            redirect_uris: app.redirect_uris,
            scopes: app.scopes.names(),
            status: app.status,
            created_at: app.created_at,
            updated_at: app.updated_at,
        }
    }
}

/// An app with its client secret, which is shown only on creation and rotation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuthAppWithSecret {
    #[serde(flatten)]
    pub app: OAuthAppView,
    /// `rst_cs_…`: shown once, store it now.
    pub client_secret: String,
}
