//! `Idempotency-Key` on every `POST` under `/api` (as Stripe's API and the IETF httpapi
//! draft describe it): a retry with the same key and the same request gets the first answer
//! again, marked `Idempotent-Replayed: true`, without the work being done twice.
//!
//! Keys belong to the credential that sent them (the SHA-256 of the `Authorization` header),
//! so one caller can never replay another's answer. A request without an `Authorization`
//! header (registering, signing in, a password reset, OAuth clients authenticating in their
//! form) has no one to keep an answer for: its key is checked for form and otherwise
//! ignored, and the request runs every time.
//!
//! The claim of a key is one committed insert; no transaction is held while the request
//! runs. A claim whose holder died is taken over by a retry once its lease has run out. The
//! work commits before its answer is recorded: a crash between the two means a retry runs
//! the request again (at least once, not exactly once).

pub mod answer;
pub mod key;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::extract::MAX_BODY_BYTES;
use crate::http::oauth::error::OAuthError;
use crate::http::principal;
use crate::http::server_key::Caller;
use crate::state::AppState;
use crate::store::idempotency::{self, Claim, KeyUse, Recorded};

pub const OTHER_REQUEST: &str = "Idempotency-Key was already used with a different request";
pub const IN_PROGRESS: &str = "A request with this Idempotency-Key is still in progress";

/// Middleware for every route; it wraps the write turns, so that a replay waits for none.
pub async fn honour(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let oauth = request.uri().path().starts_with("/api/oauth/");
    let key = match key::from_headers(request.headers()) {
        Ok(Some(key)) => key,
        Ok(None) => return next.run(request).await,
        Err(refused) => return refuse(oauth, refused),
    };
    let Some(credential) = key::credential_digest(request.headers()) else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    // Already read whole within the body deadline, and cut one byte past the limit.
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES + 1).await else {
        return refuse(oauth, ApiError::bad_request("Request body could not be read"));
    };
    if bytes.len() > MAX_BODY_BYTES {
        // The extractor's 413 is the answer each time; nothing to keep.
        return next.run(Request::from_parts(parts, Body::from(bytes))).await;
    }
    let digest = key::request_digest(&parts.method, &parts.uri, &bytes);
    let used = KeyUse { credential_digest: &credential, key: &key, request_digest: &digest };
    let now = state.clock.now();
    let lease = chrono::Duration::from_std(state.config.idempotency_lease).unwrap_or_default();
    let ttl = chrono::Duration::from_std(state.config.idempotency_ttl).unwrap_or_default();
    match idempotency::claim(&state.db, &used, now, now + lease, now + ttl).await {
        Ok(Claim::Claimed(claim_id)) => {
            let request = Request::from_parts(parts, Body::from(bytes));
            run_claimed(&state, &used, claim_id, request, next).await
        }
        Ok(Claim::Taken(Recorded::Answer { status, response })) => {
            // A bearer token revoked or expired since replays nothing, whoever holds it.
            if principal::bearer(&parts).is_some()
                && let Err(refused) = Caller::from_request_parts(&mut parts, &state).await
            {
                return refuse(oauth, refused);
            }
            answer::replay(&state.secret_box, status, &response)
                .unwrap_or_else(|err| refuse(oauth, ApiError::Internal(err)))
        }
        Ok(Claim::Taken(Recorded::InProgress)) => {
            let mut response = refuse(oauth, ApiError::conflict(IN_PROGRESS));
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Ok(Claim::Taken(Recorded::OtherRequest)) => {
            refuse(oauth, ApiError::Status(StatusCode::UNPROCESSABLE_ENTITY, OTHER_REQUEST.into()))
        }
        Err(err) => refuse(oauth, err.into()),
    }
}

/// Runs the request that holds the key, then keeps its answer or gives the key up.
async fn run_claimed(
    state: &AppState,
    used: &KeyUse<'_>,
    claim_id: Uuid,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = next.run(request).await.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(err) => {
            give_up(state, used, claim_id).await;
            return ApiError::Internal(anyhow::anyhow!("reading an answer: {err}")).into_response();
        }
    };
    let sealed = (answer::is_final(parts.status) && bytes.len() <= answer::MAX_STORED_BODY)
        .then(|| answer::seal(&state.secret_box, &parts.headers, &bytes));
    let kept = match sealed {
        Some(Ok(sealed)) => {
            let status = parts.status.as_u16();
            idempotency::finish(&state.db, used, claim_id, status, &sealed)
                .await
                .map_err(Into::into)
        }
        Some(Err(err)) => {
            give_up(state, used, claim_id).await;
            Err(err)
        }
        None => {
            give_up(state, used, claim_id).await;
            Ok(())
        }
    };
    if let Err(err) = kept {
        // The work is done and its answer goes out; a retry runs it again (after the lease,
        // should the key still be claimed).
        tracing::warn!(error = %err, "could not record an idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn give_up(state: &AppState, used: &KeyUse<'_>, claim_id: Uuid) {
    if let Err(err) = idempotency::release(&state.db, used, claim_id).await {
        tracing::warn!(error = %err, "could not release an idempotency key; its lease will");
    }
}

/// A refusal in the shape of the route's own errors: RFC 6749's under `/api/oauth/`.
fn refuse(oauth: bool, refused: ApiError) -> Response {
    if oauth { OAuthError::from(refused).into_response() } else { refused.into_response() }
}
