//! What the page of one thing under an organization (a webhook, an OAuth app) shares: the
//! organization and the thing loaded as the API shows them, and what the page shows beyond
//! them after a form.

use std::future::Future;

use axum::Json;
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::{failed, organization};
use crate::console::form::Form;
use crate::console::render::describe;
use crate::console::session::Viewer;
use crate::error::{ApiError, ApiResult};
use crate::http::views::OrganizationView;
use crate::state::AppState;

/// What the page shows beyond the thing itself.
#[derive(Default)]
pub struct Detail {
    /// A secret, shown this once, and the heading it is shown under.
    pub secret: Option<(String, &'static str)>,
    /// A refused form's fields, shown again.
    pub form: Option<Form>,
    pub error: Option<(StatusCode, String)>,
    pub done: Option<String>,
    pub cursor: Option<String>,
}

impl Detail {
    /// The page as a link asks for it.
    pub fn from_query(query: super::Shown) -> Self {
        Self { done: query.done, cursor: query.cursor, ..Self::default() }
    }

    /// A secret, shown this once under `label`.
    pub fn secret(secret: String, label: &'static str) -> Self {
        Self { secret: Some((secret, label)), ..Self::default() }
    }

    /// A refused form, shown again with the API's error. A form with no fields (an action's
    /// button) leaves the page's own forms showing the thing as it is.
    pub fn refused(form: Form, error: ApiError) -> Self {
        let form = Some(form).filter(|form| !form.is_empty());
        Self { form, error: Some(describe(error)), ..Self::default() }
    }

    /// The page's status: the refusal's, or `ok`.
    pub fn status(&self, ok: StatusCode) -> StatusCode {
        self.error.as_ref().map_or(ok, |(status, _)| *status)
    }

    /// What the template reads of it: `secret`, `secret_label`, `notice` (from `notices`) and
    /// `error`.
    pub fn values(&self, notices: &[(&str, &'static str)]) -> minijinja::Value {
        minijinja::context! {
            secret => self.secret.as_ref().map(|(secret, _)| secret),
            secret_label => self.secret.as_ref().map(|(_, label)| *label),
            notice => super::notice(self.done.as_deref(), notices),
            error => self.error.as_ref().map(|(_, message)| message),
        }
    }
}

/// The organization, then the thing `read` (an API handler's answer) is; or the page saying
/// why either could not be read (the refusal of a form shown, when there is one).
pub async fn org_and<T>(
    state: &AppState,
    viewer: &Viewer,
    org_id: Uuid,
    shown: &Detail,
    read: impl Future<Output = ApiResult<Json<T>>>,
) -> Result<(OrganizationView, T), Box<Response>> {
    let error = shown.error.as_ref();
    let org = organization(state, &viewer.principal, org_id)
        .await
        .map_err(|e| Box::new(failed(e, error)))?;
    let thing = crate::console::api::json(read.await).map_err(|e| Box::new(failed(e, error)))?;
    Ok((org, thing))
}
