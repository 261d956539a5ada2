//! The portal in a real browser: an application's page on another origin embeds a portal
//! link in an iframe, and the customer adds a webhook and watches its test delivery arrive
//! inside it. Then the walls: a person outside an organization cannot open its console
//! pages, and another organization's portal cannot open its webhooks.

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;

use crate::common::browser::Browser;
use crate::common::receiver::Receiver;
use crate::common::{Backend, PASSWORD, TestApp, str_of};

/// The application's page: on `localhost`, another site than the server's `127.0.0.1`, with
/// the portal in an iframe. Answers the page's origin and a setter for the iframe's `src`.
async fn embedding_page() -> (String, std::sync::Arc<std::sync::Mutex<String>>) {
    let src = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let shown = src.clone();
    let app = Router::new().route(
        "/settings",
        get(move || {
            let src = shown.lock().expect("src").clone();
            async move {
                Html(format!(
                    "<!doctype html><html lang=\"en\"><head><title>Acme settings</title></head>\
                     <body><main><h1>Acme: your webhooks</h1>\
                     <iframe title=\"Webhooks\" src=\"{src}\" width=\"1000\" height=\"700\"></iframe>\
                     </main></body></html>"
                ))
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let origin = format!("http://localhost:{}", listener.local_addr().expect("addr").port());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the page is served") });
    (origin, src)
}

async fn a_portal_embedded_on_another_site_manages_webhooks(backend: Backend) {
    let Some(browser) = Browser::open().await else { return };
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (origin, src) = embedding_page().await;
    let (status, session) = app
        .post(
            &format!("/api/organizations/{}/portal-sessions", f.org),
            Some(&f.admin.token),
            json!({"frameAncestors": [origin], "primaryColor": "#0f766e"}),
        )
        .await;
    assert_eq!(status.as_u16(), 201, "{session}");
    *src.lock().expect("src") = str_of(&session, "url").to_owned();

    browser.goto(&format!("{origin}/settings")).await;
    browser.wait_for_text("Acme: your webhooks").await;
    browser.enter_frame("iframe").await;
    browser.wait_for_text("No webhooks yet").await;
    browser.check_accessibility().await;
    browser.fill("Receiver URL", &receiver.url).await;
    browser.labelled("member.added").await.click().await.expect("tick member.added");
    browser.click_button("Add webhook").await;
    browser.wait_for_text("Webhook added: here is its signing secret").await;
    browser.click_link("All webhooks").await;
    browser.click_link(&receiver.url).await;
    browser.click_button("Send a test event").await;
    browser.wait_for_text("Succeeded").await;
    browser.check_accessibility().await;
    browser.leave_frame().await;
    if backend == Backend::Sqlite {
        browser.screenshot("portal-embedded").await;
    }
    let events = app.events(&f.org, &f.owner).await;
    let created = events.iter().find(|e| e["event"] == json!("webhook.created")).expect("logged");
    assert_eq!(created["data"]["actor"]["id"], json!(f.admin.id), "the portal acts as its maker");
    app.stop().await;
}

async fn strangers_and_other_portals_reach_nothing_of_an_organization(backend: Backend) {
    let Some(browser) = Browser::open().await else { return };
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let (hook, _) = app.create_webhook(&f.org, &f.owner, &receiver.url, &["member.added"]).await;

    // A person outside the organization, signed in to the console.
    browser.goto(&format!("{}/console/sign-in", app.base)).await;
    browser.fill("Email", &f.outsider.email).await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;
    browser.wait_for_text("Your organizations").await;
    for page in ["", "/members", "/webhooks", &format!("/webhooks/{hook}")] {
        browser.goto(&format!("{}/console/organizations/{}{page}", app.base, f.org)).await;
        browser.wait_for_text("Organization not found").await;
    }
    browser.goto(&format!("{}/console", app.base)).await;
    browser.click_button("Sign out").await;

    // The portal of the outsider's own organization, pointed at this one's webhook.
    let other = app.create_org(&f.outsider, "Other").await;
    let (_, session) = app
        .post(
            &format!("/api/organizations/{other}/portal-sessions"),
            Some(&f.outsider.token),
            json!({}),
        )
        .await;
    browser.goto(str_of(&session, "url")).await;
    browser.wait_for_text("No webhooks yet").await;
    let home = browser.url().await.path().to_owned();
    browser.goto(&format!("{}{home}/{hook}", app.base)).await;
    browser.wait_for_text("Webhook not found").await;
    if backend == Backend::Sqlite {
        browser.screenshot("portal-refused").await;
    }
    app.stop().await;
}

on_both_backends!(
    a_portal_embedded_on_another_site_manages_webhooks,
    strangers_and_other_portals_reach_nothing_of_an_organization,
);
