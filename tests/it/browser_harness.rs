//! The browser harness itself (`common::browser`), on two small pages served here: one a person
//! can use with any means, one with deliberate accessibility faults.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use futures::FutureExt;
use tokio::net::TcpListener;

use crate::common::browser::{self, Browser, Violation};

const GOOD: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>input, button { min-height: 2rem; margin: 0.25rem; }</style></head>
<body><main><h1>Sign in</h1>
<form action="/welcome" method="get">
  <label for="email">Email</label> <input id="email" name="email" type="email">
  <label>Display name <small>(optional)</small> <input name="name"></label>
  <label for="role">Role</label>
  <select id="role" name="role"><option>Member</option><option>Admin</option></select>
  <button type="submit">Sign in</button>
</form>
<button type="button" id="later">Show later</button>
<script>
  // Text that arrives after a delay, as a page's refreshed part does.
  document.getElementById("later").addEventListener("click", () =>
    setTimeout(() => document.querySelector("main").insertAdjacentHTML("beforeend", "<p>Arrived late</p>"), 700));
</script>
</main></body></html>"#;

const BAD: &str = r#"<!doctype html>
<html><head><title>Faults</title></head>
<body><main><h1>Faults</h1>
<input type="text" name="nameless">
<img src="/pixel.png">
</main></body></html>"#;

const FRAMED: &str = r#"<!doctype html>
<html lang="en"><head><title>Framed</title></head>
<body><main><h1>Outside</h1><iframe title="Sign-in form" src="/good"></iframe></main></body></html>"#;

/// The smallest PNG: one transparent pixel.
const PIXEL: [u8; 67] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

async fn welcome(Query(form): Query<HashMap<String, String>>) -> Html<String> {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let field = |k: &str| escape(form.get(k).map_or("", String::as_str));
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><title>Welcome</title></head><body><main>\
         <h1>Welcome, {}</h1><p>Signed in as {} ({})</p><a href=\"/good\">Back</a></main></body></html>",
        field("name"),
        field("email"),
        field("role")
    ))
}

/// Serves the pages on 127.0.0.1 port 0 for as long as the test runs; answers the base URL.
async fn pages() -> String {
    let app = Router::new()
        .route("/good", get(|| async { Html(GOOD) }))
        .route("/bad", get(|| async { Html(BAD) }))
        .route("/framed", get(|| async { Html(FRAMED) }))
        .route("/welcome", get(welcome))
        .route("/pixel.png", get(|| async { ([("content-type", "image/png")], PIXEL) }));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the pages are served") });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accessible_page_passes_the_check() {
    let Some(browser) = Browser::open().await else { return };
    let base = pages().await;
    browser.goto(&format!("{base}/good")).await;
    browser.check_accessibility().await;
    assert!(browser.accessibility_violations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_with_faults_fails_the_check_naming_each_rule() {
    let Some(browser) = Browser::open().await else { return };
    let base = pages().await;
    browser.goto(&format!("{base}/bad")).await;

    let violations: Vec<Violation> = browser.accessibility_violations().await;
    let rule = |id: &str| violations.iter().find(|v| v.id == id);
    let label = rule("label").unwrap_or_else(|| panic!("the unlabelled input: {violations:#?}"));
    assert_eq!(label.impact.as_deref(), Some("critical"));
    assert_eq!(label.targets(), ["input"]);
    let alt = rule("image-alt").unwrap_or_else(|| panic!("the image without alt: {violations:#?}"));
    assert_eq!(alt.targets(), ["img"]);
    assert!(rule("html-has-lang").is_some(), "the page without a language: {violations:#?}");

    let failure = AssertUnwindSafe(browser.check_accessibility()).catch_unwind().await;
    let message = failure.expect_err("the check fails the test");
    let message = message.downcast_ref::<String>().expect("a formatted message");
    for expected in ["- label (critical): Form elements must have labels", "at img: ", "image-alt"]
    {
        assert!(message.contains(expected), "{expected:?} in:\n{message}");
    }
    assert!(message.contains("https://dequeuniversity.com/rules/axe/"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_are_filled_by_their_labels_and_buttons_clicked_by_their_text() {
    let Some(browser) = Browser::open().await else { return };
    let base = pages().await;
    browser.goto(&format!("{base}/good")).await;

    browser.fill("Email", "ada@example.test").await;
    browser.fill("Display name", "Ada <L>").await;
    browser.choose("Role", "Admin").await;
    browser.click_button("Sign in").await;

    browser.wait_for_path("/welcome").await;
    browser.wait_for_text("Signed in as ada@example.test (Admin)").await;
    assert_eq!(browser.wait_for("h1").await.text().await.expect("text"), "Welcome, Ada <L>");
    assert_eq!(
        browser.url().await.query(),
        Some("email=ada%40example.test&name=Ada+%3CL%3E&role=Admin")
    );

    browser.click_link("Back").await;
    browser.wait_for_path("/good").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_outlast_a_late_change_and_fail_naming_what_never_came() {
    let Some(browser) = Browser::open().await else { return };
    let browser = browser.with_wait(Duration::from_secs(2));
    let base = pages().await;
    browser.goto(&format!("{base}/good")).await;
    browser.click_button("Show later").await;
    browser.wait_for_text("Arrived late").await;

    let missing = AssertUnwindSafe(browser.fill("Password", "x")).catch_unwind().await;
    let message = missing.expect_err("no field is labelled Password");
    let message = message.downcast_ref::<String>().expect("a formatted message");
    assert!(message.starts_with("no a control labelled \"Password\" within 2s on"), "{message}");
    assert!(message.contains("Arrived late"), "the page's text follows: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_are_entered_and_left() {
    let Some(browser) = Browser::open().await else { return };
    let base = pages().await;
    browser.goto(&format!("{base}/framed")).await;
    browser.enter_frame("iframe").await;
    browser.fill("Email", "inside@example.test").await;
    browser.check_accessibility().await;
    browser.leave_frame().await;
    assert_eq!(browser.wait_for("h1").await.text().await.expect("text"), "Outside");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots_are_png_files_of_the_window_size() {
    let Some(desktop) = Browser::open().await else { return };
    let base = pages().await;
    desktop.goto(&format!("{base}/good")).await;
    let path = desktop.screenshot("harness-desktop").await;
    assert!(path.ends_with("harness-desktop.png"), "{}", path.display());
    assert_eq!(png_size(&path), (1280, 900));
    drop(desktop);

    let Some(phone) = Browser::open_phone().await else { return };
    phone.goto(&format!("{base}/good")).await;
    let width = phone.client().execute("return window.innerWidth", vec![]).await.expect("width");
    assert_eq!(width, 390);
    assert_eq!(png_size(&phone.screenshot("harness-phone").await), (390, 844));
}

#[test]
fn a_missing_browser_says_what_to_install_and_how_to_skip() {
    let why = browser::missing_programs("/usr/bin/chromium", "/nonexistent/chromedriver");
    let why = why.expect("the driver is missing");
    assert!(why.contains("/nonexistent/chromedriver is missing"), "{why}");
    assert!(why.contains("apt-get install chromium chromium-driver"), "{why}");
    assert!(why.contains("ROSTER_TEST_BROWSER=off"), "{why}");
}

/// Width and height from a PNG's header, after checking the signature.
fn png_size(path: &std::path::Path) -> (u32, u32) {
    let png = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(png.starts_with(PNG_SIGNATURE), "{} is a PNG", path.display());
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().expect("four bytes"));
    (be(16), be(20))
}
