//! The console in a real browser, at a desktop's width and at a phone's: a person signs in
//! through the page, creates an organization, visits each of its pages, adds a webhook and
//! watches its test delivery arrive in the log, and every page on the way passes the
//! accessibility check. The SQLite runs save a screenshot of each page (`console-….png`, see
//! `common::browser`), so `ROSTER_SCREENSHOTS=docs/screenshots` refreshes committed ones.

use crate::common::browser::Browser;
use crate::common::receiver::Receiver;
use crate::common::{Backend, PASSWORD, TestApp};

/// The organization's pages an owner reaches by the tabs: link text, last path segment.
const TABS: [(&str, &str); 3] =
    [("Members", "members"), ("Invites", "invites"), ("Webhooks", "webhooks")];

async fn every_page_on_the_way_through_the_console_is_accessible_on_a_desktop(backend: Backend) {
    let Some(browser) = Browser::open().await else { return };
    walk_through(&browser, backend, "").await;
}

async fn every_page_on_the_way_through_the_console_is_accessible_on_a_phone(backend: Backend) {
    let Some(browser) = Browser::open_phone().await else { return };
    walk_through(&browser, backend, "-phone").await;
}

on_both_backends!(
    every_page_on_the_way_through_the_console_is_accessible_on_a_desktop,
    every_page_on_the_way_through_the_console_is_accessible_on_a_phone,
);

/// Checks the page, and on SQLite saves it as `console-<name><suffix>.png`.
async fn looks_right(browser: &Browser, backend: Backend, name: &str, suffix: &str) {
    browser.check_accessibility().await;
    if backend == Backend::Sqlite {
        browser.screenshot(&format!("console-{name}{suffix}")).await;
    }
}

async fn walk_through(browser: &Browser, backend: Backend, suffix: &str) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let receiver = Receiver::start().await;

    // Not signed in: the console sends a person to sign in.
    browser.goto(&format!("{}/console", app.base)).await;
    browser.wait_for_path("/console/sign-in").await;
    looks_right(browser, backend, "sign-in", suffix).await;

    browser.fill("Email", &ada.email).await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;
    browser.wait_for_path("/console").await;
    browser.wait_for_text("You are not in any organization yet").await;
    looks_right(browser, backend, "organizations", suffix).await;

    browser.fill("Name", "Analytical Engines").await;
    browser.click_button("Create organization").await;
    browser.wait_for_text("Your role").await;
    let overview = browser.url().await.path().to_owned();
    assert!(overview.starts_with("/console/organizations/"), "{overview}");
    looks_right(browser, backend, "overview", suffix).await;

    for (link, page) in TABS {
        browser.click_link(link).await;
        browser.wait_for_path(&format!("{overview}/{page}")).await;
        looks_right(browser, backend, page, suffix).await;
    }

    // On the webhooks page: add one, see its secret once, then its page and a test delivery.
    browser.fill("Receiver URL", &receiver.url).await;
    browser.labelled("member.added").await.click().await.expect("tick member.added");
    browser.click_button("Add webhook").await;
    browser.wait_for_text("Copy").await;
    looks_right(browser, backend, "webhook-secret", suffix).await;

    browser.click_link("Webhooks").await;
    browser.click_link(&receiver.url).await;
    browser.wait_for_text("Deliveries").await;
    browser.click_button("Send a test event").await;
    // The log refreshes itself while a delivery is pending.
    browser.wait_for_text("Succeeded").await;
    looks_right(browser, backend, "webhook", suffix).await;
    // The log's filters: nothing failed.
    browser.click_link("Failed").await;
    browser.wait_for_text("No failed deliveries").await;

    browser.click_button("Sign out").await;
    browser.wait_for_path("/console/sign-in").await;

    // A forgotten password: the link from the sign-in page asks for the address.
    browser.click_link("Forgot your password?").await;
    browser.wait_for_path("/console/reset-password").await;
    looks_right(browser, backend, "reset-password", suffix).await;
    browser.fill("Email", &ada.email).await;
    browser.click_button("Send me a link").await;
    browser.wait_for_text("a link to reset its password is on its way").await;
    app.stop().await;
}
