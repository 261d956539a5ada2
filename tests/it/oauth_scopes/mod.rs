//! OAuth tokens on the ordinary API, over real HTTP on SQLite and PostgreSQL (docs/oauth.md,
//! "Scopes"): every scoped route refuses a token without its scope (403 with an RFC 6750
//! `insufficient_scope` challenge) and serves one holding only that scope; the routes about
//! people and OAuth apps refuse OAuth tokens whatever their scopes; a token never reaches
//! another organization; a `client_credentials` token has the powers of an ADMIN and is the
//! actor of what it does; an `authorization_code` token acts as its user with the user's
//! current role; narrowing the app's scopes narrows tokens already issued.

mod matrix;
mod narrowing;
mod roles;
mod tenants;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::messages::DELETE_DENIED;
use crate::common::oauth::org_path;
use crate::common::receiver::Receiver;
use crate::common::{RoleFixture, TestApp};

/// How long a webhook delivery may take to settle in the log.
const WAIT: Duration = Duration::from_secs(10);

/// What a token holding the route's scope gets.
#[derive(Debug, Clone)]
enum Expect {
    /// Success with this status.
    Ok(StatusCode),
    /// The scope check passed, and the role rules refused with this error.
    Refused(StatusCode, &'static str),
}

/// One row of docs/oauth.md's scope table.
#[derive(Debug, Clone)]
struct Route {
    method: Method,
    path: String,
    body: Option<Value>,
    scope: &'static str,
    expect: Expect,
}

impl Route {
    fn what(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

fn route(method: Method, path: String, body: Option<Value>, scope: &'static str, ok: u16) -> Route {
    let status = StatusCode::from_u16(ok).expect("status");
    Route { method, path, body, scope, expect: Expect::Ok(status) }
}

/// Every route of the scope table for `f.org`, with the targets its successful call needs
/// created first. `DELETE /api/organizations/{id}` is last: a `client_credentials` token
/// passes its scope check and is then refused as an ADMIN would be.
async fn scoped_routes(app: &TestApp, f: &RoleFixture, receiver: &Receiver) -> Vec<Route> {
    let org = &f.org;
    let op = org_path(org);

    let newbie = app.register("newbie").await;
    let demoted = app.register("demoted").await;
    let leaver = app.register("leaver").await;
    app.add_member(org, &f.owner, &demoted, "ADMIN").await;
    app.add_member(org, &f.owner, &leaver, "MEMBER").await;
    let key = crate::common::keys::full_key(app).await;
    let (status, body) =
        crate::common::keys::put_type(app, &key, "invoice.paid", json!({"type": "object"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, body) = app
        .post(
            &format!("{op}/invites"),
            Some(&f.owner.token),
            json!({"email": "cancel-me@example.com", "role": "MEMBER"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "invite: {body}");
    let invite = body["id"].as_str().expect("invite id").to_owned();

    let (hook, _) = app.create_webhook(org, &f.owner, &receiver.url, &["webhook.created"]).await;
    let log = app
        .wait_for_deliveries(org, &hook, &f.owner, WAIT, |d| {
            d.len() == 1 && d[0]["status"] == "succeeded"
        })
        .await;
    let delivery = log[0]["id"].as_str().expect("delivery id").to_owned();
    let (doomed, _) =
        app.create_webhook(org, &f.owner, "https://example.com/gone", &["member.added"]).await;
    let hp = format!("{op}/webhooks/{hook}");

    vec![
        route(Method::GET, "/api/organizations".to_owned(), None, "organization:read", 200),
        route(Method::GET, op.clone(), None, "organization:read", 200),
        route(Method::GET, format!("{op}/events"), None, "organization:read", 200),
        route(
            Method::PATCH,
            op.clone(),
            Some(json!({"name": "Renamed Corp"})),
            "organization:write",
            200,
        ),
        route(Method::GET, format!("{op}/members"), None, "members:read", 200),
        route(
            Method::POST,
            format!("{op}/members"),
            Some(json!({"email": newbie.email, "role": "MEMBER"})),
            "members:write",
            201,
        ),
        route(
            Method::PATCH,
            format!("{op}/members/{}", demoted.id),
            // The one role an OAuth token may give.
            Some(json!({"role": "MEMBER"})),
            "members:write",
            200,
        ),
        route(Method::DELETE, format!("{op}/members/{}", leaver.id), None, "members:write", 204),
        route(Method::GET, format!("{op}/invites"), None, "invites:read", 200),
        route(
            Method::POST,
            format!("{op}/invites"),
            Some(json!({"email": "invitee@example.com", "role": "MEMBER"})),
            "invites:write",
            201,
        ),
        route(Method::DELETE, format!("{op}/invites/{invite}"), None, "invites:write", 204),
        route(Method::GET, format!("{op}/webhooks"), None, "webhooks:read", 200),
        route(Method::GET, hp.clone(), None, "webhooks:read", 200),
        route(Method::GET, format!("{hp}/deliveries"), None, "webhooks:read", 200),
        route(Method::GET, format!("{hp}/delivery-stats"), None, "webhooks:read", 200),
        route(
            Method::POST,
            format!("{op}/webhooks"),
            Some(json!({"url": "https://example.com/new", "events": ["webhook.created"]})),
            "webhooks:write",
            201,
        ),
        route(Method::PATCH, hp.clone(), Some(json!({"isActive": true})), "webhooks:write", 200),
        route(Method::POST, format!("{hp}/rotate-secret"), Some(json!({})), "webhooks:write", 200),
        route(
            Method::POST,
            format!("{hp}/deliveries/{delivery}/redeliver"),
            Some(json!({})),
            "webhooks:write",
            202,
        ),
        route(Method::POST, format!("{hp}/test"), Some(json!({})), "webhooks:write", 202),
        route(
            Method::POST,
            format!("{hp}/recover"),
            Some(json!({"since": "2000-01-01T00:00:00Z"})),
            "webhooks:write",
            202,
        ),
        route(Method::DELETE, format!("{op}/webhooks/{doomed}"), None, "webhooks:write", 204),
        route(
            Method::POST,
            format!("{op}/events"),
            Some(json!({"type": "invoice.paid", "data": {}})),
            "events:publish",
            202,
        ),
        Route {
            method: Method::DELETE,
            path: op.clone(),
            body: None,
            scope: "organization:write",
            expect: Expect::Refused(StatusCode::FORBIDDEN, DELETE_DENIED),
        },
    ]
}

/// The `oauth-apps` routes of `org`, with `app_id` as the app they name.
fn oauth_app_routes(org: &str, app_id: &str) -> Vec<(Method, String, Option<Value>)> {
    let ap = format!("{}/oauth-apps", org_path(org));
    vec![
        (
            Method::POST,
            ap.clone(),
            Some(
                json!({"name": "X", "redirectUris": ["https://x.example/cb"], "scopes": ["members:read"]}),
            ),
        ),
        (Method::GET, ap.clone(), None),
        (Method::GET, format!("{ap}/{app_id}"), None),
        (Method::PATCH, format!("{ap}/{app_id}"), Some(json!({"name": "Y"}))),
        (Method::POST, format!("{ap}/{app_id}/rotate-secret"), Some(json!({}))),
        (Method::POST, format!("{ap}/{app_id}/revoke"), Some(json!({}))),
    ]
}
