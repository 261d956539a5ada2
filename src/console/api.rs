//! Calling the JSON API's handlers from a console page: its bodies, paths and queries built
//! from forms, and its write turns taken as its middleware takes them.

use std::collections::HashMap;
use std::future::Future;

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::ApiResult;
use crate::http::extract::{ApiPath, DEFAULT_LIMIT, JsonObject, ListQuery};
use crate::state::AppState;

/// A JSON body of the given fields; absent ones are left out, for the API to name.
pub fn body<'a>(fields: impl IntoIterator<Item = (&'a str, Option<Value>)>) -> JsonObject {
    JsonObject(
        fields
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
            .collect::<Map<String, Value>>(),
    )
}

pub fn state(state: &AppState) -> State<AppState> {
    State(state.clone())
}

pub fn path<T>(value: T) -> ApiPath<T> {
    ApiPath(value)
}

/// A page of a list, from the cursor a console link carries.
pub fn page(cursor: Option<&str>, params: &[(&str, &str)]) -> ListQuery {
    ListQuery {
        limit: DEFAULT_LIMIT,
        cursor: cursor.filter(|c| !c.is_empty()).map(str::to_owned),
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<HashMap<_, _>>(),
    }
}

pub fn json<T>(result: ApiResult<Json<T>>) -> ApiResult<T> {
    result.map(|Json(value)| value)
}

/// Runs a change to organization `org` in its turn, as the API's `org_writes` middleware runs
/// the API's: one organization's burst of console clicks waits behind its own writes only.
pub async fn in_turn<T>(
    state: &AppState,
    org: Uuid,
    change: impl Future<Output = ApiResult<T>>,
) -> ApiResult<T> {
    let ticket = state.org_writes.enter(org)?;
    let _turn = ticket.turn().await;
    change.await
}
