//! `/console/invites/accept`: the page an invite's link opens. Accepting needs the invited
//! account, so the page asks to sign in first and comes back to the link afterwards.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::{Link, LinkPage};
use crate::console::api;
use crate::console::form::Posted;
use crate::console::session::Viewer;
use crate::http::invites;
use crate::state::AppState;

pub async fn page(viewer: Viewer, Query(link): Query<Link>) -> Response {
    let token = link.token().unwrap_or_default().to_owned();
    accept_page(&viewer, token).show_to(&viewer)
}

pub async fn accept(State(state): State<AppState>, Posted { viewer, form }: Posted) -> Response {
    let body = api::body([("token", form.text("token"))]);
    let accepted = invites::accept(api::state(&state), viewer.principal.clone(), body).await;
    match accepted {
        Ok(axum::Json(accepted)) => {
            let org = accepted.invite.organization_id;
            Redirect::to(&format!("/console/organizations/{org}?done=joined")).into_response()
        }
        Err(error) => {
            accept_page(&viewer, form.value("token").to_owned()).refused(error).show_to(&viewer)
        }
    }
}

fn accept_page(viewer: &Viewer, token: String) -> LinkPage {
    LinkPage {
        heading: "Accept an invite",
        text: Some(format!(
            "You are signed in as {}. Accepting makes this account a member of the organization \
             that invited it.",
            viewer.user.email
        )),
        action: Some("/console/invites/accept"),
        token: Some(token),
        button: "Accept the invite",
        links: vec![("/console", "Not now: to my organizations")],
        ..LinkPage::default()
    }
}
