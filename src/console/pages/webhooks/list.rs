//! The organization's webhooks, and adding one: its signing secret is shown once, on the
//! new webhook's page.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use uuid::Uuid;

use super::{detail, event_types, settings_body};
use crate::console::api;
use crate::console::form::{Form, Posted};
use crate::console::pages::{Ids, Shown, failed, notice, org_list, status_of};
use crate::console::render::{self, Section, describe};
use crate::console::session::Viewer;
use crate::http::webhooks;
use crate::state::AppState;

const NOTICES: &[(&str, &str)] = &[("deleted", "Webhook deleted.")];

pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Ids([org]): Ids<1>,
    Query(shown): Query<Shown>,
) -> Response {
    list_page(&state, &viewer, org, &shown, &Form::default(), None).await
}

async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    org_id: Uuid,
    shown: &Shown,
    form: &Form,
    error: Option<(StatusCode, String)>,
) -> Response {
    let cursor = shown.cursor.as_deref();
    let (org, page) =
        match org_list(state, viewer, org_id, cursor, error.as_ref(), webhooks::read::list).await {
            Ok(found) => found,
            Err(page) => return *page,
        };
    let types = match event_types(state, viewer, &[]).await {
        Ok(types) => types,
        Err(load) => return failed(load, error.as_ref()),
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
        org => render::of(&org),
    };
    render::page(status_of(&error), "webhooks.html", viewer, Section::Webhooks, values)
}

pub async fn create(
    State(state): State<AppState>,
    Ids([org]): Ids<1>,
    Posted { viewer, form }: Posted,
) -> Response {
    let body = api::body(settings_body(&form, false));
    let change = webhooks::create::create(
        api::state(&state),
        viewer.principal.clone(),
        api::path(org),
        body,
    );
    match api::in_turn(&state, org, change).await {
        Ok((_, axum::Json(created))) => {
            let shown =
                detail::Shown::secret(created.secret, "Webhook added: here is its signing secret");
            detail::webhook_page(&state, &viewer, org, created.id, StatusCode::CREATED, shown).await
        }
        Err(error) => {
            list_page(&state, &viewer, org, &Shown::default(), &form, Some(describe(error))).await
        }
    }
}
