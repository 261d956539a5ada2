//! `/console/confirm-email`: the page the link sent to a new address opens, where the change
//! of address is confirmed.

use axum::extract::{Query, State};
use axum::response::Response;

use super::{Link, LinkPage, signed_off};
use crate::console::api;
use crate::console::public_form::PublicForm;
use crate::http::account_links::change_email;
use crate::state::AppState;

pub async fn page(State(state): State<AppState>, Query(link): Query<Link>) -> Response {
    let token = link.token().unwrap_or_default().to_owned();
    confirm_page(token).show(&state)
}

pub async fn confirm(State(state): State<AppState>, PublicForm(form): PublicForm) -> Response {
    let body = api::body([("token", form.text("token"))]);
    match change_email::confirm(api::state(&state), body).await {
        Ok(_) => signed_off("email-changed"),
        Err(error) => confirm_page(form.value("token").to_owned()).refused(error).show(&state),
    }
}

fn confirm_page(token: String) -> LinkPage {
    LinkPage {
        heading: "Confirm your new email address",
        text: Some("Press the button to move your account to this address.".into()),
        action: Some("/console/confirm-email"),
        token: Some(token),
        button: "Confirm my new address",
        links: vec![("/console/account", "Back to my account")],
        ..LinkPage::default()
    }
}
