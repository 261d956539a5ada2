//! `/console/verify-email`: the page a verification link opens (a button that verifies the
//! address), and, without a link, the form that asks for a new one.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::response::Response;

use super::{Link, LinkPage, signed_off};
use crate::console::api;
use crate::console::pages::{done, notice};
use crate::console::public_form::PublicForm;
use crate::http::account_links::verify_email;
use crate::state::AppState;

const NOTICES: &[(&str, &str)] = &[(
    "sent",
    "If an account with that address is waiting to be verified, a new link is on its way.",
)];

pub async fn page(State(state): State<AppState>, Query(link): Query<Link>) -> Response {
    match link.token() {
        Some(token) => verify_page(token.to_owned()).show(&state),
        None => LinkPage { notice: notice(link.done.as_deref(), NOTICES), ..resend_page("") }
            .show(&state),
    }
}

pub async fn verify(State(state): State<AppState>, PublicForm(form): PublicForm) -> Response {
    let body = api::body([("token", form.text("token"))]);
    match verify_email::verify(api::state(&state), body).await {
        Ok(_) => signed_off("verified"),
        Err(error) => verify_page(form.value("token").to_owned()).refused(error).show(&state),
    }
}

pub async fn resend(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    PublicForm(form): PublicForm,
) -> Response {
    let body = api::body([("email", form.text("email"))]);
    match verify_email::resend(api::state(&state), peer, body).await {
        Ok(_) => done("/console/verify-email", "sent"),
        Err(error) => resend_page(form.value("email")).refused(error).show(&state),
    }
}

fn verify_page(token: String) -> LinkPage {
    LinkPage {
        heading: "Verify your email address",
        text: Some("Press the button to confirm that this address is yours.".into()),
        action: Some("/console/verify-email"),
        token: Some(token),
        button: "Verify my address",
        links: vec![("/console/verify-email", "Ask for a new link")],
        ..LinkPage::default()
    }
}

fn resend_page(email: &str) -> LinkPage {
    LinkPage {
        heading: "Get a new verification link",
        text: Some(
            "We will send a new link to the address, if an account there is unverified.".into(),
        ),
        action: Some("/console/verify-email/resend"),
        field: Some("email"),
        email: email.to_owned(),
        button: "Send me a new link",
        links: vec![("/console/sign-in", "Back to signing in")],
        ..LinkPage::default()
    }
}
