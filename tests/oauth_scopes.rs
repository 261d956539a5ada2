//! OAuth tokens on the ordinary API, over real HTTP on SQLite and PostgreSQL (docs/oauth.md,
//! "Scopes"): every scoped route refuses a token without its scope (403 with an RFC 6750
//! `insufficient_scope` challenge) and serves one holding only that scope; the routes about
//! people and OAuth apps refuse OAuth tokens whatever their scopes; a token never reaches
//! another organization; a `client_credentials` token has the powers of an ADMIN and is the
//! actor of what it does; an `authorization_code` token acts as its user with the user's
//! current role; narrowing the app's scopes narrows tokens already issued.
mod common;

use std::time::Duration;

use common::oauth::{ALL_SCOPES, TestOAuthApp, assert_insufficient_scope, org_path, random_id};
use common::receiver::Receiver;
use common::{AUTH_REQUIRED, Backend, RoleFixture, TestApp, TestUser, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ORG_NOT_FOUND: &str = "Organization not found";
const OAUTH_REFUSED: &str = "Access denied. OAuth tokens cannot be used for this route.";
const OWNERS_ONLY: &str = "Access denied. Only owners can grant or remove the OWNER role.";
const OWNER_REMOVAL_DENIED: &str = "Access denied. Only owners can remove owners.";
const OWNER_INVITE_DENIED: &str = "Access denied. Only owners can invite owners.";
const DELETE_DENIED: &str = "Access denied. Only owners can delete organizations.";
const ADD_DENIED: &str = "Access denied. Only owners and admins can add members.";

/// How long a webhook delivery may take to settle in the log.
const WAIT: Duration = Duration::from_secs(10);

/// Every scope but `scope`, space-separated, as the token endpoint takes them.
fn all_but(scope: &str) -> String {
    ALL_SCOPES.iter().filter(|s| **s != scope).copied().collect::<Vec<_>>().join(" ")
}

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
    let promoted = app.register("promoted").await;
    let leaver = app.register("leaver").await;
    app.add_member(org, &f.owner, &promoted, "MEMBER").await;
    app.add_member(org, &f.owner, &leaver, "MEMBER").await;

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
            format!("{op}/members/{}", promoted.id),
            Some(json!({"role": "ADMIN"})),
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

/// An `authorization_code` access token for `user` with `scope`.
async fn authorization_code_token(
    app: &TestApp,
    oauth: &TestOAuthApp,
    user: &TestUser,
    scope: &str,
) -> String {
    let body = app.authorization_code_grant(oauth, user, Some(scope)).await;
    body["access_token"].as_str().expect("access token").to_owned()
}

// ---------------------------------------------------------------------------------------------
// The scope × route matrix
// ---------------------------------------------------------------------------------------------

async fn every_scoped_route_needs_its_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let routes = scoped_routes(&app, &f, &receiver).await;

    for scope in ALL_SCOPES {
        assert!(routes.iter().any(|r| r.scope == scope), "the table covers {scope}");
    }
    let mut without = std::collections::HashMap::new();
    let mut only = std::collections::HashMap::new();
    for scope in ALL_SCOPES {
        without.insert(scope, app.client_credentials_token(&oauth, Some(&all_but(scope))).await);
        // Subscribing to `webhook.created` also takes reading webhooks (docs/oauth.md): the
        // webhooks:write routes here create or change webhooks subscribed to it.
        let granted =
            if scope == "webhooks:write" { "webhooks:write webhooks:read" } else { scope };
        only.insert(scope, app.client_credentials_token(&oauth, Some(granted)).await);
    }

    for r in &routes {
        let what = r.what();
        // Without the scope: refused before anything happens, with the challenge.
        let token = without.get(r.scope).expect("token without the scope");
        let (status, headers, body) =
            app.send(r.method.clone(), &r.path, Some(token), r.body.clone()).await;
        assert_insufficient_scope(&what, status, &headers, &body, r.scope);

        // A token of another scope only is refused alike.
        let other = ALL_SCOPES.iter().find(|s| **s != r.scope).expect("another scope");
        let token = only.get(other).expect("token with one scope");
        let (status, headers, body) =
            app.send(r.method.clone(), &r.path, Some(token), r.body.clone()).await;
        assert_insufficient_scope(
            &format!("{what} with only {other}"),
            status,
            &headers,
            &body,
            r.scope,
        );

        // With only that scope: served (or refused by the role rules, never by the scope).
        let token = only.get(r.scope).expect("token with the scope");
        let (status, _, body) =
            app.send(r.method.clone(), &r.path, Some(token), r.body.clone()).await;
        match &r.expect {
            Expect::Ok(ok) => assert_eq!(status, *ok, "{what} with only {}: {body}", r.scope),
            Expect::Refused(code, message) => {
                assert_eq!(status, *code, "{what} with only {}: {body}", r.scope);
                assert_error(status, &body, *code, message);
            }
        }
    }

    // The successful calls did what they say: the organization still exists, renamed.
    let (status, body) = app.get(&org_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Renamed Corp", "{body}");
    let members = app.list_all(&format!("{}/members", org_path(&f.org)), &f.owner.token).await;
    let emails: Vec<&str> = members.iter().map(|m| m["email"].as_str().expect("email")).collect();
    assert!(emails.contains(&"newbie@example.com"), "{emails:?}");
    assert!(!emails.contains(&"leaver@example.com"), "{emails:?}");
    let promoted = members.iter().find(|m| m["email"] == "promoted@example.com").expect("promoted");
    assert_eq!(promoted["role"], "ADMIN");
}

/// The routes about people and OAuth apps refuse OAuth tokens, whatever their scopes.
async fn personal_routes_refuse_oauth_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let (status, body) = app
        .post(
            &format!("{}/invites", org_path(&f.org)),
            Some(&f.owner.token),
            json!({"email": f.outsider.email, "role": "MEMBER"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let invite_token = body["token"].as_str().expect("invite token").to_owned();

    let mut routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/users/me".to_owned(), None),
        (Method::POST, "/api/users/me/tokens".to_owned(), Some(json!({"name": "ci"}))),
        (Method::GET, "/api/users/me/tokens".to_owned(), None),
        (Method::DELETE, format!("/api/users/me/tokens/{}", random_id()), None),
        (Method::POST, "/api/organizations".to_owned(), Some(json!({"name": "Sneaky Corp"}))),
        (Method::POST, "/api/invites/accept".to_owned(), Some(json!({"token": invite_token}))),
        (Method::POST, "/api/auth/logout".to_owned(), Some(json!({}))),
    ];
    routes.extend(oauth_app_routes(&f.org, &oauth.id));
    for (method, path, body) in &routes {
        let (status, res) = app.call(method.clone(), path, Some(&token), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {res}");
        assert_error(status, &res, StatusCode::FORBIDDEN, OAUTH_REFUSED);
    }

    // None of it happened: the token was not logged out, no organization was created, the
    // invite is still pending and the app is untouched.
    let (status, body) = app.get("/api/organizations", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "the token still works: {body}");
    assert_eq!(body["data"].as_array().expect("data").len(), 1, "{body}");
    let (status, body) =
        app.get(&format!("{}/invites", org_path(&f.org)), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"][0]["status"], "pending", "{body}");
    let (status, body) = app
        .get(&format!("{}/oauth-apps/{}", org_path(&f.org), oauth.id), Some(&f.owner.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "active", "{body}");
    assert_eq!(body["name"], "Test app", "{body}");
    for person in [&f.owner, &f.admin, &f.member, &f.outsider] {
        let (status, body) = app.get("/api/organizations", Some(&person.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(!body.to_string().contains("Sneaky Corp"), "no organization was created: {body}");
    }
    let (status, body) = app.get("/api/users/me/tokens", Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!([]), "no personal token was created: {body}");
    let types = app.event_types(&f.org, &f.owner).await;
    assert!(!types.contains(&"invite.accepted".to_owned()), "{types:?}");
    assert!(!types.contains(&"oauth_app.revoked".to_owned()), "{types:?}");
}

/// A token of one organization finds nothing of another, even with every scope.
async fn tokens_never_reach_another_organization(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let mine = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let routes = scoped_routes(&app, &f, &receiver).await;

    let elsewhere = app.create_org(&f.outsider, "Other Corp").await;
    let theirs = app.create_oauth_app(&elsewhere, &f.outsider, &ALL_SCOPES).await;
    let token = app.client_credentials_token(&theirs, None).await;

    let mut checked = 0;
    for r in routes.iter().filter(|r| r.path.contains(&f.org)) {
        let (status, _, body) =
            app.send(r.method.clone(), &r.path, Some(&token), r.body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}: {body}", r.what());
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        checked += 1;
    }
    assert!(checked >= 20, "every organization route was tried");
    for (method, path, body) in oauth_app_routes(&f.org, &mine.id) {
        let (status, res) = app.call(method.clone(), &path, Some(&token), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {res}");
        assert_error(status, &res, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    // An organization that does not exist answers alike.
    let (status, body) = app.get(&org_path(&random_id()), Some(&token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // Nothing changed in the first organization.
    let (status, body) = app.get(&org_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Acme Corp", "{body}");
    let types = app.event_types(&f.org, &f.owner).await;
    assert!(
        !types.iter().any(|t| t == "organization.updated"
            || t == "invite.cancelled"
            || t == "member.removed"),
        "{types:?}"
    );
    // …and the token works in its own.
    let (status, body) = app.get(&org_path(&elsewhere), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn listing_organizations_shows_only_the_tokens_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    // The app's owners belong to other organizations too.
    let second = app.create_org(&f.owner, "Owner Two").await;
    let third = app.create_org(&f.admin, "Admin Two").await;
    app.add_member(&third, &f.admin, &f.owner, "MEMBER").await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["organization:read"]).await;
    let token = app.client_credentials_token(&oauth, None).await;

    let (status, body) = app.get("/api/organizations", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{body}");
    assert_eq!(data[0]["id"], json!(f.org));
    assert_eq!(data[0]["name"], "Acme Corp");
    assert_eq!(body["nextCursor"], Value::Null, "{body}");
    for other in [&second, &third] {
        let (status, body) = app.get(&org_path(other), Some(&token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    // The owner still sees all three.
    let (status, body) = app.get("/api/organizations", Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().expect("data").len(), 3, "{body}");
}

// ---------------------------------------------------------------------------------------------
// Role rules
// ---------------------------------------------------------------------------------------------

async fn client_credentials_acts_as_an_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let t = Some(token.as_str());
    let op = org_path(&f.org);
    let plain = app.register("plain").await;
    let boss = app.register("boss").await;
    let would_be_owner = app.register("would-be-owner").await;
    let actor = json!({"type": "oauth_app", "id": oauth.id});

    // Adds MEMBERs and ADMINs, never OWNERs.
    let (status, body) = app
        .post(&format!("{op}/members"), t, json!({"email": plain.email, "role": "MEMBER"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["role"], "MEMBER");
    let (status, body) =
        app.post(&format!("{op}/members"), t, json!({"email": boss.email, "role": "ADMIN"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["role"], "ADMIN");
    let (status, body) = app
        .post(&format!("{op}/members"), t, json!({"email": would_be_owner.email, "role": "OWNER"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);

    // Changes roles below OWNER, never to or from it.
    let (status, body) =
        app.patch(&format!("{op}/members/{}", plain.id), t, json!({"role": "OWNER"})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);
    let (status, body) =
        app.patch(&format!("{op}/members/{}", f.owner.id), t, json!({"role": "MEMBER"})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);
    let (status, body) =
        app.patch(&format!("{op}/members/{}", f.member.id), t, json!({"role": "ADMIN"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "ADMIN");

    // Removes members and admins, never the OWNER.
    let (status, body) = app.delete(&format!("{op}/members/{}", f.owner.id), t).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNER_REMOVAL_DENIED);
    let (status, body) = app.delete(&format!("{op}/members/{}", boss.id), t).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));

    // Invites below OWNER; the invite names the app as its inviter.
    let (status, body) = app
        .post(&format!("{op}/invites"), t, json!({"email": "boss2@example.com", "role": "OWNER"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNER_INVITE_DENIED);
    let (status, invite) = app
        .post(&format!("{op}/invites"), t, json!({"email": "new@example.com", "role": "ADMIN"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invite}");
    assert_eq!(invite["invitedBy"], json!(oauth.id), "{invite}");
    let invite_id = invite["id"].as_str().expect("invite id").to_owned();
    let (status, listed) = app.get(&format!("{op}/invites"), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let listed = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|i| i["id"] == json!(invite_id))
        .cloned()
        .expect("the invite is listed");
    assert_eq!(listed["invitedBy"], json!(oauth.id), "{listed}");

    // Updates the organization and manages webhooks, but never deletes the organization.
    let (status, body) = app.patch(&op, t, json!({"name": "Acme Renamed"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &format!("{op}/webhooks"),
            t,
            json!({"url": "https://example.com/h", "events": ["member.added"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let webhook_id = body["id"].as_str().expect("webhook id").to_owned();
    let (status, body) = app.delete(&op, t).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, DELETE_DENIED);
    let (status, body) = app.get(&op, Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "the organization survives: {body}");

    // The owner is still the owner.
    let members = app.list_all(&format!("{op}/members"), &f.owner.token).await;
    let owner = members.iter().find(|m| m["userId"] == json!(f.owner.id)).expect("owner listed");
    assert_eq!(owner["role"], "OWNER");
    assert!(!members.iter().any(|m| m["userId"] == json!(would_be_owner.id)));

    // Every event it caused names the app as the actor, and only those do.
    let events = app.events(&f.org, &f.owner).await;
    let by_app: Vec<&Value> = events.iter().filter(|e| e["data"]["actor"] == actor).collect();
    let mut types: Vec<&str> = by_app.iter().map(|e| e["event"].as_str().expect("event")).collect();
    types.reverse();
    assert_eq!(
        types,
        [
            "member.added",
            "member.added",
            "member.role_updated",
            "member.removed",
            "invite.created",
            "organization.updated",
            "webhook.created",
        ],
        "{events:?}"
    );
    let added: Vec<&Value> =
        by_app.iter().filter(|e| e["event"] == "member.added").copied().collect();
    assert!(
        added
            .iter()
            .any(|e| e["data"]["userId"] == json!(plain.id) && e["data"]["role"] == "MEMBER")
    );
    assert!(
        added.iter().any(|e| e["data"]["userId"] == json!(boss.id) && e["data"]["role"] == "ADMIN")
    );
    let created = by_app.iter().find(|e| e["event"] == "invite.created").expect("invite.created");
    assert_eq!(created["data"]["inviteId"], json!(invite_id));
    let hooked = by_app.iter().find(|e| e["event"] == "webhook.created").expect("webhook.created");
    assert_eq!(hooked["data"]["webhookId"], json!(webhook_id));
    for e in &events {
        let kind = e["data"]["actor"]["type"].as_str().expect("actor type");
        assert!(kind == "user" || kind == "oauth_app", "{e}");
        if kind == "user" {
            assert!(
                ["organization.created", "member.added", "oauth_app.created"]
                    .contains(&e["event"].as_str().expect("event")),
                "only the fixture's own steps were the people's: {e}"
            );
        }
    }
}

async fn authorization_code_tokens_act_as_their_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let op = org_path(&f.org);
    let newcomer = app.register("newcomer").await;
    // The MEMBER is in another organization too; the token sees only the app's.
    let elsewhere = app.create_org(&f.member, "Member's Own").await;

    // A MEMBER's token has a MEMBER's powers, whatever its scopes.
    let member_token = authorization_code_token(
        &app,
        &oauth,
        &f.member,
        "members:read members:write organization:read",
    )
    .await;
    let (status, body) = app.get(&format!("{op}/members"), Some(&member_token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &format!("{op}/members"),
            Some(&member_token),
            json!({"email": newcomer.email, "role": "MEMBER"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, ADD_DENIED);
    let (status, headers, body) =
        app.send(Method::GET, &format!("{op}/invites"), Some(&member_token), None).await;
    assert_insufficient_scope(
        "GET invites with a MEMBER's token",
        status,
        &headers,
        &body,
        "invites:read",
    );
    let (status, body) = app.get("/api/organizations", Some(&member_token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "only the token's organization: {body}");
    assert_eq!(data[0]["id"], json!(f.org));
    assert_eq!(data[0]["role"], "MEMBER", "{body}");
    let (status, body) = app.get(&org_path(&elsewhere), Some(&member_token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    for (method, path, body) in [
        (Method::GET, "/api/users/me".to_owned(), None),
        (Method::POST, "/api/users/me/tokens".to_owned(), Some(json!({"name": "ci"}))),
        (Method::POST, "/api/organizations".to_owned(), Some(json!({"name": "Sneaky"}))),
        (Method::POST, "/api/auth/logout".to_owned(), Some(json!({}))),
    ] {
        let (status, res) = app.call(method.clone(), &path, Some(&member_token), body).await;
        assert_error(status, &res, StatusCode::FORBIDDEN, OAUTH_REFUSED);
    }

    // The user's current role: promoted, the same token now adds members.
    let (status, body) = app
        .patch(
            &format!("{op}/members/{}", f.member.id),
            Some(&f.owner.token),
            json!({"role": "ADMIN"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &format!("{op}/members"),
            Some(&member_token),
            json!({"email": newcomer.email, "role": "MEMBER"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let events = app.events(&f.org, &f.owner).await;
    let added = events
        .iter()
        .find(|e| e["event"] == "member.added" && e["data"]["userId"] == json!(newcomer.id))
        .expect("member.added for the newcomer");
    assert_eq!(added["data"]["actor"], json!({"type": "user", "id": f.member.id}), "{added}");

    // Leaving the organization ends the grant: the token is no longer valid at all.
    app.remove_member(&f.org, &f.member, &f.member).await;
    let (status, body) = app.get(&format!("{op}/members"), Some(&member_token)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    // The OWNER's token can delete the organization, with organization:write only.
    let no_write = authorization_code_token(&app, &oauth, &f.owner, "organization:read").await;
    let (status, headers, body) = app.send(Method::DELETE, &op, Some(&no_write), None).await;
    assert_insufficient_scope(
        "DELETE org without organization:write",
        status,
        &headers,
        &body,
        "organization:write",
    );
    let owner_token = authorization_code_token(&app, &oauth, &f.owner, "organization:write").await;
    let (status, body) = app.delete(&op, Some(&owner_token)).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = app.get(&op, Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
}

// ---------------------------------------------------------------------------------------------
// Narrowing and revocation
// ---------------------------------------------------------------------------------------------

async fn narrowing_the_app_narrows_issued_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let everything = app.client_credentials_token(&oauth, None).await;
    let just_members = app.client_credentials_token(&oauth, Some("members:read")).await;
    let members = format!("{}/members", org_path(&f.org));
    for token in [&everything, &just_members] {
        let (status, body) = app.get(&members, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let narrowed: Vec<&str> =
        ALL_SCOPES.iter().filter(|s| **s != "members:read").copied().collect();
    let (status, body) = app
        .patch(
            &format!("{}/oauth-apps/{}", org_path(&f.org), oauth.id),
            Some(&f.admin.token),
            json!({"scopes": narrowed}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scopes"], json!(narrowed));

    // At once: tokens issued before lose members:read, and keep the rest.
    for token in [&everything, &just_members] {
        let (status, headers, body) = app.send(Method::GET, &members, Some(token), None).await;
        assert_insufficient_scope(
            "GET members after narrowing",
            status,
            &headers,
            &body,
            "members:read",
        );
    }
    let (status, body) = app.get(&org_path(&f.org), Some(&everything)).await;
    assert_eq!(status, StatusCode::OK, "the other scopes stay: {body}");
    let (status, body) = app.get(&format!("{}/invites", org_path(&f.org)), Some(&everything)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A token with nothing left is refused on what it had.
    let (status, headers, body) =
        app.send(Method::GET, &org_path(&f.org), Some(&just_members), None).await;
    assert_insufficient_scope(
        "GET org with a narrowed token",
        status,
        &headers,
        &body,
        "organization:read",
    );

    // New tokens get only what the app has now.
    let (status, _, body) = app
        .oauth_form(
            "/api/oauth/token",
            Some((&oauth.client_id, &oauth.client_secret)),
            &[("grant_type", "client_credentials"), ("scope", "members:read")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_scope", "{body}");
    let fresh = app.client_credentials_token(&oauth, None).await;
    let (status, headers, body) = app.send(Method::GET, &members, Some(&fresh), None).await;
    assert_insufficient_scope(
        "GET members with a fresh token",
        status,
        &headers,
        &body,
        "members:read",
    );
}

async fn revoked_tokens_are_unauthenticated_everywhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let (status, body) = app
        .post(
            &format!("{}/oauth-apps/{}/revoke", org_path(&f.org), oauth.id),
            Some(&f.owner.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // 401 comes before any scope or tenant rule.
    for (method, path, body) in [
        (Method::GET, "/api/organizations".to_owned(), None),
        (Method::GET, org_path(&f.org), None),
        (Method::GET, format!("{}/members", org_path(&f.org)), None),
        (
            Method::POST,
            format!("{}/webhooks", org_path(&f.org)),
            Some(json!({"url": "https://e.example/h", "events": ["member.added"]})),
        ),
        (Method::GET, org_path(&random_id()), None),
        (Method::GET, "/api/users/me".to_owned(), None),
    ] {
        let (status, res) = app.call(method.clone(), &path, Some(&token), body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {res}");
        assert_error(status, &res, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
}

on_both_backends!(
    every_scoped_route_needs_its_scope,
    personal_routes_refuse_oauth_tokens,
    tokens_never_reach_another_organization,
    listing_organizations_shows_only_the_tokens_one,
    client_credentials_acts_as_an_admin,
    authorization_code_tokens_act_as_their_user,
    narrowing_the_app_narrows_issued_tokens,
    revoked_tokens_are_unauthenticated_everywhere,
);
