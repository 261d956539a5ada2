//! The console: server-rendered pages where people run their organizations.
//!
//! Every page and form calls the JSON API's own handlers in-process, as the signed-in person
//! (see [`api`]): one implementation of each rule, error text and event, whichever door a
//! request came in by. The console only turns forms into the API's bodies and the API's
//! answers into HTML.
//!
//! Pages are MiniJinja templates compiled into the binary ([`render`]), with a stylesheet and
//! a small script served from it too ([`assets`]): no CDN, no build step. Every form works
//! without JavaScript; the script only adds what HTML cannot (local times, copying a link,
//! asking before a destructive action).

pub mod api;
pub mod assets;
pub mod form;
pub mod pages;
pub mod portal;
pub mod public_form;
pub mod render;
pub mod seat;
pub mod session;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

use crate::state::AppState;

/// The console's routes, under `/console`, and `/` sending people there.
pub fn router() -> Router<AppState> {
    use pages::{invites, members, organizations, sign_in};
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(organizations::list))
        .route("/console/assets/{name}", get(assets::serve))
        .route("/console/sign-in", get(sign_in::page).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .merge(link_routes())
        .route("/console/organizations", post(organizations::create))
        .route("/console/organizations/{id}", get(organizations::overview))
        .route("/console/organizations/{id}/settings", post(organizations::rename))
        .route("/console/organizations/{id}/members", get(members::page).post(members::add))
        .route("/console/organizations/{id}/members/{user}/role", post(members::change_role))
        .route("/console/organizations/{id}/members/{user}/remove", post(members::remove))
        .route("/console/organizations/{id}/invites", get(invites::page).post(invites::create))
        .route("/console/organizations/{id}/invites/{invite}/cancel", post(invites::cancel))
        .route("/console/organizations/{id}/events", get(pages::events::page))
        .merge(webhook_routes())
        .merge(account_routes())
        .merge(oauth_app_routes())
        .layer(axum::middleware::from_fn(form::same_origin_only))
}

/// The pages emailed links open, where `ROSTER_EMAIL_LINK_URL` does not send them elsewhere.
fn link_routes() -> Router<AppState> {
    use pages::links::{accept_invite, confirm_email, reset_password, verify_email};
    Router::new()
        .route("/console/verify-email", get(verify_email::page).post(verify_email::verify))
        .route("/console/verify-email/resend", post(verify_email::resend))
        .route("/console/reset-password", get(reset_password::page).post(reset_password::request))
        .route("/console/reset-password/confirm", post(reset_password::confirm))
        .route("/console/confirm-email", get(confirm_email::page).post(confirm_email::confirm))
        .route("/console/invites/accept", get(accept_invite::page).post(accept_invite::accept))
}

/// The webhooks pages, for a person in the console and, without deleting and recovering, for
/// a portal session's customer.
fn webhook_routes() -> Router<AppState> {
    use pages::webhooks::{deliveries, detail, list};
    let mut router = Router::new()
        .route("/portal/open", get(portal::open))
        .route("/portal/{token}/theme.css", get(portal::theme_css));
    for home in ["/console/organizations/{id}/webhooks", "/portal/{token}/webhooks"] {
        let one = format!("{home}/{{webhook}}");
        router = router
            .route(home, get(list::page).post(list::create))
            .route(&one, get(detail::page))
            .route(&format!("{one}/edit"), post(detail::edit))
            .route(&format!("{one}/active"), post(detail::set_active))
            .route(&format!("{one}/test"), post(detail::test))
            .route(&format!("{one}/rotate"), post(detail::rotate))
            .route(&format!("{one}/deliveries"), get(deliveries::fragment))
            .route(
                &format!("{one}/deliveries/{{delivery}}/redeliver"),
                post(deliveries::redeliver),
            );
    }
    const ONE: &str = "/console/organizations/{id}/webhooks/{webhook}";
    router
        .route(&format!("{ONE}/delete"), post(detail::delete))
        .route(&format!("{ONE}/recover"), post(deliveries::recover))
}

fn oauth_app_routes() -> Router<AppState> {
    use pages::oauth_apps::{detail, list};
    const ONE: &str = "/console/organizations/{id}/oauth-apps/{app}";
    Router::new()
        .route("/console/organizations/{id}/oauth-apps", get(list::page).post(list::create))
        .route(ONE, get(detail::page))
        .route(&format!("{ONE}/edit"), post(detail::edit))
        .route(&format!("{ONE}/rotate"), post(detail::rotate))
        .route(&format!("{ONE}/revoke"), post(detail::revoke))
}

fn account_routes() -> Router<AppState> {
    use pages::account::{self, credentials};
    Router::new()
        .route("/console/account", get(account::page))
        .route("/console/account/profile", post(account::rename))
        .route("/console/account/password", post(account::change_password))
        .route("/console/account/sessions/revoke-others", post(credentials::revoke_others))
        .route("/console/account/sessions/{session}/revoke", post(credentials::revoke_session))
        .route("/console/account/tokens", post(credentials::create_token))
        .route("/console/account/tokens/{token}/revoke", post(credentials::revoke_token))
}
