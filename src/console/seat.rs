//! Who acts on a webhooks page, and where its links go: a person signed in to the console
//! (`/console/organizations/{id}/webhooks…`), or a portal session handed to an application's
//! customer (`/portal/{token}/webhooks…`). The pages are the same; a portal may be limited
//! to some event types, or to reading.

use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::form::{CSRF_FIELD, FORGED, Form, MAX_FORM_BYTES};
use super::portal::{self, Portal};
use super::render;
use super::session::Viewer;
use crate::state::AppState;

pub struct Seat {
    pub org_id: Uuid,
    pub principal: crate::http::principal::Principal,
    /// The token every form on these pages carries.
    pub csrf: String,
    /// The path of the organization's webhooks list; every other page is under it.
    pub home: String,
    pub place: Place,
}

pub enum Place {
    Console(Viewer),
    Portal(Portal),
}

impl Seat {
    pub fn console(viewer: Viewer, org_id: Uuid) -> Self {
        Self {
            org_id,
            principal: viewer.principal.clone(),
            csrf: viewer.csrf.clone(),
            home: format!("/console/organizations/{org_id}/webhooks"),
            place: Place::Console(viewer),
        }
    }

    pub fn portal(&self) -> Option<&Portal> {
        match &self.place {
            Place::Portal(portal) => Some(portal),
            Place::Console(_) => None,
        }
    }

    /// Whether a webhook subscribed to `events` is one this page shows.
    pub fn shows(&self, events: &[String]) -> bool {
        self.portal()
            .and_then(|p| p.events.as_ref())
            .is_none_or(|allowed| events.iter().all(|e| allowed.contains(e)))
    }

    /// A page saying why something could not be shown or done, in the seat's own layout and
    /// with a way back that stays in it: a portal's customer has no console. In a portal it
    /// carries the portal's headers, so that it shows inside the iframe the portal lives in.
    pub fn problem(&self, status: StatusCode, message: &str) -> Response {
        let back = match self.place {
            Place::Console(_) => ("/console", "Back to the console"),
            Place::Portal(_) => (self.home.as_str(), "Back to the webhooks"),
        };
        let (href, label) = back;
        let values = minijinja::context! {
            status => status.as_u16(),
            message => message,
            back => minijinja::context! { href => href, label => label },
        };
        render::seated(status, "problem.html", self, values)
    }

    /// The page for a page that could not load, or for a form's refusal if there was one
    /// (see [`crate::console::pages::failed`]).
    pub fn failed(
        &self,
        error: crate::error::ApiError,
        form_error: Option<&(StatusCode, String)>,
    ) -> Response {
        let (status, message) = match form_error {
            Some((status, message)) => (*status, message.clone()),
            None => render::describe(error),
        };
        self.problem(status, &message)
    }

    /// The event types this page may subscribe a webhook to, if it is limited.
    pub fn allowed_events(&self) -> Option<&[String]> {
        self.portal().and_then(|p| p.events.as_deref())
    }
}

/// The seat of a webhooks page and the `N` IDs in its path after the organization's.
pub struct At<const N: usize>(pub Seat, pub [Uuid; N]);

fn missing() -> Response {
    render::problem(StatusCode::NOT_FOUND, "There is no such page.")
}

impl<const N: usize> FromRequestParts<AppState> for At<N> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let params =
            RawPathParams::from_request_parts(parts, state).await.map_err(|_| missing())?;
        let mut values = params.iter().map(|(name, value)| (name.to_owned(), value.to_owned()));
        let (first_name, first) = values.next().ok_or_else(missing)?;
        let ids: Vec<Uuid> = values.map_while(|(_, v)| Uuid::try_parse(&v).ok()).collect();
        let ids: [Uuid; N] = ids.try_into().map_err(|_| missing())?;
        let seat = if first_name == "token" {
            portal::seat(state, &first).await?
        } else {
            let org_id = Uuid::try_parse(&first).map_err(|_| missing())?;
            let viewer = Viewer::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
            Seat::console(viewer, org_id)
        };
        Ok(Self(seat, ids))
    }
}

/// A form posted on a webhooks page: its seat, IDs and fields, its CSRF token checked, and
/// refused on a portal that only reads.
pub struct Submitted<const N: usize>(pub Seat, pub [Uuid; N], pub Form);

impl<const N: usize> FromRequest<AppState> for Submitted<N> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let At(seat, ids) = At::<N>::from_request_parts(&mut parts, state).await?;
        if parts.method != Method::POST {
            return Err(missing());
        }
        if seat.portal().is_some_and(|p| p.read_only) {
            let read_only = "This page shows webhooks only: it cannot change them.";
            return Err(seat.problem(StatusCode::FORBIDDEN, read_only));
        }
        let Ok(body) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            let too_large = "That form was too large to read.";
            return Err(seat.problem(StatusCode::PAYLOAD_TOO_LARGE, too_large));
        };
        let form = Form::parse(&body);
        let presented = form.get(CSRF_FIELD).unwrap_or_default();
        if !super::session::same_token(presented, &seat.csrf) {
            return Err(seat.problem(StatusCode::FORBIDDEN, FORGED));
        }
        Ok(Self(seat, ids, form))
    }
}
