//! Changing the person's own profile.

use axum::Json;
use axum::extract::State;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::NAME;
use crate::http::body::{Prop, body_schema};
use crate::http::extract::JsonObject;
use crate::http::principal::Principal;
use crate::http::validate::Fields;
use crate::http::views::{ErrorBody, UserView};
use crate::state::AppState;
use crate::store::users;

const UPDATE: &[Prop] = &[NAME];
body_schema!(UpdateProfileRequest = UPDATE);

/// Change the signed-in user's name, under the rules registration applies.
#[utoipa::path(patch, path = "/api/users/me", tag = "users", security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody),
               (status = 401, body = ErrorBody),
               (status = 403, body = ErrorBody, description = "OAuth tokens cannot be used here")))]
pub async fn update_profile(
    State(state): State<AppState>,
    principal: Principal,
    JsonObject(body): JsonObject,
) -> ApiResult<Json<UserView>> {
    let user_id = principal.person()?;
    let mut f = Fields::new(body, UPDATE);
    let name = f.text(&NAME);
    f.finish()?;

    let mut tx = state.db.begin_write().await?;
    let user = users::rename(&mut tx, user_id, &name, state.clock.now())
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    tx.commit().await?;
    Ok(Json(user.into()))
}
