//! The authorization-code flow with PKCE: the HTML consent page, the JSON shortcut, and
//! redeeming the code.

mod authorize_faults;
mod code_exchange;
mod consent_page;
mod json_authorize;

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE, X_FRAME_OPTIONS};

use super::assert_redirects_to;
use super::pages::{Page, assert_html_page};
use crate::common::TestApp;
use crate::common::oauth::{header, query};

const CONSENT_PATH: &str = "/api/oauth/authorize/consent";

/// The consent page as docs/oauth.md describes it.
fn assert_consent_page(app: &TestApp, page: &Page) {
    assert_html_page(page, StatusCode::OK);
    let cache = header(&page.headers, CACHE_CONTROL).unwrap_or_default();
    assert!(cache.contains("no-store"), "Cache-Control {cache}");
    let frame = header(&page.headers, X_FRAME_OPTIONS).unwrap_or_default();
    let csp = header(&page.headers, CONTENT_SECURITY_POLICY).unwrap_or_default();
    assert!(
        frame.eq_ignore_ascii_case("deny") || csp.contains("frame-ancestors"),
        "no anti-framing header (X-Frame-Options {frame:?}, CSP {csp:?})"
    );
    assert_eq!(page.form_action(app).path(), CONSENT_PATH);
    assert!(!page.hidden_inputs().is_empty(), "form has hidden fields: {}", page.body);
    assert!(page.cookie_header().is_some(), "page sets its CSRF cookie");
}

/// The page's form as a browser would post it, with these credentials and decision.
fn consent_fields(
    page: &Page,
    email: &str,
    password: &str,
    decision: &str,
) -> Vec<(String, String)> {
    let mut fields = page.hidden_inputs();
    fields.push(("email".to_owned(), email.to_owned()));
    fields.push(("password".to_owned(), password.to_owned()));
    fields.push(("decision".to_owned(), decision.to_owned()));
    fields
}

async fn submit(
    app: &TestApp,
    http: &reqwest::Client,
    page: &Page,
    fields: &[(String, String)],
    cookie: Option<&str>,
) -> Page {
    let mut req = http.post(page.form_action(app)).form(fields);
    if let Some(cookie) = cookie {
        req = req.header(COOKIE, cookie);
    }
    Page::read(req.send().await.expect("consent answered")).await
}

/// A 303 back to the app with a code and the state; returns the code.
fn code_from_redirect(page: &Page, redirect_uri: &str, state: &str) -> String {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location().expect("Location");
    assert_redirects_to(&location, redirect_uri);
    assert_eq!(query(&location, "state").as_deref(), Some(state), "{location}");
    assert!(query(&location, "error").is_none(), "{location}");
    let code = query(&location, "code").expect("code in the redirect");
    assert!(code.starts_with("rst_ac_"), "code {code}");
    code
}
