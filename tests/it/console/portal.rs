//! `POST /api/organizations/{id}/portal-sessions` and the portal it opens: a one-time link to
//! the organization's webhooks for an application's customer, acting as who made it, narrowed
//! to some event types or to reading, framed only where allowed, expiring and revocable.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::console::Console;
use crate::common::oauth::lacks;
use crate::common::receiver::Receiver;
use crate::common::{Backend, TestApp, assert_error, assert_validation, str_of};

fn sessions_path(org: &str) -> String {
    format!("/api/organizations/{org}/portal-sessions")
}

async fn make(app: &TestApp, org: &str, by: &str, body: Value) -> Value {
    let (status, session) = app.post(&sessions_path(org), Some(by), body).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session
}

/// Opens a session's link in a fresh browser-like client; returns it and the portal's home.
async fn open(app: &TestApp, session: &Value) -> (Console, String) {
    let console = Console::new(&app.base);
    let url = str_of(session, "url");
    let path = url.strip_prefix(&app.base).expect("a link to this server");
    let opened = console.get(path).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let home = opened.location.clone().expect("to the portal");
    assert!(home.starts_with("/portal/rst_ps_") && home.ends_with("/webhooks"), "{home}");
    // Loaded as a browser would follow the redirect: its forms carry the page's token.
    assert_eq!(console.get(&home).await.status, StatusCode::OK);
    (console, home)
}

fn actor_of(event: &Value) -> &Value {
    &event["data"]["actor"]
}

async fn a_link_opens_once_and_its_page_manages_webhooks_as_its_maker(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let session = make(&app, &f.org, &f.admin.token, json!({})).await;
    assert!(str_of(&session, "url").contains("/portal/open?token=rst_pl_"), "{session}");
    assert_eq!(session["readOnly"], json!(false));
    assert_eq!(session["events"], Value::Null);

    let (portal, home) = open(&app, &session).await;
    let page = portal.get(&home).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.shows("Acme Corp webhooks") && !page.shows("Sign out"), "{}", page.body);
    assert!(!page.body.contains("class=\"tabs\""), "no console navigation");
    let csp = page.headers["content-security-policy"].to_str().expect("ascii");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers["referrer-policy"], "no-referrer");

    let created = portal.post(&home, &[("url", &receiver.url), ("events", "member.added")]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.input("secret").is_some_and(|s| s.starts_with("whsec_")));
    assert!(!created.shows(">Delete<") && !created.shows("Recover"), "{}", created.body);
    let events = app.events(&f.org, &f.owner).await;
    assert_eq!(events[0]["event"], json!("webhook.created"));
    assert_eq!(actor_of(&events[0]), &json!({"type": "user", "id": f.admin.id}));

    let hooks =
        app.list_all(&format!("/api/organizations/{}/webhooks", f.org), &f.owner.token).await;
    let hook = str_of(&hooks[0], "id");
    portal
        .post(&format!("{home}/{hook}/test"), &[])
        .await
        .assert_redirect(&format!("{home}/{hook}"));
    app.drain().await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    let log = portal.get(&format!("{home}/{hook}/deliveries")).await;
    assert!(log.shows("Succeeded"), "{}", log.body);

    // Opened once: the link does not open again, even for whoever holds it.
    let url = str_of(&session, "url");
    let again = Console::new(&app.base).get(url.strip_prefix(&app.base).expect("path")).await;
    again.assert_refused(
        StatusCode::NOT_FOUND,
        "This portal link has expired or was opened already. Ask the application for a new one.",
    );
    // The console's delete and recover are not the portal's.
    let page = portal.post(&format!("{home}/{hook}/delete"), &[]).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn links_and_sessions_expire_and_are_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let unopened = make(&app, &f.org, &f.owner.token, json!({})).await;
    app.advance(Duration::from_secs(6 * 60));
    let url = str_of(&unopened, "url").strip_prefix(&app.base).expect("path").to_owned();
    assert_eq!(Console::new(&app.base).get(&url).await.status, StatusCode::NOT_FOUND);

    let ended = "This portal session has ended. Open the portal again from the application.";
    let session = make(&app, &f.org, &f.owner.token, json!({})).await;
    let (portal, home) = open(&app, &session).await;
    assert_eq!(portal.get(&home).await.status, StatusCode::OK);
    let revoke = format!("{}/{}", sessions_path(&f.org), str_of(&session, "id"));
    let (status, _) = app.delete(&revoke, Some(&f.admin.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    portal.get(&home).await.assert_refused(StatusCode::UNAUTHORIZED, ended);

    // Who made it stops being a manager: the session can do nothing more than they can.
    let session = make(&app, &f.org, &f.admin.token, json!({})).await;
    let (portal, home) = open(&app, &session).await;
    app.remove_member(&f.org, &f.owner, &f.admin).await;
    portal.get(&home).await.assert_refused(StatusCode::NOT_FOUND, "Organization not found");

    let session = make(&app, &f.org, &f.owner.token, json!({})).await;
    let (portal, home) = open(&app, &session).await;
    app.advance(Duration::from_secs(3601));
    portal.get(&home).await.assert_refused(StatusCode::UNAUTHORIZED, ended);
    assert_eq!(
        Console::new(&app.base).get("/portal/rst_ps_made-up/webhooks").await.status,
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

async fn a_portal_narrowed_to_types_or_to_reading(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (narrow, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["member.added"]).await;
    let (wide, _) = app
        .create_webhook(&f.org, &f.owner, &receiver.url, &["member.added", "invite.created"])
        .await;
    let session = make(&app, &f.org, &f.owner.token, json!({"events": ["member.added"]})).await;
    assert_eq!(session["events"], json!(["member.added"]));
    let (portal, home) = open(&app, &session).await;
    let page = portal.get(&home).await;
    assert!(page.body.contains(&narrow) && !page.body.contains(&wide), "{}", page.body);
    assert!(
        !page.body.contains("value=\"invite.created\""),
        "the picker offers the session's types"
    );
    portal
        .get(&format!("{home}/{wide}"))
        .await
        .assert_refused(StatusCode::NOT_FOUND, "Webhook not found");
    let page = portal.post(&format!("{home}/{wide}/test"), &[]).await;
    page.assert_refused(StatusCode::NOT_FOUND, "Webhook not found");
    // The way back stays in the portal: its customer has no console.
    assert_eq!(page.link("Back to the webhooks").as_deref(), Some(home.as_str()), "{}", page.body);
    assert!(!page.body.contains("href=\"/console\""), "{}", page.body);
    let refused = "This page can subscribe webhooks only to: member.added";
    let page = portal.post(&home, &[("url", &receiver.url), ("events", "invite.created")]).await;
    page.assert_refused(StatusCode::FORBIDDEN, refused);
    let edit = format!("{home}/{narrow}/edit");
    let page = portal
        .post(
            &edit,
            &[("url", &receiver.url), ("events", "member.added"), ("events", "invite.created")],
        )
        .await;
    page.assert_refused(StatusCode::FORBIDDEN, refused);

    let session = make(&app, &f.org, &f.owner.token, json!({"readOnly": true})).await;
    let (portal, home) = open(&app, &session).await;
    let page = portal.get(&home).await;
    assert!(page.body.contains(&wide) && !page.shows("Add a webhook"), "{}", page.body);
    let page = portal.get(&format!("{home}/{narrow}")).await;
    assert!(!page.shows("Rotate secret") && !page.shows("<h2>Edit</h2>"), "{}", page.body);
    let token = page.csrf().unwrap_or_default();
    let page = portal
        .post_exactly(&format!("{home}/{narrow}/rotate"), &[("csrf_token", &token)], &[])
        .await;
    page.assert_refused(
        StatusCode::FORBIDDEN,
        "This page shows webhooks only: it cannot change them.",
    );
    let hooks =
        app.list_all(&format!("/api/organizations/{}/webhooks", f.org), &f.owner.token).await;
    assert_eq!(hooks.len(), 2, "nothing was added");
    app.stop().await;
}

async fn a_portal_is_framed_only_by_its_origins_and_wears_its_theme(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let body = json!({
        "frameAncestors": ["https://app.example.com", "http://127.0.0.1:8080"],
        "primaryColor": "#FF0000", "backgroundColor": "#fafafa",
        "logoUrl": "https://cdn.example.com/logo.svg",
    });
    let session = make(&app, &f.org, &f.owner.token, body).await;
    assert_eq!(session["primaryColor"], json!("#ff0000"));
    let (portal, home) = open(&app, &session).await;
    let page = portal.get(&home).await;
    let csp = page.headers["content-security-policy"].to_str().expect("ascii").to_owned();
    assert!(csp.contains("frame-ancestors https://app.example.com http://127.0.0.1:8080"), "{csp}");
    assert!(csp.contains("img-src 'self' data: https://cdn.example.com"), "{csp}");
    assert!(!page.headers.contains_key("x-frame-options"));
    assert!(
        page.body.contains("src=\"https:&#x2f;&#x2f;cdn.example.com&#x2f;logo.svg\""),
        "{}",
        page.body
    );
    // Its refusals show in the same frames; a session that has ended shows in any.
    let missing = portal.get(&format!("{home}/{}", crate::common::random_id())).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let csp = missing.headers["content-security-policy"].to_str().expect("ascii").to_owned();
    assert!(csp.contains("frame-ancestors https://app.example.com"), "{csp}");
    let ended = Console::new(&app.base).get("/portal/rst_ps_made-up/webhooks").await;
    let csp = ended.headers["content-security-policy"].to_str().expect("ascii").to_owned();
    assert!(csp.contains("frame-ancestors *") && csp.contains("form-action 'none'"), "{csp}");
    let theme = portal.get(&format!("{}/theme.css", home.trim_end_matches("/webhooks"))).await;
    assert_eq!(theme.headers["content-type"], "text/css; charset=utf-8");
    assert!(
        theme.body.contains("--accent: #ff0000;") && theme.body.contains("--bg: #fafafa;"),
        "{}",
        theme.body
    );
    app.stop().await;
}

async fn forms_of_a_portal_need_its_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (hook, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["member.added"]).await;
    let session = make(&app, &f.org, &f.owner.token, json!({})).await;
    let (portal, home) = open(&app, &session).await;
    let other = make(&app, &f.org, &f.owner.token, json!({})).await;
    let (other_portal, other_home) = open(&app, &other).await;
    let other_token = other_portal.get(&other_home).await.csrf().expect("a token");
    let forms = [
        (home.clone(), vec![("url", receiver.url.as_str()), ("events", "member.added")]),
        (format!("{home}/{hook}/rotate"), vec![]),
        (format!("{home}/{hook}/active"), vec![("isActive", "false")]),
    ];
    for (form, fields) in &forms {
        assert_eq!(
            portal.post_exactly(form, fields, &[]).await.status,
            StatusCode::FORBIDDEN,
            "{form}"
        );
        let mut forged = fields.clone();
        forged.push(("csrf_token", &other_token));
        assert_eq!(
            portal.post_exactly(form, &forged, &[]).await.status,
            StatusCode::FORBIDDEN,
            "{form}"
        );
    }
    let hooks =
        app.list_all(&format!("/api/organizations/{}/webhooks", f.org), &f.owner.token).await;
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0]["isActive"], json!(true));
    app.stop().await;
}

async fn only_managers_and_webhooks_write_tokens_make_portals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = sessions_path(&f.org);
    let (status, body) = app.post(&path, Some(&f.member.token), json!({})).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Access denied. Only owners and admins can create portal sessions.",
    );
    let (status, body) = app.post(&path, Some(&f.outsider.token), json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Organization not found");
    let (status, _) = app.post(&path, None, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let scopes = ["webhooks:read", "webhooks:write", "members:read"];
    let oauth = app.create_oauth_app(&f.org, &f.owner, &scopes).await;
    let reader = app.client_credentials_token(&oauth, Some("webhooks:read")).await;
    let (status, body) = app.post(&path, Some(&reader), json!({})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &lacks("webhooks:write"));
    let writer = app.client_credentials_token(&oauth, Some("webhooks:write")).await;
    let (status, body) = app.post(&path, Some(&writer), json!({})).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &lacks("webhooks:read"));
    let writer = app.client_credentials_token(&oauth, Some(&scopes.join(" "))).await;
    let session = make(&app, &f.org, &writer, json!({})).await;
    let (portal, home) = open(&app, &session).await;
    let receiver = Receiver::start().await;
    let created = portal.post(&home, &[("url", &receiver.url), ("events", "member.added")]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let events = app.events(&f.org, &f.owner).await;
    assert_eq!(actor_of(&events[0])["type"], json!("oauth_app"), "{}", events[0]);
    // Revoking the app ends its portals.
    let (status, _) = app
        .post(
            &format!("/api/organizations/{}/oauth-apps/{}/revoke", f.org, oauth.id),
            Some(&f.owner.token),
            json!({}),
        )
        .await;
    assert!(status.is_success(), "{status}");
    assert_eq!(portal.get(&home).await.status, StatusCode::UNAUTHORIZED);

    for (body, message) in [
        (
            json!({"frameAncestors": ["https://app.example.com/path"]}),
            "each value in frameAncestors must be an origin such as https://app.example.com",
        ),
        (json!({"frameAncestors": "https://app.example.com"}), "frameAncestors must be an array"),
        (json!({"primaryColor": "red"}), "primaryColor must be a colour such as #1d4ed8"),
        (json!({"logoUrl": "http://cdn.example.com/logo.svg"}), "logoUrl must be an https:// URL"),
        (json!({"readOnly": "yes"}), "readOnly must be a boolean value"),
        (json!({"events": []}), "events should not be empty"),
    ] {
        let (status, answer) = app.post(&path, Some(&f.owner.token), body.clone()).await;
        assert_validation(status, &answer, &[message]);
    }
    let (status, body) = app.delete(&format!("{path}/{}", uuid_like()), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Portal session not found");
    let session = make(&app, &f.org, &f.owner.token, json!({})).await;
    let (status, body) =
        app.delete(&format!("{path}/{}", str_of(&session, "id")), Some(&f.member.token)).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Access denied. Only owners and admins can revoke portal sessions.",
    );
    app.stop().await;
}

fn uuid_like() -> String {
    crate::common::random_id()
}

/// A portal session reaches its own organization's webhooks and nothing of another's.
async fn another_organizations_webhooks_are_out_of_reach(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let other_org = app.create_org(&f.outsider, "Other").await;
    let (theirs, _) =
        app.create_webhook(&other_org, &f.outsider, &receiver.url, &["member.added"]).await;
    let session = make(&app, &f.org, &f.owner.token, json!({})).await;
    let (portal, home) = open(&app, &session).await;
    portal
        .get(&format!("{home}/{theirs}"))
        .await
        .assert_refused(StatusCode::NOT_FOUND, "Webhook not found");
    let page = portal.post(&format!("{home}/{theirs}/rotate"), &[]).await;
    page.assert_refused(StatusCode::NOT_FOUND, "Webhook not found");
    // The portal's token opens no console page.
    let console =
        portal.get(&format!("/console/organizations/{other_org}/webhooks/{theirs}")).await;
    console.assert_redirect("/console/sign-in");
    let api = app
        .get(&format!("/api/organizations/{other_org}/webhooks/{theirs}"), Some(&f.owner.token))
        .await;
    assert_eq!(api.0, StatusCode::NOT_FOUND);
    app.stop().await;
}

on_both_backends!(
    a_link_opens_once_and_its_page_manages_webhooks_as_its_maker,
    links_and_sessions_expire_and_are_revoked,
    a_portal_narrowed_to_types_or_to_reading,
    a_portal_is_framed_only_by_its_origins_and_wears_its_theme,
    forms_of_a_portal_need_its_token,
    only_managers_and_webhooks_write_tokens_make_portals,
    another_organizations_webhooks_are_out_of_reach,
);
