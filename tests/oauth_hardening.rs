//! Hardening of the OAuth authorization server and of OAuth tokens on the API, over real HTTP
//! on SQLite and PostgreSQL: webhook subscriptions made by OAuth tokens are limited to what
//! the token could read; revoking an app deactivates the webhooks it created; leaving an
//! organization ends the user's grants there; narrowing an app rewrites its tokens for good;
//! 401s carry an RFC 6750 challenge; revocation racing a refresh leaves nothing alive; an
//! overlong `state` is not echoed; oversized OAuth form bodies are refused in RFC 6749's shape.
mod common;

use std::time::{Duration, Instant};

use common::oauth::{
    ALL_SCOPES, TestOAuthApp, assert_insufficient_scope, assert_works, authorize_url, browser,
    creds, header, members_path, org_path, pkce, query,
};
use common::receiver::Receiver;
use common::{AUTH_REQUIRED, Backend, TestApp, TestUser, assert_error};
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const OAUTH_APP_EVENTS_REFUSED: &str =
    "Access denied. OAuth tokens cannot subscribe to oauth_app events.";

/// How long a webhook delivery may take to arrive.
const WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn webhooks_path(org: &str) -> String {
    format!("/api/organizations/{org}/webhooks")
}

fn scope_list(scope: &str) -> Vec<&str> {
    scope.split_whitespace().collect()
}

#[derive(Debug, Clone)]
struct Grant {
    access: String,
    refresh: String,
    scope: String,
}

fn grant_of(body: &Value) -> Grant {
    Grant {
        access: body["access_token"].as_str().expect("access_token").to_owned(),
        refresh: body["refresh_token"].as_str().expect("refresh_token").to_owned(),
        scope: body["scope"].as_str().expect("scope").to_owned(),
    }
}

/// An `authorization_code` grant for `user`; `scope` `None` means all of the app's.
async fn code_grant(
    app: &TestApp,
    oauth: &TestOAuthApp,
    user: &TestUser,
    scope: Option<&str>,
) -> Grant {
    grant_of(&app.authorization_code_grant(oauth, user, scope).await)
}

/// A `refresh_token` grant request.
async fn refresh(
    app: &TestApp,
    oauth: &TestOAuthApp,
    refresh_token: &str,
) -> (StatusCode, HeaderMap, Value) {
    app.oauth_form(
        "/api/oauth/token",
        creds(oauth),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)],
    )
    .await
}

/// A refresh token that must be refused with `400 invalid_grant`.
async fn assert_invalid_grant(app: &TestApp, oauth: &TestOAuthApp, refresh_token: &str) {
    let (status, _, body) = refresh(app, oauth, refresh_token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "refresh should be invalid_grant: {body}");
    assert_eq!(body["error"], json!("invalid_grant"), "{body}");
}

async fn introspect(app: &TestApp, oauth: &TestOAuthApp, token: &str) -> Value {
    let (status, _, body) =
        app.oauth_form("/api/oauth/introspect", creds(oauth), &[("token", token)]).await;
    assert_eq!(status, StatusCode::OK, "introspect: {body}");
    body
}

async fn assert_inactive(app: &TestApp, oauth: &TestOAuthApp, token: &str) {
    let info = introspect(app, oauth, token).await;
    assert_eq!(info, json!({"active": false}), "introspection of a dead token");
}

async fn assert_active(app: &TestApp, oauth: &TestOAuthApp, token: &str) -> Value {
    let info = introspect(app, oauth, token).await;
    assert_eq!(info["active"], json!(true), "introspection of a live token: {info}");
    info
}

/// `POST /api/oauth/revoke token=<token>` as the app: 200 with an empty body.
async fn revoke_token(app: &TestApp, oauth: &TestOAuthApp, token: &str) {
    let (status, _, body) =
        app.oauth_form("/api/oauth/revoke", creds(oauth), &[("token", token)]).await;
    assert_eq!(status, StatusCode::OK, "revoke: {body}");
}

/// The token is not authenticated at all on the organization's routes.
async fn assert_dead(app: &TestApp, org: &str, token: &str) {
    for path in [members_path(org), org_path(org)] {
        let (status, body) = app.get(&path, Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "GET {path} with a dead token: {body}");
        assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
}

async fn revoke_app(app: &TestApp, org: &str, by: &TestUser, oauth: &TestOAuthApp) {
    let (status, body) = app
        .post(
            &format!("{}/oauth-apps/{}/revoke", org_path(org), oauth.id),
            Some(&by.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "revoke app: {body}");
    assert_eq!(body["status"], json!("revoked"), "{body}");
}

async fn set_app_scopes(
    app: &TestApp,
    org: &str,
    by: &TestUser,
    oauth: &TestOAuthApp,
    scopes: &[&str],
) {
    let (status, body) = app
        .patch(
            &format!("{}/oauth-apps/{}", org_path(org), oauth.id),
            Some(&by.token),
            json!({"scopes": scopes}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "PATCH app scopes: {body}");
    assert_eq!(body["scopes"], json!(scopes), "{body}");
}

/// `POST …/webhooks` with `token`.
async fn post_webhook(
    app: &TestApp,
    org: &str,
    token: &str,
    url: &str,
    events: &[&str],
) -> (StatusCode, HeaderMap, Value) {
    app.send(
        Method::POST,
        &webhooks_path(org),
        Some(token),
        Some(json!({"url": url, "events": events})),
    )
    .await
}

/// `GET …/webhooks/{id}` as `by`.
async fn get_webhook(app: &TestApp, org: &str, by: &TestUser, id: &str) -> Value {
    let (status, body) = app.get(&format!("{}/{id}", webhooks_path(org)), Some(&by.token)).await;
    assert_eq!(status, StatusCode::OK, "GET webhook {id}: {body}");
    body
}

/// The IDs of every webhook of the organization, as `by` lists them.
async fn webhook_ids(app: &TestApp, org: &str, by: &TestUser) -> Vec<String> {
    let mut ids: Vec<String> = app
        .list_all(&webhooks_path(org), &by.token)
        .await
        .iter()
        .map(|w| w["id"].as_str().expect("webhook id").to_owned())
        .collect();
    ids.sort();
    ids
}

/// The fields of a webhook a PATCH could change.
fn webhook_state(w: &Value) -> Value {
    json!({"url": w["url"], "events": w["events"], "isActive": w["isActive"]})
}

// ---------------------------------------------------------------------------------------------
// a. Webhook subscriptions by OAuth tokens
// ---------------------------------------------------------------------------------------------

/// Creating a webhook with an OAuth token: every subscribed event type must be readable by
/// the token; the first missing scope is named in the order organization:read, members:read,
/// invites:read, webhooks:read; nothing is created on refusal.
async fn oauth_webhook_creation_limited_to_readable_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let url = "https://hooks.example.com/in";
    let before = webhook_ids(&app, &f.org, &f.owner).await;

    // Only webhooks:write: nothing at all is readable.
    let write_only = app.client_credentials_token(&oauth, Some("webhooks:write")).await;
    let cases: [(&[&str], &str); 9] = [
        (&["organization.created"], "organization:read"),
        (&["organization.updated", "organization.deleted"], "organization:read"),
        (&["member.added"], "members:read"),
        (&["member.removed", "member.role_updated"], "members:read"),
        (&["invite.created", "invite.accepted", "invite.cancelled"], "invites:read"),
        (&["webhook.created"], "webhooks:read"),
        // The first missing scope in the fixed order, whatever the order of the events.
        (&["webhook.created", "invite.created", "member.added"], "members:read"),
        (&["webhook.created", "invite.cancelled"], "invites:read"),
        (&["webhook.created", "member.removed", "organization.deleted"], "organization:read"),
    ];
    for (events, scope) in cases {
        let (status, headers, body) = post_webhook(&app, &f.org, &write_only, url, events).await;
        assert_insufficient_scope(
            &format!("POST webhook {events:?} with webhooks:write only"),
            status,
            &headers,
            &body,
            scope,
        );
    }

    // Holding some read scopes: the first one still missing is named.
    let partial = app
        .client_credentials_token(&oauth, Some("webhooks:write organization:read members:read"))
        .await;
    for (events, scope) in [
        (&["organization.updated", "member.added", "invite.created"][..], "invites:read"),
        (&["member.added", "webhook.created"][..], "webhooks:read"),
    ] {
        let (status, headers, body) = post_webhook(&app, &f.org, &partial, url, events).await;
        assert_insufficient_scope(
            &format!("POST webhook {events:?} with organization:read members:read"),
            status,
            &headers,
            &body,
            scope,
        );
    }

    // An authorization_code token of an ADMIN is limited the same way.
    let admin_grant = code_grant(&app, &oauth, &f.admin, Some("webhooks:write")).await;
    let (status, headers, body) =
        post_webhook(&app, &f.org, &admin_grant.access, url, &["member.added"]).await;
    assert_insufficient_scope(
        "POST member.added webhook with an ADMIN's authorization_code token",
        status,
        &headers,
        &body,
        "members:read",
    );

    // oauth_app events: never, even with every scope.
    let everything = app.client_credentials_token(&oauth, None).await;
    let admin_everything = code_grant(&app, &oauth, &f.admin, None).await;
    for token in [&everything, &admin_everything.access] {
        for events in [
            &["oauth_app.created"][..],
            &["oauth_app.revoked"][..],
            &["member.added", "oauth_app.revoked"][..],
        ] {
            let (status, _, body) = post_webhook(&app, &f.org, token, url, events).await;
            assert_error(status, &body, StatusCode::FORBIDDEN, OAUTH_APP_EVENTS_REFUSED);
        }
    }

    assert_eq!(
        webhook_ids(&app, &f.org, &f.owner).await,
        before,
        "no webhook may be created by a refused request"
    );

    // What the token can read, it can subscribe to.
    let members_reader =
        app.client_credentials_token(&oauth, Some("webhooks:write members:read")).await;
    let (status, _, body) =
        post_webhook(&app, &f.org, &members_reader, url, &["member.added"]).await;
    assert_eq!(status, StatusCode::CREATED, "member.added with members:read: {body}");
    assert_eq!(body["events"], json!(["member.added"]), "{body}");
    let (status, _, body) = post_webhook(
        &app,
        &f.org,
        &members_reader,
        url,
        &["member.added", "member.removed", "member.role_updated"],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "member.* with members:read: {body}");
    let (status, _, body) = post_webhook(
        &app,
        &f.org,
        &everything,
        url,
        &[
            "organization.updated",
            "member.added",
            "invite.created",
            "invite.accepted",
            "webhook.created",
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "every readable event with every scope: {body}");
    let (status, _, body) = post_webhook(
        &app,
        &f.org,
        &admin_everything.access,
        url,
        &["member.added", "webhook.created"],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "ADMIN's code token with every scope: {body}");

    // People's own tokens are not limited this way, oauth_app events included.
    for person in [&f.owner, &f.admin] {
        let (status, _, body) = post_webhook(
            &app,
            &f.org,
            &person.token,
            url,
            &["oauth_app.created", "oauth_app.revoked", "member.added", "webhook.created"],
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "a person's own token: {body}");
    }
    assert_eq!(webhook_ids(&app, &f.org, &f.owner).await.len(), before.len() + 6);
    app.stop().await;
}

/// Changing a webhook with an OAuth token: the check applies to the resulting subscription,
/// even when only the URL changes; a refused PATCH changes nothing.
async fn oauth_webhook_update_limited_to_readable_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let (members_hook, _) = app
        .create_webhook(&f.org, &f.owner, "https://owner.example.com/m", &["member.added"])
        .await;
    let (apps_hook, _) = app
        .create_webhook(&f.org, &f.owner, "https://owner.example.com/a", &["oauth_app.created"])
        .await;
    let members_before = get_webhook(&app, &f.org, &f.owner, &members_hook).await;
    let apps_before = get_webhook(&app, &f.org, &f.owner, &apps_hook).await;
    let members_hook_path = format!("{}/{members_hook}", webhooks_path(&f.org));
    let apps_hook_path = format!("{}/{apps_hook}", webhooks_path(&f.org));

    // webhooks:write (and webhooks:read) but not members:read: cannot repoint it.
    let no_members =
        app.client_credentials_token(&oauth, Some("webhooks:write webhooks:read")).await;
    let (status, headers, body) = app
        .send(
            Method::PATCH,
            &members_hook_path,
            Some(&no_members),
            Some(json!({"url": "https://attacker.example.com/steal"})),
        )
        .await;
    assert_insufficient_scope(
        "PATCH url of a member.added webhook without members:read",
        status,
        &headers,
        &body,
        "members:read",
    );
    // Adding events it cannot read is refused too.
    let (status, headers, body) = app
        .send(
            Method::PATCH,
            &members_hook_path,
            Some(&no_members),
            Some(json!({"events": ["member.added", "invite.created"]})),
        )
        .await;
    assert_insufficient_scope(
        "PATCH events to member.added + invite.created without members:read",
        status,
        &headers,
        &body,
        "members:read",
    );
    let (status, headers, body) = app.send(Method::PATCH,
        &members_hook_path,
        Some(&no_members),
        Some(json!({"url": "https://attacker.example.com/steal", "events": ["organization.updated"]})),
    )
    .await;
    assert_insufficient_scope(
        "PATCH events to organization.updated without organization:read",
        status,
        &headers,
        &body,
        "organization:read",
    );
    // The same with an ADMIN's authorization_code token.
    let admin_grant =
        code_grant(&app, &oauth, &f.admin, Some("webhooks:write webhooks:read")).await;
    let (status, headers, body) = app
        .send(
            Method::PATCH,
            &members_hook_path,
            Some(&admin_grant.access),
            Some(json!({"url": "https://attacker.example.com/steal"})),
        )
        .await;
    assert_insufficient_scope(
        "PATCH url with an ADMIN's code token without members:read",
        status,
        &headers,
        &body,
        "members:read",
    );

    // oauth_app events: neither added, nor kept by a URL change.
    let everything = app.client_credentials_token(&oauth, None).await;
    let (status, _, body) = app
        .send(
            Method::PATCH,
            &members_hook_path,
            Some(&everything),
            Some(json!({"events": ["member.added", "oauth_app.revoked"]})),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OAUTH_APP_EVENTS_REFUSED);
    let (status, _, body) = app
        .send(
            Method::PATCH,
            &apps_hook_path,
            Some(&everything),
            Some(json!({"url": "https://attacker.example.com/apps"})),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OAUTH_APP_EVENTS_REFUSED);

    // Nothing changed.
    let members_after = get_webhook(&app, &f.org, &f.owner, &members_hook).await;
    assert_eq!(webhook_state(&members_after), webhook_state(&members_before), "unchanged");
    assert_eq!(members_after["updatedAt"], members_before["updatedAt"], "unchanged");
    let apps_after = get_webhook(&app, &f.org, &f.owner, &apps_hook).await;
    assert_eq!(webhook_state(&apps_after), webhook_state(&apps_before), "unchanged");

    // With members:read the same URL change goes through.
    let with_members = app
        .client_credentials_token(&oauth, Some("webhooks:write webhooks:read members:read"))
        .await;
    let (status, _, body) = app
        .send(
            Method::PATCH,
            &members_hook_path,
            Some(&with_members),
            Some(json!({"url": "https://app.example.com/m"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "PATCH url with members:read: {body}");
    assert_eq!(body["url"], json!("https://app.example.com/m"), "{body}");
    assert_eq!(body["events"], json!(["member.added"]), "{body}");

    // Replacing the subscription with one the token can read is allowed.
    let (status, _, body) = app
        .send(
            Method::PATCH,
            &members_hook_path,
            Some(&no_members),
            Some(json!({"events": ["webhook.created"], "url": "https://app.example.com/w"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "PATCH to a readable subscription: {body}");
    assert_eq!(body["events"], json!(["webhook.created"]), "{body}");

    // People's own tokens are not limited.
    let (status, _, body) = app.send(Method::PATCH,
        &apps_hook_path,
        Some(&f.admin.token),
        Some(json!({"url": "https://admin.example.com/a", "events": ["oauth_app.created", "oauth_app.revoked", "member.added"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a person's PATCH: {body}");
    assert_eq!(body["url"], json!("https://admin.example.com/a"), "{body}");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// b. Revoking an app deactivates its webhooks
// ---------------------------------------------------------------------------------------------

async fn revoking_an_app_deactivates_its_webhooks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let app_receiver = Receiver::start().await;
    let owner_receiver = Receiver::start().await;
    let oauth = app
        .create_oauth_app(&f.org, &f.owner, &["webhooks:write", "webhooks:read", "members:read"])
        .await;
    let token = app.client_credentials_token(&oauth, None).await;
    let (status, _, body) =
        post_webhook(&app, &f.org, &token, &app_receiver.url, &["member.added"]).await;
    assert_eq!(status, StatusCode::CREATED, "app's webhook: {body}");
    let app_hook = body["id"].as_str().expect("webhook id").to_owned();
    let (owner_hook, _) =
        app.create_webhook(&f.org, &f.owner, &owner_receiver.url, &["member.added"]).await;

    // Both deliver before the revocation.
    let first = app.register("first").await;
    app.add_member(&f.org, &f.owner, &first, "MEMBER").await;
    app_receiver.wait_for(1, WAIT).await;
    owner_receiver.wait_for(1, WAIT).await;
    assert_eq!(get_webhook(&app, &f.org, &f.owner, &app_hook).await["isActive"], json!(true));

    revoke_app(&app, &f.org, &f.owner, &oauth).await;

    // At once, with no wait: the revocation did it in the same request.
    let hook = get_webhook(&app, &f.org, &f.owner, &app_hook).await;
    assert_eq!(hook["isActive"], json!(false), "the app's webhook is inactive: {hook}");
    let hook = get_webhook(&app, &f.org, &f.owner, &owner_hook).await;
    assert_eq!(hook["isActive"], json!(true), "a person's webhook stays active: {hook}");
    let listed = app.list_all(&webhooks_path(&f.org), &f.owner.token).await;
    let listed_app_hook =
        listed.iter().find(|w| w["id"] == json!(app_hook)).expect("the app's webhook is listed");
    assert_eq!(listed_app_hook["isActive"], json!(false), "{listed_app_hook}");

    // A new event reaches the person's webhook only.
    let second = app.register("second").await;
    app.add_member(&f.org, &f.owner, &second, "MEMBER").await;
    let got = owner_receiver.wait_for(2, WAIT).await;
    assert_eq!(got[1].json()["event"], json!("member.added"));
    app_receiver.assert_stays_at(1, Duration::from_millis(1500)).await;
    app.stop().await;
}

/// A webhook created with an `authorization_code` token of the app is the app's too.
async fn revoking_an_app_deactivates_webhooks_of_its_user_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app
        .create_oauth_app(&f.org, &f.owner, &["webhooks:write", "webhooks:read", "members:read"])
        .await;
    let other = app.create_oauth_app(&f.org, &f.owner, &["webhooks:write", "members:read"]).await;
    let grant = code_grant(&app, &oauth, &f.admin, None).await;
    let (status, _, body) =
        post_webhook(&app, &f.org, &grant.access, "https://a.example.com/h", &["member.added"])
            .await;
    assert_eq!(status, StatusCode::CREATED, "code token's webhook: {body}");
    let code_hook = body["id"].as_str().expect("webhook id").to_owned();
    let other_token = app.client_credentials_token(&other, None).await;
    let (status, _, body) =
        post_webhook(&app, &f.org, &other_token, "https://b.example.com/h", &["member.added"])
            .await;
    assert_eq!(status, StatusCode::CREATED, "another app's webhook: {body}");
    let other_hook = body["id"].as_str().expect("webhook id").to_owned();
    let (admin_hook, _) =
        app.create_webhook(&f.org, &f.admin, "https://c.example.com/h", &["member.added"]).await;

    revoke_app(&app, &f.org, &f.owner, &oauth).await;

    let hook = get_webhook(&app, &f.org, &f.owner, &code_hook).await;
    assert_eq!(hook["isActive"], json!(false), "made with the app's code token: {hook}");
    let hook = get_webhook(&app, &f.org, &f.owner, &other_hook).await;
    assert_eq!(hook["isActive"], json!(true), "another app's webhook stays active: {hook}");
    let hook = get_webhook(&app, &f.org, &f.owner, &admin_hook).await;
    assert_eq!(hook["isActive"], json!(true), "the same person's own webhook stays: {hook}");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// c. Leaving the organization ends the user's grants there
// ---------------------------------------------------------------------------------------------

/// How the user leaves.
#[derive(Debug, Clone, Copy)]
enum Departure {
    RemovedByOwner,
    LeavesThemselves,
}

async fn leaving_ends_grants(backend: Backend, departure: Departure) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;
    let grant = code_grant(&app, &oauth, &f.member, None).await;
    let bystander = code_grant(&app, &oauth, &f.admin, None).await;
    let app_token = app.client_credentials_token(&oauth, None).await;

    // The same user in another organization, with a grant of that organization's app.
    let org2 = app.create_org(&f.outsider, "Other Corp").await;
    app.add_member(&org2, &f.outsider, &f.member, "MEMBER").await;
    let oauth2 = app.create_oauth_app(&org2, &f.outsider, &["members:read"]).await;
    let elsewhere = code_grant(&app, &oauth2, &f.member, None).await;

    assert_works(&app, &f.org, &grant.access).await;
    assert_works(&app, &org2, &elsewhere.access).await;
    assert_active(&app, &oauth, &grant.access).await;

    match departure {
        Departure::RemovedByOwner => app.remove_member(&f.org, &f.owner, &f.member).await,
        Departure::LeavesThemselves => app.remove_member(&f.org, &f.member, &f.member).await,
    }

    // The grant is over: the access token is unauthenticated, introspection says nothing.
    assert_dead(&app, &f.org, &grant.access).await;
    assert_inactive(&app, &oauth, &grant.access).await;
    assert_inactive(&app, &oauth, &grant.refresh).await;

    // Coming back does not revive it. (The refresh token is tried only now: presenting it
    // while the user is away must not be what kills the grant.)
    app.add_member(&f.org, &f.owner, &f.member, "MEMBER").await;
    assert_dead(&app, &f.org, &grant.access).await;
    assert_inactive(&app, &oauth, &grant.access).await;
    assert_inactive(&app, &oauth, &grant.refresh).await;
    assert_invalid_grant(&app, &oauth, &grant.refresh).await;
    assert_dead(&app, &f.org, &grant.access).await;

    // A new grant after coming back works.
    let fresh = code_grant(&app, &oauth, &f.member, None).await;
    assert_works(&app, &f.org, &fresh.access).await;

    // Other grants are untouched: another user's of the same app, the app's own token, and
    // the same user's grant in another organization.
    assert_works(&app, &f.org, &bystander.access).await;
    assert_active(&app, &oauth, &bystander.access).await;
    assert_works(&app, &f.org, &app_token).await;
    assert_works(&app, &org2, &elsewhere.access).await;
    let info = assert_active(&app, &oauth2, &elsewhere.access).await;
    assert_eq!(info["sub"], json!(f.member.id), "{info}");
    let (status, _, body) = refresh(&app, &oauth2, &elsewhere.refresh).await;
    assert_eq!(status, StatusCode::OK, "refresh in the other organization: {body}");
    assert_works(&app, &org2, body["access_token"].as_str().expect("access_token")).await;
    app.stop().await;
}

/// The refresh token is refused while the user is away, too.
async fn refresh_while_away_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let removed = code_grant(&app, &oauth, &f.member, None).await;
    let leaver = code_grant(&app, &oauth, &f.admin, None).await;
    app.remove_member(&f.org, &f.owner, &f.member).await;
    app.remove_member(&f.org, &f.admin, &f.admin).await;
    for grant in [&removed, &leaver] {
        assert_invalid_grant(&app, &oauth, &grant.refresh).await;
        assert_dead(&app, &f.org, &grant.access).await;
        assert_inactive(&app, &oauth, &grant.access).await;
        assert_inactive(&app, &oauth, &grant.refresh).await;
    }
    app.add_member(&f.org, &f.owner, &f.member, "MEMBER").await;
    app.add_member(&f.org, &f.owner, &f.admin, "ADMIN").await;
    for grant in [&removed, &leaver] {
        assert_invalid_grant(&app, &oauth, &grant.refresh).await;
        assert_dead(&app, &f.org, &grant.access).await;
    }
    app.stop().await;
}

/// An authorization code is an authorization grant too (RFC 6749 §1.3.1): one issued before
/// the user left does not turn into tokens after they come back.
async fn pending_code_dies_with_the_membership(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (code, verifier) = app.authorize_code(&oauth, &f.member, None).await;
    app.remove_member(&f.org, &f.owner, &f.member).await;
    app.add_member(&f.org, &f.owner, &f.member, "MEMBER").await;
    let (status, _, body) = app.exchange_code(&oauth, &code, &verifier).await;
    if status == StatusCode::OK {
        let access = body["access_token"].as_str().expect("access_token");
        let (status, res) = app.get(&members_path(&f.org), Some(access)).await;
        panic!(
            "a code issued before the user left was exchanged after they came back; \
             its token answers {status}: {res}"
        );
    }
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], json!("invalid_grant"), "{body}");
    app.stop().await;
}

async fn removal_by_owner_ends_grants(backend: Backend) {
    leaving_ends_grants(backend, Departure::RemovedByOwner).await;
}

async fn leaving_oneself_ends_grants(backend: Backend) {
    leaving_ends_grants(backend, Departure::LeavesThemselves).await;
}

// ---------------------------------------------------------------------------------------------
// d. Narrowing an app's scopes rewrites its tokens
// ---------------------------------------------------------------------------------------------

async fn narrowing_rewrites_tokens_for_good(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let old_app_token = app.client_credentials_token(&oauth, None).await;
    let old_grant = code_grant(&app, &oauth, &f.admin, None).await;
    let members = members_path(&f.org);
    assert_works(&app, &f.org, &old_app_token).await;
    assert_works(&app, &f.org, &old_grant.access).await;
    assert!(scope_list(&old_grant.scope).contains(&"members:read"), "{}", old_grant.scope);

    let narrowed: Vec<&str> = ALL_SCOPES.iter().copied().filter(|s| *s != "members:read").collect();
    set_app_scopes(&app, &f.org, &f.owner, &oauth, &narrowed).await;
    for token in [&old_app_token, &old_grant.access] {
        let (status, headers, body) = app.send(Method::GET, &members, Some(token), None).await;
        assert_insufficient_scope(
            "GET members after narrowing",
            status,
            &headers,
            &body,
            "members:read",
        );
    }

    // Widening again does not give old tokens back what they lost.
    set_app_scopes(&app, &f.org, &f.owner, &oauth, &ALL_SCOPES).await;
    for token in [&old_app_token, &old_grant.access] {
        let (status, headers, body) = app.send(Method::GET, &members, Some(token), None).await;
        assert_insufficient_scope(
            "GET members with an old token after widening again",
            status,
            &headers,
            &body,
            "members:read",
        );
        let info = assert_active(&app, &oauth, token).await;
        let scope = info["scope"].as_str().unwrap_or_else(|| panic!("scope: {info}"));
        let scopes = scope_list(scope);
        assert!(!scopes.contains(&"members:read"), "old token's scope {scope}");
        assert!(scopes.contains(&"organization:read"), "the rest stays: {scope}");
        // The other scopes still work.
        let (status, body) = app.get(&org_path(&f.org), Some(token)).await;
        assert_eq!(status, StatusCode::OK, "organization:read stays: {body}");
    }

    // A new token has members:read again.
    let new_token = app.client_credentials_token(&oauth, None).await;
    assert_works(&app, &f.org, &new_token).await;
    let info = assert_active(&app, &oauth, &new_token).await;
    let scope = info["scope"].as_str().unwrap_or_else(|| panic!("scope: {info}"));
    assert!(scope_list(scope).contains(&"members:read"), "new token's scope {scope}");

    // Refreshing the old grant does not bring members:read back either.
    let (status, _, body) = refresh(&app, &oauth, &old_grant.refresh).await;
    assert_eq!(status, StatusCode::OK, "refresh of the narrowed grant: {body}");
    let refreshed = grant_of(&body);
    assert!(
        !scope_list(&refreshed.scope).contains(&"members:read"),
        "refreshed scope {}",
        refreshed.scope
    );
    let (status, headers, body) =
        app.send(Method::GET, &members, Some(&refreshed.access), None).await;
    assert_insufficient_scope(
        "GET members with a token refreshed from a narrowed grant",
        status,
        &headers,
        &body,
        "members:read",
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// e. 401s carry a challenge
// ---------------------------------------------------------------------------------------------

async fn unauthenticated_answers_carry_a_challenge(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let revoked = app.client_credentials_token(&oauth, None).await;
    revoke_token(&app, &oauth, &revoked).await;
    let revoked_grant = code_grant(&app, &oauth, &f.member, None).await;
    revoke_token(&app, &oauth, &revoked_grant.refresh).await;

    let paths = ["/api/users/me".to_owned(), members_path(&f.org)];
    for path in &paths {
        let (status, headers, body) = app.send(Method::GET, path, None, None).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        assert_eq!(body, json!({"statusCode": 401, "message": AUTH_REQUIRED}));
        let challenge = header(&headers, WWW_AUTHENTICATE)
            .unwrap_or_else(|| panic!("GET {path} without a token: WWW-Authenticate: {headers:?}"));
        assert!(challenge.starts_with("Bearer"), "GET {path}: {challenge}");
        assert!(challenge.contains("realm=\"roster\""), "GET {path}: {challenge}");
        // RFC 6750 §3.1: no error code when no credentials were sent.
        assert!(!challenge.contains("error="), "GET {path} without a token: {challenge}");
    }

    let bad_tokens = [
        ("garbage", "not-a-token-at-all".to_owned()),
        ("garbage with a prefix", "rst_oat_0123456789abcdef".to_owned()),
        ("revoked client_credentials token", revoked),
        ("access token of a revoked grant", revoked_grant.access.clone()),
    ];
    for path in &paths {
        for (what, token) in &bad_tokens {
            let (status, headers, body) = app.send(Method::GET, path, Some(token), None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "GET {path} with {what}: {body}");
            assert_eq!(body, json!({"statusCode": 401, "message": AUTH_REQUIRED}), "{what}");
            let challenge = header(&headers, WWW_AUTHENTICATE)
                .unwrap_or_else(|| panic!("GET {path} with {what}: WWW-Authenticate: {headers:?}"));
            assert!(challenge.starts_with("Bearer"), "{what}: {challenge}");
            assert!(challenge.contains("realm=\"roster\""), "{what}: {challenge}");
            assert!(challenge.contains("error=\"invalid_token\""), "{what}: {challenge}");
        }
    }

    // A person's session token after logout is invalid too.
    let (status, body) = app.post("/api/auth/logout", Some(&f.admin.token), json!({})).await;
    assert!(status.is_success(), "logout: {status} {body}");
    let (status, headers, body) =
        app.send(Method::GET, "/api/users/me", Some(&f.admin.token), None).await;
    assert_eq!(body, json!({"statusCode": 401, "message": AUTH_REQUIRED}), "{status}");
    let challenge = header(&headers, WWW_AUTHENTICATE).expect("WWW-Authenticate after logout");
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""),
        "after logout: {challenge}"
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// f. Revocation races refresh
// ---------------------------------------------------------------------------------------------

async fn revocation_racing_refresh_leaves_nothing_alive(backend: Backend) {
    const ROUNDS: usize = 30;
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let started = Instant::now();
    let mut refresh_won = 0;
    for round in 0..ROUNDS {
        let grant = code_grant(&app, &oauth, &f.member, None).await;
        let refresh_form =
            [("grant_type", "refresh_token"), ("refresh_token", grant.refresh.as_str())];
        let revoke_form = [("token", grant.refresh.as_str())];
        let refreshing = app.oauth_form("/api/oauth/token", creds(&oauth), &refresh_form);
        let revoking = app.oauth_form("/api/oauth/revoke", creds(&oauth), &revoke_form);
        let ((refresh_status, _, refresh_body), (revoke_status, _, revoke_body)) = if round % 2 == 0
        {
            tokio::join!(refreshing, revoking)
        } else {
            let (b, a) = tokio::join!(revoking, refreshing);
            (a, b)
        };
        assert_eq!(revoke_status, StatusCode::OK, "round {round}: revoke: {revoke_body}");

        let mut access_tokens = vec![grant.access.clone()];
        let mut refresh_tokens = vec![grant.refresh.clone()];
        if refresh_status == StatusCode::OK {
            refresh_won += 1;
            let new = grant_of(&refresh_body);
            access_tokens.push(new.access);
            refresh_tokens.push(new.refresh);
        } else {
            assert_eq!(
                refresh_status,
                StatusCode::BAD_REQUEST,
                "round {round}: refresh lost the race: {refresh_body}"
            );
            assert_eq!(refresh_body["error"], json!("invalid_grant"), "round {round}");
        }
        for token in &access_tokens {
            let (status, body) = app.get(&members_path(&f.org), Some(token)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "round {round}: an access token survived the revocation \
                 (refresh answered {refresh_status}): {body}"
            );
            let info = introspect(&app, &oauth, token).await;
            assert_eq!(info, json!({"active": false}), "round {round}: access token introspection");
        }
        for token in &refresh_tokens {
            let info = introspect(&app, &oauth, token).await;
            assert_eq!(
                info,
                json!({"active": false}),
                "round {round}: refresh token introspection"
            );
            let (status, _, body) = refresh(&app, &oauth, token).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "round {round}: a refresh token survived the revocation \
                 (refresh answered {refresh_status}): {body}"
            );
            assert_eq!(body["error"], json!("invalid_grant"), "round {round}: {body}");
        }
    }
    eprintln!(
        "{backend:?}: {ROUNDS} rounds in {:?}, the refresh was answered 200 in {refresh_won}",
        started.elapsed()
    );
    app.stop().await;
}

/// Removing a member while their grant is refreshed and a code of theirs is exchanged: once
/// they are back, nothing handed out during the race works.
async fn leaving_racing_token_issuance_leaves_nothing_alive(backend: Backend) {
    const ROUNDS: usize = 25;
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let removal = format!("{}/{}", members_path(&f.org), f.member.id);
    let mut issued_during_race = 0;
    for round in 0..ROUNDS {
        let grant = code_grant(&app, &oauth, &f.member, None).await;
        let (code, verifier) = app.authorize_code(&oauth, &f.member, None).await;
        let (removed, refreshed, exchanged) = tokio::join!(
            app.delete(&removal, Some(&f.owner.token)),
            refresh(&app, &oauth, &grant.refresh),
            app.exchange_code(&oauth, &code, &verifier),
        );
        assert_eq!(removed.0, StatusCode::NO_CONTENT, "round {round}: remove: {}", removed.1);
        app.add_member(&f.org, &f.owner, &f.member, "MEMBER").await;

        let mut access_tokens = vec![("the grant's first", grant.access.clone())];
        let mut refresh_tokens = vec![("the grant's first", grant.refresh.clone())];
        for (what, (status, _, body)) in [("refresh", refreshed), ("code exchange", exchanged)] {
            if status == StatusCode::OK {
                issued_during_race += 1;
                let new = grant_of(&body);
                access_tokens.push((what, new.access));
                refresh_tokens.push((what, new.refresh));
            } else {
                assert_eq!(status, StatusCode::BAD_REQUEST, "round {round}: {what}: {body}");
                assert_eq!(body["error"], json!("invalid_grant"), "round {round}: {what}");
            }
        }
        for (what, token) in &access_tokens {
            let (status, body) = app.get(&members_path(&f.org), Some(token)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "round {round}: the {what} access token, issued around the removal, works after \
                 the user came back: {body}"
            );
            assert_inactive(&app, &oauth, token).await;
        }
        for (_, token) in &refresh_tokens {
            assert_invalid_grant(&app, &oauth, token).await;
        }
    }
    eprintln!("{backend:?}: {issued_during_race} token responses issued during {ROUNDS} races");
    app.stop().await;
}

/// Narrowing the app while tokens are being issued (refresh, code exchange,
/// client_credentials): once the scope is given back, none of them has it.
async fn narrowing_racing_token_issuance_cannot_keep_dropped_scope(backend: Backend) {
    const ROUNDS: usize = 20;
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let narrowed: Vec<&str> = ALL_SCOPES.iter().copied().filter(|s| *s != "members:read").collect();
    let app_path = format!("{}/oauth-apps/{}", org_path(&f.org), oauth.id);
    let members = members_path(&f.org);
    for round in 0..ROUNDS {
        let grant = code_grant(&app, &oauth, &f.admin, None).await;
        let (code, verifier) = app.authorize_code(&oauth, &f.admin, None).await;
        let cc_form = [("grant_type", "client_credentials")];
        let (narrowing, refreshed, exchanged, cc) = tokio::join!(
            app.patch(&app_path, Some(&f.owner.token), json!({"scopes": narrowed})),
            refresh(&app, &oauth, &grant.refresh),
            app.exchange_code(&oauth, &code, &verifier),
            app.oauth_form("/api/oauth/token", creds(&oauth), &cc_form),
        );
        assert_eq!(narrowing.0, StatusCode::OK, "round {round}: narrow: {}", narrowing.1);
        set_app_scopes(&app, &f.org, &f.owner, &oauth, &ALL_SCOPES).await;

        let mut access_tokens = vec![("issued before", grant.access.clone())];
        for (what, (status, _, body)) in
            [("refresh", refreshed), ("code exchange", exchanged), ("client_credentials", cc)]
        {
            assert_eq!(status, StatusCode::OK, "round {round}: {what}: {body}");
            let token = body["access_token"].as_str().expect("access_token").to_owned();
            access_tokens.push((what, token));
        }
        for (what, token) in &access_tokens {
            let (status, headers, body) = app.send(Method::GET, &members, Some(token), None).await;
            assert_insufficient_scope(
                &format!(
                    "round {round}: {what} token after narrowing raced it and the scope came back"
                ),
                status,
                &headers,
                &body,
                "members:read",
            );
        }
    }
    app.stop().await;
}

/// Revoking an app while its token creates a webhook: the webhook ends up inactive, or was
/// never created.
async fn revoking_racing_webhook_creation_leaves_no_active_app_webhook(backend: Backend) {
    const ROUNDS: usize = 25;
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let mut created = 0;
    for round in 0..ROUNDS {
        let oauth =
            app.create_oauth_app(&f.org, &f.owner, &["webhooks:write", "members:read"]).await;
        let token = app.client_credentials_token(&oauth, None).await;
        let revoke_path = format!("{}/oauth-apps/{}/revoke", org_path(&f.org), oauth.id);
        let (made, revoked) = tokio::join!(
            post_webhook(&app, &f.org, &token, "https://race.example.com/h", &["member.added"]),
            app.post(&revoke_path, Some(&f.owner.token), json!({})),
        );
        assert_eq!(revoked.0, StatusCode::OK, "round {round}: revoke: {}", revoked.1);
        let (status, _, body) = made;
        if status == StatusCode::CREATED {
            created += 1;
            let id = body["id"].as_str().expect("webhook id");
            let hook = get_webhook(&app, &f.org, &f.owner, id).await;
            assert_eq!(
                hook["isActive"],
                json!(false),
                "round {round}: a webhook the app created while being revoked is active: {hook}"
            );
        } else {
            assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        }
    }
    eprintln!("{backend:?}: {created} of {ROUNDS} webhooks created during the revocation");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// g. An overlong state is not echoed
// ---------------------------------------------------------------------------------------------

async fn overlong_state_is_not_echoed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let http = browser();
    let (_verifier, challenge) = pkce();

    let params = |state: &str, response_type: &str| -> String {
        authorize_url(
            &app,
            &[
                ("response_type", response_type),
                ("client_id", &oauth.client_id),
                ("redirect_uri", &oauth.redirect_uri),
                ("scope", "members:read"),
                ("state", state),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
    };

    for len in [2000, 1025] {
        let state: String = "S".repeat(len);
        let res = http.get(params(&state, "code")).send().await.expect("authorize answered");
        let status = res.status();
        let location = header(res.headers(), LOCATION);
        let body = res.text().await.expect("body");
        assert_eq!(status, StatusCode::FOUND, "state of {len}: {body}");
        let location = location.expect("Location");
        assert!(!location.contains(&state), "state of {len} echoed: {location}");
        let url = url::Url::parse(&location).expect("absolute Location");
        let mut bare = url.clone();
        bare.set_query(None);
        assert_eq!(bare.as_str(), oauth.redirect_uri, "redirect target of {location}");
        assert_eq!(query(&url, "error").as_deref(), Some("invalid_request"), "{location}");
        assert!(query(&url, "state").is_none(), "no state parameter: {location}");
        assert!(query(&url, "code").is_none(), "no code: {location}");
    }

    // At the limit it is still carried back unchanged (here with an error of another kind).
    let state: String = "s".repeat(1024);
    let res = http.get(params(&state, "token")).send().await.expect("authorize answered");
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = header(res.headers(), LOCATION).expect("Location");
    let url = url::Url::parse(&location).expect("absolute Location");
    assert_eq!(query(&url, "error").as_deref(), Some("unsupported_response_type"), "{location}");
    assert_eq!(query(&url, "state").as_deref(), Some(state.as_str()), "state of 1024 echoed");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// h. Oversized OAuth form bodies
// ---------------------------------------------------------------------------------------------

async fn oversized_oauth_form_is_413(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let body = format!("grant_type=client_credentials&padding={}", "a".repeat(1024 * 1024 + 512));
    for client in [Some((&oauth.client_id, &oauth.client_secret)), None] {
        let mut req = app
            .client
            .post(format!("{}/api/oauth/token", app.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.clone());
        if let Some((id, secret)) = client {
            req = req.basic_auth(id, Some(secret));
        }
        let res = req.send().await.expect("an answer to an oversized form");
        let status = res.status();
        let text = res.text().await.expect("body");
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("RFC 6749 JSON error body ({e}): {text}"));
        assert_eq!(json["error"], json!("invalid_request"), "{json}");
        assert!(json["error_description"].is_string(), "error_description: {json}");
    }
    // The endpoint still works afterwards.
    app.client_credentials_token(&oauth, None).await;
    app.stop().await;
}

on_both_backends!(
    oauth_webhook_creation_limited_to_readable_events,
    oauth_webhook_update_limited_to_readable_events,
    revoking_an_app_deactivates_its_webhooks,
    revoking_an_app_deactivates_webhooks_of_its_user_tokens,
    removal_by_owner_ends_grants,
    leaving_oneself_ends_grants,
    refresh_while_away_is_invalid_grant,
    pending_code_dies_with_the_membership,
    narrowing_rewrites_tokens_for_good,
    unauthenticated_answers_carry_a_challenge,
    revocation_racing_refresh_leaves_nothing_alive,
    overlong_state_is_not_echoed,
    oversized_oauth_form_is_413,
    leaving_racing_token_issuance_leaves_nothing_alive,
    narrowing_racing_token_issuance_cannot_keep_dropped_scope,
    revoking_racing_webhook_creation_leaves_no_active_app_webhook,
);
