//! The pages that emailed links open: verifying an address ([`verify_email`]), resetting a
//! forgotten password ([`reset_password`]), confirming a new address ([`confirm_email`]) and
//! accepting an invite ([`accept_invite`]).
//!
//! Opening a link only shows a page: its token is spent when the person presses the button,
//! by a POST. Mail scanners and link previews fetch the links in an email, and a fetch must
//! not use one up. Each button calls the API route the link was made for, so the rules,
//! limits and error texts are the API's.

pub mod accept_invite;
pub mod confirm_email;
pub mod reset_password;
pub mod verify_email;

use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use crate::console::public_form;
use crate::console::render::{self, Section, describe};
use crate::console::session::Viewer;
use crate::error::ApiError;
use crate::state::AppState;

/// A link page's query: the link's token, or what just happened.
#[derive(Debug, Default, Deserialize)]
pub struct Link {
    pub token: Option<String>,
    pub done: Option<String>,
}

impl Link {
    /// The token, if the link carried one.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref().filter(|t| !t.is_empty())
    }
}

/// What a page of `link.html` shows: a heading and a sentence, and at most one form of one
/// field (or none) and a button.
#[derive(Default)]
pub struct LinkPage {
    pub heading: &'static str,
    pub text: Option<String>,
    /// Where the form posts; no form without it.
    pub action: Option<&'static str>,
    pub token: Option<String>,
    /// `"email"` or `"password"`, or no field.
    pub field: Option<&'static str>,
    pub email: String,
    pub button: &'static str,
    pub notice: Option<&'static str>,
    pub error: Option<(StatusCode, String)>,
    /// Links under the form: `(href, label)`.
    pub links: Vec<(&'static str, &'static str)>,
}

impl LinkPage {
    /// The same page with the API's refusal of its form.
    pub fn refused(self, error: ApiError) -> Self {
        Self { error: Some(describe(error)), ..self }
    }

    /// The page for someone not signed in, its form guarded by a double-submit token.
    pub fn show(self, state: &AppState) -> Response {
        let (status, values) = self.values();
        public_form::page(state, status, "link.html", values)
    }

    /// The page for a signed-in person, its form guarded by their sign-in's token.
    pub fn show_to(self, viewer: &Viewer) -> Response {
        let (status, values) = self.values();
        render::page(status, "link.html", viewer, Section::Organizations, values)
    }

    fn values(self) -> (StatusCode, minijinja::Value) {
        let status = self.error.as_ref().map_or(StatusCode::OK, |(status, _)| *status);
        let links: Vec<_> = self
            .links
            .iter()
            .map(|&(href, label)| context! { href => href, label => label })
            .collect();
        let values = context! {
            heading => self.heading,
            text => self.text,
            action => self.action,
            token => self.token,
            field => self.field,
            email => self.email,
            button => self.button,
            password_min => crate::http::auth::PASSWORD_MIN,
            password_max => crate::auth::sign_in::PASSWORD_MAX,
            notice => self.notice,
            error => self.error.map(|(_, message)| message),
            links => links,
        };
        (status, values)
    }
}

/// Back to the sign-in page, saying what the link did.
pub fn signed_off(key: &str) -> Response {
    axum::response::IntoResponse::into_response(axum::response::Redirect::to(&format!(
        "/console/sign-in?done={key}"
    )))
}
