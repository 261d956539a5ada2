//! `/console/organizations/{id}/oauth-apps/…`: registering an app (its client secret shown
//! once, and one the token endpoint takes), editing, rotating and revoking it; the API's
//! refusals for every role, another organization, bad fields and the quota; CSRF.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::assert_same_refusal;
use crate::common::console::{Console, Page};
use crate::common::oauth::{TestOAuthApp, assert_works};
use crate::common::{Backend, TestApp, random_id};

fn apps_path(org: &str) -> String {
    format!("/console/organizations/{org}/oauth-apps")
}

const URIS: &str = "https://app.example.com/cb\r\n\r\nhttp://localhost:8080/cb";

/// The fields of the app form, and the API body the console makes of them.
fn fields<'a>(
    name: &'a str,
    uris: &'a str,
    scopes: &[&'a str],
) -> (Vec<(&'a str, &'a str)>, Value) {
    let mut form = vec![("name", name), ("redirectUris", uris)];
    form.extend(scopes.iter().map(|s| ("scopes", *s)));
    let lines: Vec<&str> = uris.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    (form, json!({"name": name, "redirectUris": lines, "scopes": scopes}))
}

/// The app a page shows with its secret, as the token endpoint needs it.
fn shown_app(page: &Page, id: &str) -> TestOAuthApp {
    TestOAuthApp {
        id: id.to_owned(),
        client_id: page.input("client-id").expect("the client ID"),
        client_secret: page.input("secret").expect("the secret is shown"),
        redirect_uri: "https://app.example.com/cb".to_owned(),
    }
}

async fn an_app_registered_in_the_console_works_until_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = apps_path(&f.org);
    let api_path = format!("/api/organizations/{}/oauth-apps", f.org);
    let admin = Console::signed_in(&app, &f.admin).await;
    let empty = admin.get(&path).await;
    assert!(empty.shows("No OAuth apps yet"), "{}", empty.body);
    assert!(empty.shows(">OAuth apps<") && empty.body.contains("value=\"events:publish\""));

    let (form, _) = fields("Billing", URIS, &["members:read", "organization:read"]);
    let created = admin.post(&path, &form).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let listed = app.list_all(&api_path, &f.owner.token).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0]["redirectUris"],
        json!(["https://app.example.com/cb", "http://localhost:8080/cb"])
    );
    assert_eq!(listed[0]["scopes"], json!(["organization:read", "members:read"]));
    let id = listed[0]["id"].as_str().expect("an id");
    let registered = shown_app(&created, id);
    assert!(registered.client_secret.starts_with("rst_cs_"), "{}", registered.client_secret);
    let token = app.client_credentials_token(&registered, None).await;
    assert_works(&app, &f.org, &token).await;
    let one = format!("{path}/{id}");
    let again = admin.get(&one).await;
    assert!(!again.body.contains(&registered.client_secret), "the secret is shown once");
    let uris = ">https://app.example.com/cb\nhttp://localhost:8080/cb</textarea>";
    assert!(again.shows(uris), "{}", again.body);

    // An OWNER rotates: the new secret is shown once and gets tokens.
    let owner = Console::signed_in(&app, &f.owner).await;
    owner.get(&one).await;
    let rotated = owner.post(&format!("{one}/rotate"), &[]).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let renewed = shown_app(&rotated, id);
    assert_ne!(renewed.client_secret, registered.client_secret);
    app.client_credentials_token(&renewed, None).await;

    let (form, _) = fields("Billing 2", "https://app.example.com/cb", &["members:read"]);
    assert_eq!(admin.post(&format!("{one}/edit"), &form).await.assert_redirect(&one), "done=saved");
    let saved = admin.get(&format!("{one}?done=saved")).await;
    assert_eq!(saved.notice().as_deref(), Some("App saved."));
    let (_, read) = app.get(&format!("{api_path}/{id}"), Some(&f.owner.token)).await;
    assert_eq!((&read["name"], &read["scopes"]), (&json!("Billing 2"), &json!(["members:read"])));

    let revoked = owner.post(&format!("{one}/revoke"), &[]).await;
    assert_eq!(revoked.assert_redirect(&path), "done=revoked");
    let list = owner.get(&format!("{path}?done=revoked")).await;
    assert_eq!(list.notice().as_deref(), Some("App revoked: its tokens no longer work."));
    assert!(list.shows("Revoked") && list.shows("Billing 2"), "{}", list.body);
    let (status, _) = app.get(&format!("/api/organizations/{}/members", f.org), Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let page = owner.get(&one).await;
    assert!(!page.shows(">Rotate secret<") && !page.shows(">Save<"), "{}", page.body);
    // A revoked app's secret cannot be rotated: the API's 409.
    let api =
        app.post(&format!("{api_path}/{id}/rotate-secret"), Some(&f.owner.token), json!({})).await;
    assert_same_refusal(api, &owner.post(&format!("{one}/rotate"), &[]).await);
    let events = app.events(&f.org, &f.owner).await;
    let created = events.iter().find(|e| e["event"] == json!("oauth_app.created")).expect("logged");
    assert_eq!(created["data"]["actor"]["id"], json!(f.admin.id));
    app.stop().await;
}

async fn each_refusal_is_the_apis(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.quotas.oauth_apps_per_org = 1).await;
    let f = app.org_with_roles().await;
    let path = apps_path(&f.org);
    let api_path = format!("/api/organizations/{}/oauth-apps", f.org);
    let existing = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let one = format!("{path}/{}", existing.id);
    let api_one = format!("{api_path}/{}", existing.id);
    let (form, body) = fields("New", "https://new.example.com/cb", &["members:read"]);

    for (who, console) in [
        (&f.member, Console::signed_in(&app, &f.member).await),
        (&f.outsider, Console::signed_in(&app, &f.outsider).await),
    ] {
        let token = Some(who.token.as_str());
        assert_same_refusal(app.get(&api_path, token).await, &console.get(&path).await);
        assert_same_refusal(app.get(&api_one, token).await, &console.get(&one).await);
        console.get("/console").await;
        assert_same_refusal(
            app.post(&api_path, token, body.clone()).await,
            &console.post(&path, &form).await,
        );
        let edit = console.post(&format!("{one}/edit"), &form).await;
        assert_same_refusal(app.patch(&api_one, token, body.clone()).await, &edit);
        for (action, api_action) in [("rotate", "rotate-secret"), ("revoke", "revoke")] {
            let api = app.post(&format!("{api_one}/{api_action}"), token, json!({})).await;
            assert_same_refusal(api, &console.post(&format!("{one}/{action}"), &[]).await);
        }
    }
    let member = Console::signed_in(&app, &f.member).await;
    let overview = member.get(&format!("/console/organizations/{}", f.org)).await;
    assert!(!overview.shows(">OAuth apps<"), "{}", overview.body);

    // Bad fields, shown again with the API's words; the quota; an app that is not there.
    let admin = Console::signed_in(&app, &f.admin).await;
    admin.get(&path).await;
    for (uris, scopes) in [
        ("http://app.example.com/cb", &["members:read"][..]),
        ("https://a.example.com/cb", &[][..]),
    ] {
        let (form, body) = fields("Bad", uris, scopes);
        let page = admin.post(&path, &form).await;
        assert_same_refusal(app.post(&api_path, Some(&f.admin.token), body.clone()).await, &page);
        assert_eq!(page.input("app-name").as_deref(), Some("Bad"), "kept");
        let page = admin.post(&format!("{one}/edit"), &form).await;
        assert_same_refusal(app.patch(&api_one, Some(&f.admin.token), body).await, &page);
        assert_eq!(page.input("app-name").as_deref(), Some("Bad"), "kept");
    }
    let page = admin.post(&path, &form).await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
    assert_same_refusal(app.post(&api_path, Some(&f.admin.token), body).await, &page);
    let missing = random_id();
    let api = app.get(&format!("{api_path}/{missing}"), Some(&f.admin.token)).await;
    assert_same_refusal(api, &admin.get(&format!("{path}/{missing}")).await);

    let listed = app.list_all(&api_path, &f.owner.token).await;
    assert_eq!(listed.len(), 1, "nothing changed: {listed:?}");
    assert_eq!((&listed[0]["name"], &listed[0]["status"]), (&json!("Test app"), &json!("active")));
    app.client_credentials_token(&existing, None).await;
    app.stop().await;
}

async fn app_forms_need_the_sign_ins_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let existing = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let path = apps_path(&f.org);
    let one = format!("{path}/{}", existing.id);
    let owner = Console::signed_in(&app, &f.owner).await;
    let (form, _) = fields("Forged", "https://evil.example.com/cb", &["members:write"]);
    let forms = [
        (path.clone(), form.clone()),
        (format!("{one}/edit"), form),
        (format!("{one}/rotate"), vec![]),
        (format!("{one}/revoke"), vec![]),
    ];
    let csrf = owner.get(&one).await.csrf().expect("a token");
    for (form, fields) in &forms {
        let page = owner.post_exactly(form, fields, &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "no token: {form}");
        // The right token, from another site: refused before any handler runs.
        let mut with_token = fields.clone();
        with_token.push(("csrf_token", &csrf));
        let page = owner.post_exactly(form, &with_token, &[("sec-fetch-site", "cross-site")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "cross-site: {form}");
    }
    let listed =
        app.list_all(&format!("/api/organizations/{}/oauth-apps", f.org), &f.owner.token).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((&listed[0]["name"], &listed[0]["status"]), (&json!("Test app"), &json!("active")));
    assert_eq!(listed[0]["scopes"], json!(["members:read"]));
    let events = app.event_types(&f.org, &f.owner).await;
    assert!(
        !events.iter().any(|e| e.starts_with("oauth_app.") && e != "oauth_app.created"),
        "{events:?}"
    );
    app.stop().await;
}

on_both_backends!(
    an_app_registered_in_the_console_works_until_revoked,
    each_refusal_is_the_apis,
    app_forms_need_the_sign_ins_token,
);
