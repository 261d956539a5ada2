//! `/console/reset-password`: asking for a reset link, and the page the link opens, where the
//! new password is set.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::response::Response;

use super::{Link, LinkPage, signed_off};
use crate::console::api;
use crate::console::pages::{done, notice};
use crate::console::public_form::PublicForm;
use crate::http::account_links::password_reset;
use crate::state::AppState;

const NOTICES: &[(&str, &str)] =
    &[("sent", "If an account uses that address, a link to reset its password is on its way.")];

pub async fn page(State(state): State<AppState>, Query(link): Query<Link>) -> Response {
    match link.token() {
        Some(token) => new_password_page(token.to_owned()).show(&state),
        None => LinkPage { notice: notice(link.done.as_deref(), NOTICES), ..request_page("") }
            .show(&state),
    }
}

pub async fn request(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    PublicForm(form): PublicForm,
) -> Response {
    let body = api::body([("email", form.text("email"))]);
    match password_reset::request(api::state(&state), peer, body).await {
        Ok(_) => done("/console/reset-password", "sent"),
        Err(error) => request_page(form.value("email")).refused(error).show(&state),
    }
}

pub async fn confirm(State(state): State<AppState>, PublicForm(form): PublicForm) -> Response {
    let body = api::body([("token", form.text("token")), ("password", form.text("password"))]);
    match password_reset::confirm(api::state(&state), body).await {
        Ok(_) => signed_off("password-reset"),
        Err(error) => new_password_page(form.value("token").to_owned()).refused(error).show(&state),
    }
}

fn request_page(email: &str) -> LinkPage {
    LinkPage {
        heading: "Reset your password",
        text: Some("We will email a link to set a new password, valid for a short while.".into()),
        action: Some("/console/reset-password"),
        field: Some("email"),
        email: email.to_owned(),
        button: "Send me a link",
        links: vec![("/console/sign-in", "Back to signing in")],
        ..LinkPage::default()
    }
}

fn new_password_page(token: String) -> LinkPage {
    LinkPage {
        heading: "Choose a new password",
        text: Some("Setting it signs you out everywhere else.".into()),
        action: Some("/console/reset-password/confirm"),
        token: Some(token),
        field: Some("password"),
        button: "Set my password",
        links: vec![("/console/reset-password", "Ask for a new link")],
        ..LinkPage::default()
    }
}
