//! One module per part of the console; each page's handler renders it, and each form's
//! handler either redirects back to it with a notice or renders it again with the API's error.

pub mod account;
pub mod detail;
pub mod events;
pub mod invites;
pub mod links;
pub mod members;
pub mod oauth_apps;
pub mod organizations;
pub mod sign_in;
pub mod webhooks;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::render;
use crate::error::ApiError;

/// The query of a console page: where a list continues, and what just happened.
#[derive(Debug, Default, Deserialize)]
pub struct Shown {
    pub cursor: Option<String>,
    pub done: Option<String>,
}

/// After a form did its work: back to a page, saying what happened (a fixed text chosen by
/// the key, so a link cannot make a page say anything else).
pub fn done(path: &str, key: &str) -> Response {
    Redirect::to(&format!("{path}?done={key}")).into_response()
}

/// The text a notice key stands for.
pub fn notice(done: Option<&str>, notices: &[(&str, &'static str)]) -> Option<&'static str> {
    let done = done?;
    notices.iter().find(|(key, _)| *key == done).map(|(_, text)| *text)
}

/// What a page shows when loading it failed: the API's status and words. When a form was
/// refused, its refusal is what the person needs to read (the page itself may be closed to
/// them for the same reason).
pub fn failed(error: ApiError, form_error: Option<&(StatusCode, String)>) -> Response {
    match form_error {
        Some((status, message)) => render::problem(*status, message),
        None => render::api_error(error),
    }
}

/// A form's status: the API's for a refusal, 200 when it worked.
pub fn status_of(error: &Option<(StatusCode, String)>) -> StatusCode {
    error.as_ref().map_or(StatusCode::OK, |(status, _)| *status)
}

/// The IDs in a console path, in order; a path with anything else in their place is a page
/// that does not exist.
pub struct Ids<const N: usize>(pub [uuid::Uuid; N]);

impl<S: Send + Sync, const N: usize> axum::extract::FromRequestParts<S> for Ids<N> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        let missing = || render::problem(StatusCode::NOT_FOUND, "There is no such page.");
        let params = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| missing())?;
        let ids: Vec<uuid::Uuid> =
            params.iter().map_while(|(_, value)| uuid::Uuid::try_parse(value).ok()).collect();
        let ids: [uuid::Uuid; N] = ids.try_into().map_err(|_| missing())?;
        Ok(Self(ids))
    }
}

/// The organization a page is about, as the API shows it to the viewer.
pub async fn organization(
    state: &crate::state::AppState,
    principal: &crate::http::principal::Principal,
    org: uuid::Uuid,
) -> Result<crate::http::views::OrganizationView, ApiError> {
    use super::api;
    api::json(
        crate::http::organizations::get(api::state(state), principal.clone(), api::path(org)).await,
    )
}

/// A list under an organization: the organization, then the page of the list that `list` (an
/// API handler) answers at `cursor`; or the page saying why either could not be read.
pub async fn org_list<T, Fut>(
    state: &crate::state::AppState,
    principal: &crate::http::principal::Principal,
    org_id: uuid::Uuid,
    cursor: Option<&str>,
    form_error: Option<&(StatusCode, String)>,
    list: impl FnOnce(
        axum::extract::State<crate::state::AppState>,
        crate::http::principal::Principal,
        crate::http::extract::ApiPath<uuid::Uuid>,
        crate::http::extract::ListQuery,
    ) -> Fut,
) -> Result<(crate::http::views::OrganizationView, crate::http::views::Page<T>), Box<Response>>
where
    Fut: std::future::Future<
            Output = crate::error::ApiResult<axum::Json<crate::http::views::Page<T>>>,
        >,
{
    use super::api;
    let org = organization(state, principal, org_id)
        .await
        .map_err(|load| Box::new(failed(load, form_error)))?;
    let listed =
        list(api::state(state), principal.clone(), api::path(org_id), api::page(cursor, &[]));
    let page = api::json(listed.await).map_err(|load| Box::new(failed(load, form_error)))?;
    Ok((org, page))
}
