//! The full flow through the consent page, driven by `oauth2`, and the page's faults.

use std::time::Duration;

use oauth2::basic::{BasicErrorResponse, BasicTokenType};
use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, RefreshToken, RequestTokenError, Scope,
    TokenResponse,
};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, RETRY_AFTER};
use serde_json::json;

use super::{assert_consent_page, code_from_redirect, consent_fields, submit};
use crate::common::messages::BAD_LOGIN;
use crate::common::oauth::{assert_works, authorize_url, browser, query};
use crate::common::{Backend, PASSWORD, TestApp};
use crate::oauth_server::pages::{Page, assert_html_page, fetch, unescape};
use crate::oauth_server::{
    assert_dead, assert_lacks_scope, assert_redirects_to, code_params, exchange, oauth_client,
    oauth2_scopes, set_of,
};

/// The OAuth error code of a failed `oauth2` request; panics unless the server answered with
/// an RFC 6749 error body that has a description.
fn server_error<RE: std::error::Error + 'static>(
    err: RequestTokenError<RE, BasicErrorResponse>,
) -> String {
    match err {
        RequestTokenError::ServerResponse(response) => {
            assert!(
                response.error_description().is_some(),
                "error_description missing: {response:?}"
            );
            response.error().as_ref().to_owned()
        }
        other => panic!("expected an RFC 6749 error response, got {other:?}"),
    }
}

async fn code_flow_through_consent_page_with_oauth2_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app
        .create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read", "webhooks:read"])
        .await;
    let client = oauth_client(&app, &oauth_app);
    let http = browser();

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("members:read".to_owned()))
        .add_scope(Scope::new("organization:read".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let page = fetch(&http, url.as_str()).await;
    assert_consent_page(&app, &page);
    assert!(page.body.contains("Test app"), "names the app: {}", page.body);
    assert!(page.body.contains("Acme Corp"), "names the organization: {}", page.body);
    assert!(page.body.contains("members:read"), "names the scopes: {}", page.body);
    assert!(page.body.contains("organization:read"), "names the scopes: {}", page.body);
    assert!(!page.body.contains("webhooks:read"), "only the requested scopes: {}", page.body);

    let cookie = page.cookie_header().expect("CSRF cookie");
    let fields = consent_fields(&page, &f.member.email, PASSWORD, "approve");
    let answer = submit(&app, &http, &page, &fields, Some(&cookie)).await;
    let code = code_from_redirect(&answer, &oauth_app.redirect_uri, state.secret());

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    assert_eq!(*tokens.token_type(), BasicTokenType::Bearer);
    assert_eq!(tokens.expires_in(), Some(Duration::from_secs(3600)));
    assert_eq!(oauth2_scopes(tokens.scopes()), set_of(["members:read", "organization:read"]));
    let access = tokens.access_token().secret().clone();
    let refresh_token = tokens.refresh_token().expect("refresh token").secret().clone();
    assert!(access.starts_with("rst_oat_"), "access token {access}");
    assert!(refresh_token.starts_with("rst_ort_"), "refresh token {refresh_token}");

    // The token acts for the member within its scopes.
    assert_works(&app, &f.org, &access).await;
    let (status, body) = app.get(&format!("/api/organizations/{}", f.org), Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], json!("Acme Corp"));
    assert_lacks_scope(
        &app,
        &format!("/api/organizations/{}/webhooks", f.org),
        &access,
        "webhooks:read",
    )
    .await;

    // Refresh rotates the pair.
    let rotated = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.clone()))
        .request_async(&http)
        .await
        .expect("refresh");
    let new_access = rotated.access_token().secret().clone();
    let new_refresh = rotated.refresh_token().expect("rotated refresh token").secret().clone();
    assert_ne!(new_access, access);
    assert_ne!(new_refresh, refresh_token);
    assert_eq!(oauth2_scopes(rotated.scopes()), set_of(["members:read", "organization:read"]));
    assert_works(&app, &f.org, &new_access).await;

    // Presenting the spent refresh token revokes the whole grant.
    let err = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token))
        .request_async(&http)
        .await
        .expect_err("a spent refresh token is refused");
    assert_eq!(server_error(err), "invalid_grant");
    assert_dead(&app, &f.org, &new_access).await;
    assert_dead(&app, &f.org, &access).await;
    let err = client
        .exchange_refresh_token(&RefreshToken::new(new_refresh))
        .request_async(&http)
        .await
        .expect_err("the grant's newest refresh token is revoked too");
    assert_eq!(server_error(err), "invalid_grant");
    app.stop().await;
}

/// App names and `state` are shown or carried in the page escaped, and round-trip intact.
async fn consent_page_escapes_untrusted_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let name = "Evil <b>\"Co\"</b> & 'Sons'";
    let oauth_app = app
        .create_oauth_app_with(
            &f.org,
            &f.owner,
            name,
            &["http://127.0.0.1:9/callback"],
            &["members:read"],
        )
        .await;
    let http = browser();
    let state = "x\"><script>alert(1)</script>&y='z";
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let params = code_params(&oauth_app, "members:read", state, challenge.as_str());
    let page = fetch(&http, &authorize_url(&app, &params)).await;
    assert_consent_page(&app, &page);
    assert!(!page.body.contains("<b>\"Co\"</b>"), "app name is escaped: {}", page.body);
    assert!(unescape(&page.body).contains(name), "app name is shown: {}", page.body);
    assert_eq!(page.hidden("state").as_deref(), Some(state), "state carried intact");

    let cookie = page.cookie_header().expect("CSRF cookie");
    let fields = consent_fields(&page, &f.member.email, PASSWORD, "approve");
    let answer = submit(&app, &http, &page, &fields, Some(&cookie)).await;
    code_from_redirect(&answer, &oauth_app.redirect_uri, state);
    app.stop().await;
}

async fn consent_deny_redirects_with_access_denied(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let http = browser();
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let params = code_params(&oauth_app, "members:read", "deny-state", challenge.as_str());
    let page = fetch(&http, &authorize_url(&app, &params)).await;
    assert_consent_page(&app, &page);
    let cookie = page.cookie_header().expect("CSRF cookie");
    let fields = consent_fields(&page, &f.member.email, PASSWORD, "deny");
    let answer = submit(&app, &http, &page, &fields, Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let location = answer.location().expect("Location");
    assert_redirects_to(&location, &oauth_app.redirect_uri);
    assert_eq!(query(&location, "error").as_deref(), Some("access_denied"), "{location}");
    assert_eq!(query(&location, "state").as_deref(), Some("deny-state"), "{location}");
    assert!(query(&location, "code").is_none(), "no code on deny: {location}");
    app.stop().await;
}

/// The form comes back with the reason, and the re-shown form works.
async fn consent_wrong_credentials_show_the_form_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let http = browser();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let params = code_params(&oauth_app, "members:read", "pw-state", challenge.as_str());
    let page = fetch(&http, &authorize_url(&app, &params)).await;
    assert_consent_page(&app, &page);
    let cookie = page.cookie_header().expect("CSRF cookie");

    let fields = consent_fields(&page, &f.member.email, "wrong password", "approve");
    let again = submit(&app, &http, &page, &fields, Some(&cookie)).await;
    assert_html_page(&again, StatusCode::UNAUTHORIZED);
    assert!(again.body.contains(BAD_LOGIN), "gives the reason: {}", again.body);
    assert!(!again.body.contains("rst_ac_"), "no code: {}", again.body);

    let fields = consent_fields(&page, "nobody@example.com", PASSWORD, "approve");
    let unknown = submit(&app, &http, &page, &fields, Some(&cookie)).await;
    assert_html_page(&unknown, StatusCode::UNAUTHORIZED);
    assert!(unknown.body.contains(BAD_LOGIN), "same reason: {}", unknown.body);

    // The form shown again is a working form.
    let cookie = again.cookie_header().unwrap_or(cookie);
    let fields = consent_fields(&again, &f.member.email, PASSWORD, "approve");
    let answer = submit(&app, &http, &again, &fields, Some(&cookie)).await;
    let code = code_from_redirect(&answer, &oauth_app.redirect_uri, "pw-state");
    exchange(&app, &oauth_app, &code, verifier.secret()).await;
    app.stop().await;
}

async fn consent_refuses_non_members(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let http = browser();
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let params = code_params(&oauth_app, "members:read", "out-state", challenge.as_str());
    let page = fetch(&http, &authorize_url(&app, &params)).await;
    assert_consent_page(&app, &page);
    let cookie = page.cookie_header().expect("CSRF cookie");
    let fields = consent_fields(&page, &f.outsider.email, PASSWORD, "approve");
    let answer = submit(&app, &http, &page, &fields, Some(&cookie)).await;
    assert_html_page(&answer, StatusCode::FORBIDDEN);
    assert!(!answer.body.contains("rst_ac_"), "no code: {}", answer.body);
    app.stop().await;
}

/// Failed consents count like failed sign-ins: past the limit, 429 with the form.
async fn consent_rate_limited_like_sign_in(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.login_max_failures = 3).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let http = browser();
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let params = code_params(&oauth_app, "members:read", "rl-state", challenge.as_str());
    let mut page = fetch(&http, &authorize_url(&app, &params)).await;
    assert_consent_page(&app, &page);
    let mut cookie = page.cookie_header().expect("CSRF cookie");
    for _ in 0..3 {
        let fields = consent_fields(&page, &f.member.email, "wrong password", "approve");
        let again = submit(&app, &http, &page, &fields, Some(&cookie)).await;
        assert_html_page(&again, StatusCode::UNAUTHORIZED);
        cookie = again.cookie_header().unwrap_or(cookie);
        page = again;
    }
    let fields = consent_fields(&page, &f.member.email, PASSWORD, "approve");
    let limited = submit(&app, &http, &page, &fields, Some(&cookie)).await;
    assert_html_page(&limited, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key(RETRY_AFTER), "429 carries Retry-After");
    assert!(!limited.body.contains("rst_ac_"), "no code: {}", limited.body);
    app.stop().await;
}

/// Without the cookie, or with a token that does not match it, nothing happens; the intact
/// form still works afterwards.
async fn consent_requires_matching_csrf_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let http = browser();
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let params = code_params(&oauth_app, "members:read", "csrf-state", challenge.as_str());
    let url = authorize_url(&app, &params);
    let page = fetch(&http, &url).await;
    assert_consent_page(&app, &page);
    let other_page = fetch(&http, &url).await;
    assert_consent_page(&app, &other_page);
    let cookie = page.cookie_header().expect("CSRF cookie");
    let other_cookie = other_page.cookie_header().expect("CSRF cookie");
    assert_ne!(cookie, other_cookie, "each page load gets its own CSRF cookie");
    let fields = consent_fields(&page, &f.member.email, PASSWORD, "approve");

    let refused = |answer: &Page, what: &str| {
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{what}: {}", answer.body);
        assert!(answer.location().is_none(), "{what}: no redirect");
        assert!(!answer.body.contains("rst_ac_"), "{what}: no code");
    };
    refused(&submit(&app, &http, &page, &fields, None).await, "no cookie");

    let csrf = page.csrf_field();
    let tampered: Vec<(String, String)> = fields
        .iter()
        .map(
            |(k, v)| if *k == csrf { (k.clone(), format!("{v}x")) } else { (k.clone(), v.clone()) },
        )
        .collect();
    refused(&submit(&app, &http, &page, &tampered, Some(&cookie)).await, "altered field");
    let blank: Vec<(String, String)> = fields.iter().filter(|(k, _)| *k != csrf).cloned().collect();
    refused(&submit(&app, &http, &page, &blank, Some(&cookie)).await, "no field");
    refused(&submit(&app, &http, &page, &fields, Some(&other_cookie)).await, "other cookie");

    let answer = submit(&app, &http, &page, &fields, Some(&cookie)).await;
    code_from_redirect(&answer, &oauth_app.redirect_uri, "csrf-state");
    app.stop().await;
}

/// Two consent pages open in one browser: the second keeps the browser's CSRF cookie, and
/// each form works with its own token, for its own request only.
async fn a_second_tab_leaves_the_first_form_valid(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let http = browser();
    let page_for = |state: &str| {
        let (challenge, _) = PkceCodeChallenge::new_random_sha256();
        authorize_url(&app, &code_params(&oauth_app, "members:read", state, challenge.as_str()))
    };
    let first = fetch(&http, &page_for("tab-1")).await;
    assert_consent_page(&app, &first);
    let mut cookie = first.cookie_header().expect("CSRF cookie");
    let second = Page::read(
        http.get(page_for("tab-2")).header(COOKIE, &cookie).send().await.expect("second tab"),
    )
    .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    // Whatever the second page sets is what the browser sends from now on.
    if let Some(set) = second.cookie_header() {
        cookie = set;
    }

    let first_form = consent_fields(&first, &f.member.email, PASSWORD, "approve");
    let second_form = consent_fields(&second, &f.member.email, PASSWORD, "approve");
    // A token made for one request does not pass with another.
    let csrf = first.csrf_field();
    let swapped: Vec<(String, String)> = first_form
        .iter()
        .map(|(k, v)| {
            let from_second = second_form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            if *k == csrf {
                (k.clone(), v.clone())
            } else {
                (k.clone(), from_second.unwrap_or(v.clone()))
            }
        })
        .collect();
    let answer = submit(&app, &http, &first, &swapped, Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);

    let answer = submit(&app, &http, &first, &first_form, Some(&cookie)).await;
    code_from_redirect(&answer, &oauth_app.redirect_uri, "tab-1");
    let answer = submit(&app, &http, &second, &second_form, Some(&cookie)).await;
    code_from_redirect(&answer, &oauth_app.redirect_uri, "tab-2");
    app.stop().await;
}

on_both_backends!(
    a_second_tab_leaves_the_first_form_valid,
    code_flow_through_consent_page_with_oauth2_client,
    consent_page_escapes_untrusted_text,
    consent_deny_redirects_with_access_denied,
    consent_wrong_credentials_show_the_form_again,
    consent_refuses_non_members,
    consent_rate_limited_like_sign_in,
    consent_requires_matching_csrf_token
);
