//! The organization's webhooks, and adding one: its signing secret is shown once, on the
//! new webhook's page.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;

use super::{check_subscribable, detail, event_types, settings_body};
use crate::console::api;
use crate::console::form::Form;
use crate::console::pages::{Shown, notice, status_of};
use crate::console::render::{self, describe};
use crate::console::seat::{At, Seat, Submitted};
use crate::http::webhooks;
use crate::state::AppState;

const NOTICES: &[(&str, &str)] = &[("deleted", "Webhook deleted.")];

pub async fn page(
    State(state): State<AppState>,
    At(seat, []): At<0>,
    Query(shown): Query<Shown>,
) -> Response {
    list_page(&state, &seat, &shown, &Form::default(), None).await
}

async fn list_page(
    state: &AppState,
    seat: &Seat,
    shown: &Shown,
    form: &Form,
    error: Option<(StatusCode, String)>,
) -> Response {
    let org = match super::org_of(state, seat).await {
        Ok(org) => org,
        Err(load) => return seat.failed(load, error.as_ref()),
    };
    let query = api::page(shown.cursor.as_deref(), &[]);
    let path = api::path(seat.org_id);
    let listed = webhooks::read::list(api::state(state), seat.principal.clone(), path, query);
    let mut page = match api::json(listed.await) {
        Ok(page) => page,
        Err(load) => return seat.failed(load, error.as_ref()),
    };
    page.data.retain(|webhook| seat.shows(&webhook.events));
    let types = match event_types(state, seat, &[]).await {
        Ok(types) => types,
        Err(load) => return seat.failed(load, error.as_ref()),
    };
    let values = context! {
        webhooks => render::of(&page.data),
        next_cursor => page.next_cursor,
        event_types => render::of(&types),
        form => context! {
            url => form.value("url"),
            events => form.values("events"),
            rateLimit => form.value("rateLimit"),
        },
        notice => notice(shown.done.as_deref(), NOTICES),
        error => error.as_ref().map(|(_, message)| message),
        org => org,
    };
    render::seated(status_of(&error), "webhooks.html", seat, values)
}

pub async fn create(
    State(state): State<AppState>,
    Submitted(seat, [], form): Submitted<0>,
) -> Response {
    let created = async {
        check_subscribable(&seat, &form)?;
        let body = api::body(settings_body(&form, false));
        let path = api::path(seat.org_id);
        let change =
            webhooks::create::create(api::state(&state), seat.principal.clone(), path, body);
        api::in_turn(&state, seat.org_id, change).await
    };
    match created.await {
        Ok((_, axum::Json(created))) => {
            let label = "Webhook added: here is its signing secret";
            let shown = detail::Shown::secret(created.secret, label);
            detail::webhook_page(&state, &seat, created.id, StatusCode::CREATED, shown).await
        }
        Err(error) => {
            list_page(&state, &seat, &Shown::default(), &form, Some(describe(error))).await
        }
    }
}
