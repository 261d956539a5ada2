//! Roster as an OAuth 2.0 authorization server (docs/oauth.md; RFC 6749, 7636, 7009, 7662,
//! 8414, 6750), over real HTTP on both backends: the authorization-code flow with PKCE through
//! the HTML consent page and through the JSON shortcut, the token endpoint's grants and errors,
//! revocation, introspection, revoking an app, and the server metadata. The happy paths are
//! driven by the `oauth2` crate, a client nobody on this project wrote.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::oauth::{
    ALL_SCOPES, TestOAuthApp, assert_insufficient_scope, assert_works, authorize_url, browser,
    creds, header, members_path, query,
};
use common::{AUTH_REQUIRED, Backend, TestApp, TestUser, assert_error};
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenType};
use oauth2::url::Url;
use oauth2::{
    AccessToken, AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, EndpointNotSet, EndpointSet, IntrospectionUrl, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RefreshToken, RequestTokenError, RevocationUrl, Scope, StandardRevocableToken,
    TokenIntrospectionResponse, TokenResponse, TokenUrl,
};
use reqwest::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, HOST, HeaderMap, LOCATION,
    RETRY_AFTER, SET_COOKIE, WWW_AUTHENTICATE, X_FRAME_OPTIONS,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";
const BAD_LOGIN: &str = "Invalid email or password";
const CONSENT_PATH: &str = "/api/oauth/authorize/consent";

// ---------------------------------------------------------------------------------------------
// Helpers: clients
// ---------------------------------------------------------------------------------------------

/// An `oauth2` client with every endpoint this server offers.
type OAuthClient = BasicClient<EndpointSet, EndpointNotSet, EndpointSet, EndpointSet, EndpointSet>;

fn oauth_client(app: &TestApp, oauth_app: &TestOAuthApp) -> OAuthClient {
    BasicClient::new(ClientId::new(oauth_app.client_id.clone()))
        .set_client_secret(ClientSecret::new(oauth_app.client_secret.clone()))
        .set_auth_uri(AuthUrl::new(format!("{}/api/oauth/authorize", app.base)).expect("auth URL"))
        .set_token_uri(TokenUrl::new(format!("{}/api/oauth/token", app.base)).expect("token URL"))
        .set_revocation_url(
            RevocationUrl::new(format!("{}/api/oauth/revoke", app.base)).expect("revocation URL"),
        )
        .set_introspection_url(
            IntrospectionUrl::new(format!("{}/api/oauth/introspect", app.base))
                .expect("introspection URL"),
        )
        .set_redirect_uri(RedirectUrl::new(oauth_app.redirect_uri.clone()).expect("redirect URL"))
}

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

/// Revokes `token` through oauth2's RFC 7009 support. oauth2 refuses a revocation URL that is
/// not https (RFC 7009 §2); the test server speaks plain HTTP on loopback, so the client is
/// given the https URL and this transport carries the request there over http.
async fn oauth2_revoke(
    app: &TestApp,
    oauth_app: &TestOAuthApp,
    auth: AuthType,
    token: StandardRevocableToken,
) {
    let https = format!("{}/api/oauth/revoke", app.base).replacen("http://", "https://", 1);
    let client = oauth_client(app, oauth_app)
        .set_auth_type(auth)
        .set_revocation_url(RevocationUrl::new(https).expect("revocation URL"));
    let http = browser();
    let transport = |request: oauth2::HttpRequest| {
        let http = http.clone();
        async move {
            let (mut parts, body) = request.into_parts();
            let uri = parts.uri.to_string().replacen("https://", "http://", 1);
            parts.uri = uri.parse().expect("plain-HTTP URI");
            http.call(oauth2::http::Request::from_parts(parts, body)).await
        }
    };
    client
        .revoke_token(token)
        .expect("https revocation URL")
        .request_async(&transport)
        .await
        .expect("revocation through oauth2");
}

fn set_of<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    items.into_iter().map(str::to_owned).collect()
}

fn scope_set(scope: &str) -> BTreeSet<String> {
    set_of(scope.split_whitespace())
}

fn oauth2_scopes(scopes: Option<&Vec<Scope>>) -> BTreeSet<String> {
    scopes.expect("scope in the answer").iter().map(|s| s.as_str().to_owned()).collect()
}

fn now_secs() -> i64 {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs();
    i64::try_from(secs).expect("seconds fit i64")
}

// ---------------------------------------------------------------------------------------------
// Helpers: HTML pages
// ---------------------------------------------------------------------------------------------

/// An answer of the browser-facing endpoints, body as text.
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    async fn read(res: reqwest::Response) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.expect("body");
        Self { status, headers, body }
    }

    fn location(&self) -> Option<Url> {
        header(&self.headers, LOCATION)
            .map(|l| Url::parse(&l).unwrap_or_else(|e| panic!("Location {l} is absolute: {e}")))
    }

    /// Every cookie the page set, as a `Cookie` request header value.
    fn cookie_header(&self) -> Option<String> {
        let pairs: Vec<String> = self
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| {
                let v = v.to_str().expect("ASCII Set-Cookie");
                v.split(';').next().expect("name=value").trim().to_owned()
            })
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    fn hidden_inputs(&self) -> Vec<(String, String)> {
        tags(&self.body, "input")
            .into_iter()
            .filter(|attrs| attr(attrs, "type").is_some_and(|t| t.eq_ignore_ascii_case("hidden")))
            .map(|attrs| {
                let name = attr(&attrs, "name").expect("hidden input has a name").to_owned();
                let value = attr(&attrs, "value").unwrap_or_default().to_owned();
                (name, value)
            })
            .collect()
    }

    fn hidden(&self, name: &str) -> Option<String> {
        self.hidden_inputs().into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The consent form's target, resolved against the server.
    fn form_action(&self, app: &TestApp) -> Url {
        let forms = tags(&self.body, "form");
        let form = forms.first().unwrap_or_else(|| panic!("page has a form: {}", self.body));
        let method = attr(form, "method").unwrap_or("get");
        assert!(method.eq_ignore_ascii_case("post"), "form method is POST, got {method}");
        let action = attr(form, "action").expect("form has an action");
        Url::parse(&app.base).expect("base URL").join(action).expect("action resolves")
    }

    /// The name of the hidden field carrying the CSRF token: one named like it, else the one
    /// whose value is the cookie's.
    fn csrf_field(&self) -> String {
        let hidden = self.hidden_inputs();
        if let Some((name, _)) =
            hidden.iter().find(|(n, _)| n.to_ascii_lowercase().contains("csrf"))
        {
            return name.clone();
        }
        let cookie = self.cookie_header().unwrap_or_default();
        let values: Vec<&str> =
            cookie.split("; ").filter_map(|p| p.split_once('=')).map(|(_, v)| v).collect();
        hidden
            .iter()
            .find(|(_, v)| values.contains(&v.as_str()))
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| panic!("no CSRF field among {hidden:?} (cookie {cookie})"))
    }
}

/// Every start tag `<name …>` of `html`, as its attributes (names lowercased, values unescaped).
fn tags(html: &str, name: &str) -> Vec<Vec<(String, String)>> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{name}");
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&open) {
        let start = from + i + open.len();
        let boundary = lower.as_bytes().get(start).copied();
        if !matches!(boundary, Some(b) if b.is_ascii_whitespace() || b == b'>' || b == b'/') {
            from = start;
            continue;
        }
        let (attrs, end) = parse_attributes(html, start);
        found.push(attrs);
        from = end.min(html.len());
    }
    found
}

/// The attributes of a tag starting at byte `i` (just after its name), and where it ends.
fn parse_attributes(html: &str, mut i: usize) -> (Vec<(String, String)>, usize) {
    let b = html.as_bytes();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return (attrs, b.len());
        }
        if b[i] == b'>' {
            return (attrs, i + 1);
        }
        let name_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let quote = b[i];
                i += 1;
                let start = i;
                while i < b.len() && b[i] != quote {
                    i += 1;
                }
                value = unescape(&html[start..i]);
                i = (i + 1).min(b.len());
            } else {
                let start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = unescape(&html[start..i]);
            }
        }
        attrs.push((name, value));
    }
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Decodes HTML character references (`&amp;`, `&quot;`, `&#39;`, `&#x27;`, …).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').filter(|&end| end <= 12).and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "apos" => Some('\''),
                _ => {
                    if let Some(hex) =
                        entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X"))
                    {
                        u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                    } else if let Some(dec) = entity.strip_prefix('#') {
                        dec.parse().ok().and_then(char::from_u32)
                    } else {
                        None
                    }
                }
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// No scripts and nothing loaded from elsewhere.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "page has a script: {html}");
    for attrs in ["img", "link", "iframe", "frame", "object", "embed", "source", "audio", "video"]
        .iter()
        .flat_map(|t| tags(html, t))
        .chain(tags(html, "input"))
    {
        for key in ["src", "srcset", "href", "data"] {
            if let Some(v) = attr(&attrs, key) {
                let v = v.trim().to_ascii_lowercase();
                assert!(
                    !(v.starts_with("http:") || v.starts_with("https:") || v.starts_with("//")),
                    "external asset {key}={v} in {html}"
                );
            }
        }
    }
    for bad in ["url(http", "url('http", "url(\"http", "url(//", "@import", "javascript:"] {
        assert!(!lower.contains(bad), "external or active content `{bad}` in {html}");
    }
}

/// An HTML page, never a redirect.
fn assert_html_page(page: &Page, status: StatusCode) {
    assert_eq!(page.status, status, "{}", page.body);
    assert!(page.location().is_none(), "no redirect expected: {:?}", page.location());
    let content_type = header(&page.headers, CONTENT_TYPE).unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "Content-Type {content_type}");
    assert_self_contained(&page.body);
}

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

async fn fetch(http: &reqwest::Client, url: &str) -> Page {
    let res = http.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    Page::read(res).await
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

/// The usual authorization request parameters for `oauth_app`.
fn code_params<'a>(
    oauth_app: &'a TestOAuthApp,
    scope: &'a str,
    state: &'a str,
    challenge: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", oauth_app.client_id.as_str()),
        ("redirect_uri", oauth_app.redirect_uri.as_str()),
        ("scope", scope),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

/// `url` is `redirect_uri` plus a query.
fn assert_redirects_to(url: &Url, redirect_uri: &str) {
    let mut bare = url.clone();
    bare.set_query(None);
    assert_eq!(bare.as_str(), redirect_uri, "redirect target of {url}");
    assert!(url.fragment().is_none(), "no fragment: {url}");
}

/// A redirect back to the app carrying `error` (with a description) and `state`, and no code.
fn assert_error_redirect(page: &Page, redirect_uri: &str, error: &str, state: &str) {
    assert!(
        page.status == StatusCode::FOUND || page.status == StatusCode::SEE_OTHER,
        "expected a redirect carrying {error}, got {}: {}",
        page.status,
        page.body
    );
    let location = page.location().expect("Location");
    assert_redirects_to(&location, redirect_uri);
    assert_eq!(query(&location, "error").as_deref(), Some(error), "{location}");
    assert!(query(&location, "error_description").is_some(), "error_description in {location}");
    assert_eq!(query(&location, "state").as_deref(), Some(state), "{location}");
    assert!(query(&location, "code").is_none(), "no code with an error: {location}");
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

// ---------------------------------------------------------------------------------------------
// Helpers: JSON authorization, tokens, the API
// ---------------------------------------------------------------------------------------------

fn authorize_body(
    oauth_app: &TestOAuthApp,
    scope: Option<&str>,
    state: &str,
    challenge: &str,
) -> Value {
    let mut body = json!({
        "response_type": "code",
        "client_id": oauth_app.client_id,
        "redirect_uri": oauth_app.redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    });
    if let Some(scope) = scope {
        body["scope"] = json!(scope);
    }
    body
}

/// A fresh code for `user` through `POST /api/oauth/authorize`, and its PKCE verifier.
async fn mint_code(
    app: &TestApp,
    oauth_app: &TestOAuthApp,
    user: &TestUser,
    scope: Option<&str>,
) -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (status, body) = app
        .post(
            "/api/oauth/authorize",
            Some(&user.token),
            authorize_body(oauth_app, scope, "xyz-state", challenge.as_str()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "authorize: {body}");
    let to = Url::parse(body["redirect_to"].as_str().expect("redirect_to")).expect("absolute");
    assert_redirects_to(&to, &oauth_app.redirect_uri);
    assert_eq!(query(&to, "state").as_deref(), Some("xyz-state"));
    let code = query(&to, "code").expect("code");
    assert!(code.starts_with("rst_ac_"), "code {code}");
    (code, verifier.secret().clone())
}

/// An `authorization_code` exchange that must succeed; returns the token response.
async fn exchange(app: &TestApp, oauth_app: &TestOAuthApp, code: &str, verifier: &str) -> Value {
    let (status, headers, body) = app.exchange_code(oauth_app, code, verifier).await;
    assert_token_response(status, &headers, &body);
    body
}

/// A successful token response (RFC 6749 §5.1).
fn assert_token_response(status: StatusCode, headers: &HeaderMap, body: &Value) {
    assert_eq!(status, StatusCode::OK, "{body}");
    let cache = header(headers, CACHE_CONTROL).unwrap_or_default();
    assert!(cache.contains("no-store"), "Cache-Control {cache}");
    let content_type = header(headers, CONTENT_TYPE).unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "Content-Type {content_type}");
    assert_eq!(body["token_type"], json!("Bearer"), "{body}");
    assert_eq!(body["expires_in"], json!(3600), "{body}");
    let access = body["access_token"].as_str().expect("access_token");
    assert!(access.starts_with("rst_oat_"), "access token {access}");
    assert!(body["scope"].is_string(), "{body}");
}

struct Grant {
    access: String,
    refresh: String,
    scope: String,
}

fn grant_of(body: &Value) -> Grant {
    let refresh = body["refresh_token"].as_str().expect("refresh_token").to_owned();
    assert!(refresh.starts_with("rst_ort_"), "refresh token {refresh}");
    Grant {
        access: body["access_token"].as_str().expect("access_token").to_owned(),
        refresh,
        scope: body["scope"].as_str().expect("scope").to_owned(),
    }
}

/// Tokens for `user` by the code flow (JSON shortcut, then the token endpoint).
async fn code_grant(
    app: &TestApp,
    oauth_app: &TestOAuthApp,
    user: &TestUser,
    scope: Option<&str>,
) -> Grant {
    let (code, verifier) = mint_code(app, oauth_app, user, scope).await;
    grant_of(&exchange(app, oauth_app, &code, &verifier).await)
}

/// A `refresh_token` grant request.
async fn refresh(
    app: &TestApp,
    oauth_app: &TestOAuthApp,
    refresh_token: &str,
    scope: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    app.oauth_form("/api/oauth/token", creds(oauth_app), &form).await
}

/// An RFC 6749 §5.2 error: status, exact code, a string description, nothing unexpected.
fn assert_oauth_error(
    status: StatusCode,
    headers: &HeaderMap,
    body: &Value,
    expected: StatusCode,
    code: &str,
) {
    assert_eq!(status, expected, "expected {code}: {body}");
    assert_eq!(body["error"], json!(code), "{body}");
    assert!(body["error_description"].is_string(), "error_description is a string: {body}");
    let object = body.as_object().expect("error body is an object");
    assert!(
        object.keys().all(|k| ["error", "error_description", "error_uri"].contains(&k.as_str())),
        "RFC 6749 error shape: {body}"
    );
    let content_type = header(headers, CONTENT_TYPE).unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "Content-Type {content_type}");
    if code == "invalid_client" && expected == StatusCode::UNAUTHORIZED {
        let challenge = header(headers, WWW_AUTHENTICATE).expect("WWW-Authenticate on 401");
        assert!(
            challenge.starts_with("Basic") && challenge.contains("realm=\"roster\""),
            "WWW-Authenticate {challenge}"
        );
    }
}

/// Posts a form to the token endpoint that must fail with `code`.
async fn token_error(
    app: &TestApp,
    client: Option<(&str, &str)>,
    form: &[(&str, &str)],
    expected: StatusCode,
    code: &str,
) {
    let (status, headers, body) = app.oauth_form("/api/oauth/token", client, form).await;
    assert_oauth_error(status, &headers, &body, expected, code);
}

/// An RFC 6749 error body with one of several acceptable codes (where the contract leaves
/// the choice open); returns the code.
fn assert_oauth_error_among(status: StatusCode, body: &Value, codes: &[&str]) -> String {
    assert!(status.is_client_error(), "expected one of {codes:?}, got {status}: {body}");
    let code = body["error"].as_str().unwrap_or_else(|| panic!("OAuth error body: {body}"));
    assert!(codes.contains(&code), "expected one of {codes:?}: {body}");
    assert!(body["error_description"].is_string(), "error_description is a string: {body}");
    code.to_owned()
}

async fn introspect(app: &TestApp, oauth_app: &TestOAuthApp, token: &str) -> Value {
    let (status, headers, body) =
        app.oauth_form("/api/oauth/introspect", creds(oauth_app), &[("token", token)]).await;
    assert_eq!(status, StatusCode::OK, "introspect: {body}");
    let content_type = header(&headers, CONTENT_TYPE).unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "Content-Type {content_type}");
    body
}

async fn assert_inactive(app: &TestApp, oauth_app: &TestOAuthApp, token: &str) {
    assert_eq!(introspect(app, oauth_app, token).await, json!({"active": false}));
}

/// Revokes `token` as `oauth_app`; it must answer 200 with an empty body.
async fn revoke(app: &TestApp, oauth_app: &TestOAuthApp, token: &str, hint: Option<&str>) {
    let mut form = vec![("token", token)];
    if let Some(hint) = hint {
        form.push(("token_type_hint", hint));
    }
    let (status, _, body) = app.oauth_form("/api/oauth/revoke", creds(oauth_app), &form).await;
    assert_eq!(status, StatusCode::OK, "revoke: {body}");
    assert_eq!(body, Value::Null, "revocation answers an empty body");
}

async fn assert_dead(app: &TestApp, org: &str, token: &str) {
    let (status, body) = app.get(&members_path(org), Some(token)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
}

/// A route the token lacks `scope` for: 403 with the RFC 6750 challenge.
async fn assert_lacks_scope(app: &TestApp, path: &str, token: &str, scope: &str) {
    let (status, headers, body) = app.send(Method::GET, path, Some(token), None).await;
    assert_insufficient_scope(&format!("GET {path}"), status, &headers, &body, scope);
}

// ---------------------------------------------------------------------------------------------
// 1. The full flow through the consent page, driven by oauth2
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// 2. The consent page's faults
// ---------------------------------------------------------------------------------------------

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

/// RFC 6749 §4.1.2.1: a client or redirect URI that cannot be trusted gets a page, never a
/// redirect.
async fn authorize_bad_client_or_redirect_uri_gets_error_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let two = app
        .create_oauth_app_with(
            &f.org,
            &f.owner,
            "Two URIs",
            &["http://127.0.0.1:9/callback", "http://127.0.0.1:9/other"],
            &["members:read"],
        )
        .await;
    let http = browser();
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let challenge = challenge.as_str();

    let unknown = TestOAuthApp { client_id: "rst_ci_unknown".to_owned(), ..oauth_app.clone() };
    let page =
        fetch(&http, &authorize_url(&app, &code_params(&unknown, "members:read", "s", challenge)))
            .await;
    assert_html_page(&page, StatusCode::BAD_REQUEST);

    let mut params = code_params(&oauth_app, "members:read", "s", challenge);
    params.retain(|(k, _)| *k != "client_id");
    assert_html_page(&fetch(&http, &authorize_url(&app, &params)).await, StatusCode::BAD_REQUEST);

    for wrong in [
        "http://127.0.0.1:9/other",
        "http://127.0.0.1:9/callback/",
        "http://127.0.0.1:9/callback?x=1",
        "http://localhost:9/callback",
        "https://evil.example/callback",
    ] {
        let moved = TestOAuthApp { redirect_uri: wrong.to_owned(), ..oauth_app.clone() };
        let page = fetch(
            &http,
            &authorize_url(&app, &code_params(&moved, "members:read", "s", challenge)),
        )
        .await;
        assert_html_page(&page, StatusCode::BAD_REQUEST);
    }

    // With two registered URIs, none can be assumed.
    let mut params = code_params(&two, "members:read", "s", challenge);
    params.retain(|(k, _)| *k != "redirect_uri");
    assert_html_page(&fetch(&http, &authorize_url(&app, &params)).await, StatusCode::BAD_REQUEST);
    app.stop().await;
}

/// Every other fault goes back to the app with `error`, `error_description` and `state`.
async fn authorize_faults_redirect_back_with_state(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;
    let http = browser();
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let challenge = challenge.as_str();
    let redirect = oauth_app.redirect_uri.as_str();

    let with = |key: &'static str, value: Option<&'static str>, state: &'static str| {
        let mut params = code_params(&oauth_app, "members:read", state, challenge);
        params.retain(|(k, _)| *k != key);
        if let Some(value) = value {
            params.push((key, value));
        }
        authorize_url(&app, &params)
    };

    let cases = [
        (with("response_type", Some("token"), "s1"), "unsupported_response_type", "s1"),
        (with("response_type", None, "s2"), "invalid_request", "s2"),
        (with("code_challenge", None, "s3"), "invalid_request", "s3"),
        (with("code_challenge_method", Some("plain"), "s4"), "invalid_request", "s4"),
        (with("code_challenge_method", None, "s5"), "invalid_request", "s5"),
        (with("scope", Some("members:read members:write"), "s6"), "invalid_scope", "s6"),
        (with("scope", Some("webhooks:read"), "s7"), "invalid_scope", "s7"),
        (with("scope", Some("nonsense"), "s8"), "invalid_scope", "s8"),
    ];
    for (url, error, state) in cases {
        let page = fetch(&http, &url).await;
        assert_error_redirect(&page, redirect, error, state);
    }

    // Without PKCE there is no code, even with both parameters gone.
    let mut params = code_params(&oauth_app, "members:read", "s9", challenge);
    params.retain(|(k, _)| !k.starts_with("code_challenge"));
    let page = fetch(&http, &authorize_url(&app, &params)).await;
    assert_error_redirect(&page, redirect, "invalid_request", "s9");
    app.stop().await;
}

/// `redirect_uri` is required even when the app has only one (no redirect without it);
/// `scope` left out means all of the app's scopes.
async fn authorize_requires_redirect_uri_and_defaults_to_all_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read", "invites:read"]).await;
    let http = browser();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", oauth_app.client_id.as_str()),
        ("state", "defaults"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = fetch(&http, &authorize_url(&app, &params)).await;
    assert_html_page(&page, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("redirect_uri is required"), "{}", page.body);

    params.push(("redirect_uri", oauth_app.redirect_uri.as_str()));
    let page = fetch(&http, &authorize_url(&app, &params)).await;
    assert_consent_page(&app, &page);
    assert!(page.body.contains("members:read") && page.body.contains("invites:read"));
    let cookie = page.cookie_header().expect("CSRF cookie");
    let fields = consent_fields(&page, &f.admin.email, PASSWORD, "approve");
    let answer = submit(&app, &http, &page, &fields, Some(&cookie)).await;
    let code = code_from_redirect(&answer, &oauth_app.redirect_uri, "defaults");

    // The token endpoint needs the same redirect_uri; a request without it spends nothing.
    let without = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", verifier.secret().as_str()),
    ];
    token_error(&app, creds(&oauth_app), &without, StatusCode::BAD_REQUEST, "invalid_request")
        .await;
    let grant = grant_of(&exchange(&app, &oauth_app, &code, verifier.secret()).await);
    assert_eq!(scope_set(&grant.scope), set_of(["members:read", "invites:read"]));
    let (status, body) =
        app.get(&format!("/api/organizations/{}/invites", f.org), Some(&grant.access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}

/// The JSON shortcut has the same rules: `redirect_uri` required, all the app's scopes by
/// default.
async fn json_authorize_requires_redirect_uri_and_defaults_scopes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read", "invites:read"]).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = json!({
        "response_type": "code",
        "client_id": oauth_app.client_id,
        "state": "defaults",
        "code_challenge": challenge.as_str(),
        "code_challenge_method": "S256",
    });
    let (status, body) =
        app.post("/api/oauth/authorize", Some(&f.admin.token), request.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], json!("invalid_request"), "{body}");

    request["redirect_uri"] = json!(oauth_app.redirect_uri);
    let (status, body) = app.post("/api/oauth/authorize", Some(&f.admin.token), request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let to = Url::parse(body["redirect_to"].as_str().expect("redirect_to")).expect("absolute");
    assert_redirects_to(&to, &oauth_app.redirect_uri);
    assert_eq!(query(&to, "state").as_deref(), Some("defaults"));
    let code = query(&to, "code").expect("code");
    let body = exchange(&app, &oauth_app, &code, verifier.secret()).await;
    assert_eq!(
        scope_set(body["scope"].as_str().expect("scope")),
        set_of(["members:read", "invites:read"])
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 3. POST /api/oauth/authorize for front ends holding the user's token
// ---------------------------------------------------------------------------------------------

async fn json_authorize_issues_code_for_bearer_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (status, body) = app
        .post(
            "/api/oauth/authorize",
            Some(&f.member.token),
            authorize_body(&oauth_app, Some("members:read"), "json-state", challenge.as_str()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_object().expect("object").len(), 1, "only redirect_to: {body}");
    let to = Url::parse(body["redirect_to"].as_str().expect("redirect_to")).expect("absolute");
    assert_redirects_to(&to, &oauth_app.redirect_uri);
    assert_eq!(query(&to, "state").as_deref(), Some("json-state"));
    let code = query(&to, "code").expect("code");
    let grant = grant_of(&exchange(&app, &oauth_app, &code, verifier.secret()).await);
    assert_eq!(scope_set(&grant.scope), set_of(["members:read"]));
    let info = introspect(&app, &oauth_app, &grant.access).await;
    assert_eq!(info["sub"], json!(f.member.id), "{info}");

    // A personal access token works as the user's token too.
    let (status, pat) =
        app.post("/api/users/me/tokens", Some(&f.admin.token), json!({"name": "front end"})).await;
    assert_eq!(status, StatusCode::CREATED, "{pat}");
    let pat = pat["token"].as_str().expect("PAT");
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (status, body) = app
        .post(
            "/api/oauth/authorize",
            Some(pat),
            authorize_body(&oauth_app, None, "pat-state", challenge.as_str()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let to = Url::parse(body["redirect_to"].as_str().expect("redirect_to")).expect("absolute");
    let code = query(&to, "code").expect("code");
    let grant = grant_of(&exchange(&app, &oauth_app, &code, verifier.secret()).await);
    assert_eq!(scope_set(&grant.scope), set_of(["members:read", "organization:read"]));
    let info = introspect(&app, &oauth_app, &grant.access).await;
    assert_eq!(info["sub"], json!(f.admin.id), "{info}");
    app.stop().await;
}

async fn json_authorize_refusals(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let good = authorize_body(&oauth_app, Some("members:read"), "st", challenge.as_str());
    let post = |token: Option<String>, body: Value| {
        let app = &app;
        async move {
            let mut req = app.client.post(format!("{}/api/oauth/authorize", app.base)).json(&body);
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            let res = req.send().await.expect("answered");
            let status = res.status();
            let headers = res.headers().clone();
            let body: Value = res.json().await.expect("JSON body");
            (status, headers, body)
        }
    };

    let (status, headers, body) = post(None, good.clone()).await;
    assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_token");
    let (status, headers, body) = post(Some("rst_at_garbage".to_owned()), good.clone()).await;
    assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_token");

    let (status, headers, body) = post(Some(f.outsider.token.clone()), good.clone()).await;
    assert_oauth_error(status, &headers, &body, StatusCode::FORBIDDEN, "access_denied");

    let member = Some(f.member.token.clone());
    let mut bad_client = good.clone();
    bad_client["client_id"] = json!("rst_ci_unknown");
    let (status, headers, body) = post(member.clone(), bad_client).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_client");

    let mut bad_redirect = good.clone();
    bad_redirect["redirect_uri"] = json!("http://127.0.0.1:9/elsewhere");
    let (status, headers, body) = post(member.clone(), bad_redirect).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_request");

    let mut bad_scope = good.clone();
    bad_scope["scope"] = json!("members:read members:write");
    let (status, headers, body) = post(member.clone(), bad_scope).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_scope");

    let mut token_type = good.clone();
    token_type["response_type"] = json!("token");
    let (status, headers, body) = post(member.clone(), token_type).await;
    assert_oauth_error(
        status,
        &headers,
        &body,
        StatusCode::BAD_REQUEST,
        "unsupported_response_type",
    );

    let mut no_pkce = good.clone();
    no_pkce.as_object_mut().expect("object").remove("code_challenge");
    let (status, headers, body) = post(member.clone(), no_pkce).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_request");

    let mut plain = good.clone();
    plain["code_challenge_method"] = json!("plain");
    let (status, headers, body) = post(member.clone(), plain).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_request");

    // OAuth tokens cannot authorize further apps.
    let app_token = app.client_credentials_token(&oauth_app, None).await;
    let user_grant = code_grant(&app, &oauth_app, &f.member, None).await;
    for token in [app_token, user_grant.access] {
        let (status, _, body) = post(Some(token), good.clone()).await;
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
            "an OAuth token is refused: {status} {body}"
        );
        assert!(body["error"].is_string() && body["error_description"].is_string(), "{body}");
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 4. The token endpoint
// ---------------------------------------------------------------------------------------------

async fn token_client_authentication_failures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let other = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let cc = [("grant_type", "client_credentials")];
    let unauthorized = StatusCode::UNAUTHORIZED;

    token_error(&app, None, &cc, unauthorized, "invalid_client").await;
    token_error(
        &app,
        Some((&oauth_app.client_id, "rst_cs_wrong")),
        &cc,
        unauthorized,
        "invalid_client",
    )
    .await;
    token_error(
        &app,
        Some((&oauth_app.client_id, &other.client_secret)),
        &cc,
        unauthorized,
        "invalid_client",
    )
    .await;
    token_error(
        &app,
        Some(("rst_ci_unknown", &oauth_app.client_secret)),
        &cc,
        unauthorized,
        "invalid_client",
    )
    .await;
    // client_secret_post with a wrong secret, and a client_id alone: no authentication.
    token_error(
        &app,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &oauth_app.client_id),
            ("client_secret", "rst_cs_wrong"),
        ],
        unauthorized,
        "invalid_client",
    )
    .await;
    token_error(
        &app,
        None,
        &[("grant_type", "client_credentials"), ("client_id", &oauth_app.client_id)],
        unauthorized,
        "invalid_client",
    )
    .await;
    // Both methods at once.
    token_error(
        &app,
        creds(&oauth_app),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &oauth_app.client_id),
            ("client_secret", &oauth_app.client_secret),
        ],
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    app.stop().await;
}

async fn token_malformed_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;
    let client = creds(&oauth_app);
    let bad = StatusCode::BAD_REQUEST;

    token_error(&app, client, &[("scope", "members:read")], bad, "invalid_request").await;
    token_error(
        &app,
        client,
        &[("grant_type", "password"), ("username", &f.member.email), ("password", PASSWORD)],
        bad,
        "unsupported_grant_type",
    )
    .await;
    token_error(&app, client, &[("grant_type", "implicit")], bad, "unsupported_grant_type").await;
    token_error(
        &app,
        client,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "members:read"),
            ("scope", "organization:read"),
        ],
        bad,
        "invalid_request",
    )
    .await;
    token_error(
        &app,
        client,
        &[("grant_type", "client_credentials"), ("grant_type", "client_credentials")],
        bad,
        "invalid_request",
    )
    .await;
    token_error(
        &app,
        client,
        &[("grant_type", "authorization_code"), ("redirect_uri", &oauth_app.redirect_uri)],
        bad,
        "invalid_request",
    )
    .await;
    token_error(&app, client, &[("grant_type", "refresh_token")], bad, "invalid_request").await;

    // JSON is not the token endpoint's content type.
    let res = app
        .client
        .post(format!("{}/api/oauth/token", app.base))
        .basic_auth(&oauth_app.client_id, Some(&oauth_app.client_secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .expect("answered");
    let status = res.status();
    let headers = res.headers().clone();
    let body: Value = res.json().await.expect("JSON body");
    assert_oauth_error(status, &headers, &body, bad, "invalid_request");
    app.stop().await;
}

async fn code_is_single_use_and_reuse_revokes_its_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let grant = grant_of(&exchange(&app, &oauth_app, &code, &verifier).await);
    assert_works(&app, &f.org, &grant.access).await;

    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", oauth_app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    token_error(&app, creds(&oauth_app), &form, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_dead(&app, &f.org, &grant.access).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_inactive(&app, &oauth_app, &grant.access).await;
    app.stop().await;
}

/// RFC 6749 §4.1.2: a replayed code revokes every token issued on it, rotated ones included.
async fn code_reuse_after_refresh_revokes_rotated_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let grant = grant_of(&exchange(&app, &oauth_app, &code, &verifier).await);
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_token_response(status, &headers, &body);
    let rotated = grant_of(&body);
    assert_works(&app, &f.org, &rotated.access).await;

    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", oauth_app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    token_error(&app, creds(&oauth_app), &form, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_dead(&app, &f.org, &rotated.access).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &rotated.refresh, None).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    app.stop().await;
}

/// Racing exchanges of one code, or refreshes of one refresh token: exactly one wins.
async fn parallel_redemptions_issue_one_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;

    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", oauth_app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let answers = futures::future::join_all(
        (0..8).map(|_| app.oauth_form("/api/oauth/token", creds(&oauth_app), &form)),
    )
    .await;
    let won: Vec<&Value> =
        answers.iter().filter(|(s, _, _)| *s == StatusCode::OK).map(|(_, _, b)| b).collect();
    let statuses: Vec<u16> = answers.iter().map(|(s, _, _)| s.as_u16()).collect();
    assert_eq!(won.len(), 1, "exactly one exchange wins: {statuses:?}");
    for (status, headers, body) in answers.iter().filter(|(s, _, _)| *s != StatusCode::OK) {
        assert_oauth_error(*status, headers, body, StatusCode::BAD_REQUEST, "invalid_grant");
    }

    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    let answers =
        futures::future::join_all((0..8).map(|_| refresh(&app, &oauth_app, &grant.refresh, None)))
            .await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _, _)| s.as_u16()).collect();
    assert!(
        answers.iter().all(|(s, _, _)| !s.is_server_error()),
        "racing refreshes must not fail the server: statuses {statuses:?}"
    );
    let won = answers.iter().filter(|(s, _, _)| *s == StatusCode::OK).count();
    assert!(won <= 1, "at most one refresh wins: {statuses:?}");
    for (status, headers, body) in answers.iter().filter(|(s, _, _)| *s != StatusCode::OK) {
        assert_oauth_error(*status, headers, body, StatusCode::BAD_REQUEST, "invalid_grant");
    }
    app.stop().await;
}

async fn expired_code_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.oauth_code_ttl = Duration::from_secs(1)).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    // A fresh code still works under the short TTL…
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    exchange(&app, &oauth_app, &code, &verifier).await;
    // …one past it does not.
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", oauth_app.redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    token_error(&app, creds(&oauth_app), &form, StatusCode::BAD_REQUEST, "invalid_grant").await;
    app.stop().await;
}

async fn code_exchange_checks_verifier_redirect_and_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app
        .create_oauth_app_with(
            &f.org,
            &f.owner,
            "Two URIs",
            &["http://127.0.0.1:9/callback", "http://127.0.0.1:9/second"],
            &["members:read"],
        )
        .await;
    let other = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let bad = StatusCode::BAD_REQUEST;
    let redirect = oauth_app.redirect_uri.as_str();

    // Wrong verifier (RFC 7636 §4.6).
    let (code, _verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let (_, wrong) = PkceCodeChallenge::new_random_sha256();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", wrong.secret().as_str()),
    ];
    token_error(&app, creds(&oauth_app), &form, bad, "invalid_grant").await;

    // No verifier at all: the contract only names wrong ones, so either code will do.
    let (code, _verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let form =
        [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", redirect)];
    let (status, _, body) = app.oauth_form("/api/oauth/token", creds(&oauth_app), &form).await;
    assert_eq!(status, bad, "{body}");
    assert_oauth_error_among(status, &body, &["invalid_grant", "invalid_request"]);

    // Another of the app's redirect URIs, or none, than the code was issued for.
    for other_uri in ["http://127.0.0.1:9/second", "http://127.0.0.1:9/callback/"] {
        let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", other_uri),
            ("code_verifier", verifier.as_str()),
        ];
        token_error(&app, creds(&oauth_app), &form, bad, "invalid_grant").await;
    }
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, _, body) = app.oauth_form("/api/oauth/token", creds(&oauth_app), &form).await;
    assert_eq!(status, bad, "redirect_uri was sent at /authorize so it is required: {body}");
    assert_oauth_error_among(status, &body, &["invalid_grant", "invalid_request"]);

    // Another app's code.
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", verifier.as_str()),
    ];
    token_error(&app, creds(&other), &form, bad, "invalid_grant").await;

    // Unknown code.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "rst_ac_unknown"),
        ("redirect_uri", redirect),
        ("code_verifier", verifier.as_str()),
    ];
    token_error(&app, creds(&oauth_app), &form, bad, "invalid_grant").await;
    app.stop().await;
}

async fn client_credentials_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;
    let client = creds(&oauth_app);

    let (status, headers, body) =
        app.oauth_form("/api/oauth/token", client, &[("grant_type", "client_credentials")]).await;
    assert_token_response(status, &headers, &body);
    assert!(body.get("refresh_token").is_none(), "no refresh token: {body}");
    assert_eq!(
        scope_set(body["scope"].as_str().expect("scope")),
        set_of(["members:read", "organization:read"])
    );
    let token = body["access_token"].as_str().expect("access token");
    assert_works(&app, &f.org, token).await;

    let (status, headers, body) = app
        .oauth_form(
            "/api/oauth/token",
            client,
            &[("grant_type", "client_credentials"), ("scope", "organization:read")],
        )
        .await;
    assert_token_response(status, &headers, &body);
    assert_eq!(body["scope"], json!("organization:read"));
    let narrow = body["access_token"].as_str().expect("access token");
    assert_lacks_scope(&app, &members_path(&f.org), narrow, "members:read").await;

    for scope in ["members:read members:write", "webhooks:read", "bogus"] {
        token_error(
            &app,
            client,
            &[("grant_type", "client_credentials"), ("scope", scope)],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        )
        .await;
    }

    // The same through oauth2, both ways of authenticating.
    let http = browser();
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let tokens = oauth_client(&app, &oauth_app)
            .set_auth_type(auth)
            .exchange_client_credentials()
            .add_scope(Scope::new("members:read".to_owned()))
            .request_async(&http)
            .await
            .expect("client_credentials through oauth2");
        assert_eq!(*tokens.token_type(), BasicTokenType::Bearer);
        assert!(tokens.refresh_token().is_none());
        assert_eq!(oauth2_scopes(tokens.scopes()), set_of(["members:read"]));
        assert_works(&app, &f.org, tokens.access_token().secret()).await;
    }
    app.stop().await;
}

async fn refresh_token_grant_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;
    let other =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;
    let bad = StatusCode::BAD_REQUEST;

    // Another client's refresh token.
    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    let (status, headers, body) = refresh(&app, &other, &grant.refresh, None).await;
    assert_oauth_error(status, &headers, &body, bad, "invalid_grant");

    // Unknown refresh tokens, and access tokens posing as one.
    let (status, headers, body) = refresh(&app, &oauth_app, "rst_ort_unknown", None).await;
    assert_oauth_error(status, &headers, &body, bad, "invalid_grant");
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.access, None).await;
    assert_oauth_error(status, &headers, &body, bad, "invalid_grant");

    // Wider than the grant, though within the app.
    let grant = code_grant(&app, &oauth_app, &f.member, Some("members:read")).await;
    let (status, headers, body) =
        refresh(&app, &oauth_app, &grant.refresh, Some("members:read organization:read")).await;
    assert_oauth_error(status, &headers, &body, bad, "invalid_scope");

    // Narrower: only that scope.
    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    assert_eq!(scope_set(&grant.scope), set_of(["members:read", "organization:read"]));
    let (status, headers, body) =
        refresh(&app, &oauth_app, &grant.refresh, Some("members:read")).await;
    assert_token_response(status, &headers, &body);
    let narrowed = grant_of(&body);
    assert_eq!(narrowed.scope, "members:read");
    assert_works(&app, &f.org, &narrowed.access).await;
    assert_lacks_scope(
        &app,
        &format!("/api/organizations/{}", f.org),
        &narrowed.access,
        "organization:read",
    )
    .await;
    let info = introspect(&app, &oauth_app, &narrowed.access).await;
    assert_eq!(info["scope"], json!("members:read"), "{info}");
    app.stop().await;
}

async fn refresh_after_user_left_is_invalid_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    assert_works(&app, &f.org, &grant.access).await;
    app.remove_member(&f.org, &f.owner, &f.member).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    // Leaving ended the grant: the access token is no longer valid anywhere.
    let (status, body) = app.get(&members_path(&f.org), Some(&grant.access)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    app.stop().await;
}

/// client_secret_post through oauth2 for every endpoint, and by hand.
async fn client_secret_post_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let http = browser();
    let client = oauth_client(&app, &oauth_app).set_auth_type(AuthType::RequestBody);

    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&http)
        .await
        .expect("code exchange with client_secret_post");
    let rotated = client
        .exchange_refresh_token(tokens.refresh_token().expect("refresh token"))
        .request_async(&http)
        .await
        .expect("refresh with client_secret_post");
    let access = rotated.access_token().clone();
    assert_works(&app, &f.org, access.secret()).await;

    let info = client.introspect(&access).request_async(&http).await.expect("introspection");
    assert!(info.active());
    assert_eq!(info.client_id().map(|c| c.as_str()), Some(oauth_app.client_id.as_str()));

    oauth2_revoke(
        &app,
        &oauth_app,
        AuthType::RequestBody,
        StandardRevocableToken::AccessToken(access.clone()),
    )
    .await;
    assert_dead(&app, &f.org, access.secret()).await;

    let (status, headers, body) = app
        .oauth_form(
            "/api/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &oauth_app.client_id),
                ("client_secret", &oauth_app.client_secret),
            ],
        )
        .await;
    assert_token_response(status, &headers, &body);
    app.stop().await;
}

/// OAuth tokens live as long as the configured token lifetimes.
async fn oauth_tokens_expire(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.access_token_ttl = Duration::from_secs(1);
        c.refresh_token_ttl = Duration::from_secs(3);
    })
    .await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (code, verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    let (status, _, body) = app
        .oauth_form(
            "/api/oauth/token",
            creds(&oauth_app),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &oauth_app.redirect_uri),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], json!(1), "{body}");
    let grant = grant_of(&body);
    let info = introspect(&app, &oauth_app, &grant.access).await;
    let lifetime = info["exp"].as_i64().expect("exp") - info["iat"].as_i64().expect("iat");
    assert!((0..=2).contains(&lifetime), "exp - iat = {lifetime}: {info}");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_dead(&app, &f.org, &grant.access).await;
    assert_inactive(&app, &oauth_app, &grant.access).await;
    // The refresh token outlives it…
    let (status, _, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = grant_of(&body);
    assert_works(&app, &f.org, &rotated.access).await;
    // …until its own lifetime is over.
    tokio::time::sleep(Duration::from_millis(3600)).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &rotated.refresh, None).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    app.stop().await;
}

/// After rotate-secret, the token endpoint takes both secrets for the overlap, then only the
/// new one.
async fn rotated_secret_works_during_overlap_only(backend: Backend) {
    let app =
        TestApp::spawn_with(backend, |c| c.oauth_secret_overlap = Duration::from_secs(2)).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let (status, body) = app
        .post(
            &format!("/api/organizations/{}/oauth-apps/{}/rotate-secret", f.org, oauth_app.id),
            Some(&f.owner.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = TestOAuthApp {
        client_secret: body["clientSecret"].as_str().expect("new secret").to_owned(),
        ..oauth_app.clone()
    };
    assert_ne!(rotated.client_secret, oauth_app.client_secret);
    let cc = [("grant_type", "client_credentials")];
    for client in [&oauth_app, &rotated] {
        let (status, headers, body) = app.oauth_form("/api/oauth/token", creds(client), &cc).await;
        assert_token_response(status, &headers, &body);
    }
    tokio::time::sleep(Duration::from_millis(2600)).await;
    token_error(&app, creds(&oauth_app), &cc, StatusCode::UNAUTHORIZED, "invalid_client").await;
    let (status, headers, body) = app.oauth_form("/api/oauth/token", creds(&rotated), &cc).await;
    assert_token_response(status, &headers, &body);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 5. Revocation (RFC 7009)
// ---------------------------------------------------------------------------------------------

async fn revoke_access_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;

    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    revoke(&app, &oauth_app, &grant.access, None).await;
    assert_dead(&app, &f.org, &grant.access).await;
    assert_inactive(&app, &oauth_app, &grant.access).await;
    revoke(&app, &oauth_app, &grant.access, Some("access_token")).await;

    // A wrong hint only changes where the server looks first (RFC 7009 §2.1).
    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    revoke(&app, &oauth_app, &grant.access, Some("refresh_token")).await;
    assert_dead(&app, &f.org, &grant.access).await;

    // A client_credentials token, through oauth2.
    let token = app.client_credentials_token(&oauth_app, None).await;
    oauth2_revoke(
        &app,
        &oauth_app,
        AuthType::BasicAuth,
        StandardRevocableToken::AccessToken(AccessToken::new(token.clone())),
    )
    .await;
    assert_dead(&app, &f.org, &token).await;
    app.stop().await;
}

async fn revoke_refresh_token_revokes_the_grant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;

    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    revoke(&app, &oauth_app, &grant.refresh, Some("refresh_token")).await;
    assert_dead(&app, &f.org, &grant.access).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_grant");

    // After a rotation, without a hint, through oauth2: the current pair goes.
    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_token_response(status, &headers, &body);
    let rotated = grant_of(&body);
    oauth2_revoke(
        &app,
        &oauth_app,
        AuthType::BasicAuth,
        StandardRevocableToken::RefreshToken(RefreshToken::new(rotated.refresh.clone())),
    )
    .await;
    assert_dead(&app, &f.org, &rotated.access).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &rotated.refresh, None).await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    app.stop().await;
}

async fn revoke_ignores_other_clients_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let other = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;

    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    let app_token = app.client_credentials_token(&oauth_app, None).await;
    revoke(&app, &other, &grant.access, None).await;
    revoke(&app, &other, &grant.refresh, Some("refresh_token")).await;
    revoke(&app, &other, &app_token, None).await;
    // Nor does a client's revocation touch the user's own sign-in.
    revoke(&app, &other, &f.member.token, None).await;

    assert_works(&app, &f.org, &grant.access).await;
    assert_works(&app, &f.org, &app_token).await;
    assert_works(&app, &f.org, &f.member.token).await;
    let (status, headers, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_token_response(status, &headers, &body);
    app.stop().await;
}

async fn revoke_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let token = app.client_credentials_token(&oauth_app, None).await;

    revoke(&app, &oauth_app, "rst_oat_unknown", None).await;
    revoke(&app, &oauth_app, "not even a token", Some("access_token")).await;

    let (status, headers, body) =
        app.oauth_form("/api/oauth/revoke", None, &[("token", &token)]).await;
    assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let (status, headers, body) = app
        .oauth_form(
            "/api/oauth/revoke",
            Some((&oauth_app.client_id, "rst_cs_wrong")),
            &[("token", &token)],
        )
        .await;
    assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let (status, headers, body) = app
        .oauth_form("/api/oauth/revoke", creds(&oauth_app), &[("token_type_hint", "access_token")])
        .await;
    assert_oauth_error(status, &headers, &body, StatusCode::BAD_REQUEST, "invalid_request");

    // None of that revoked anything.
    assert_works(&app, &f.org, &token).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 6. Introspection (RFC 7662)
// ---------------------------------------------------------------------------------------------

async fn introspect_live_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app =
        app.create_oauth_app(&f.org, &f.owner, &["members:read", "organization:read"]).await;

    let grant = code_grant(&app, &oauth_app, &f.member, Some("members:read")).await;
    let info = introspect(&app, &oauth_app, &grant.access).await;
    assert_eq!(info["active"], json!(true), "{info}");
    assert_eq!(info["scope"], json!("members:read"), "{info}");
    assert_eq!(info["client_id"], json!(oauth_app.client_id), "{info}");
    let token_type = info["token_type"].as_str().expect("token_type");
    assert!(token_type.eq_ignore_ascii_case("bearer"), "{info}");
    assert_eq!(info["sub"], json!(f.member.id), "{info}");
    assert_eq!(info["iss"], json!(app.base), "{info}");
    assert_eq!(info["organization_id"], json!(f.org), "{info}");
    let iat = info["iat"].as_i64().expect("iat is whole seconds");
    let exp = info["exp"].as_i64().expect("exp is whole seconds");
    assert!((iat - now_secs()).abs() <= 60, "iat {iat} is now");
    assert!((3599..=3601).contains(&(exp - iat)), "exp {exp} is an hour after iat {iat}");

    let token = app.client_credentials_token(&oauth_app, None).await;
    let info = introspect(&app, &oauth_app, &token).await;
    assert_eq!(info["active"], json!(true), "{info}");
    assert_eq!(info["sub"], json!(oauth_app.client_id), "{info}");
    assert_eq!(info["client_id"], json!(oauth_app.client_id), "{info}");
    assert_eq!(info["organization_id"], json!(f.org), "{info}");
    assert_eq!(
        scope_set(info["scope"].as_str().expect("scope")),
        set_of(["members:read", "organization:read"])
    );

    // The same through oauth2's RFC 7662 support.
    let http = browser();
    let info = oauth_client(&app, &oauth_app)
        .introspect(&AccessToken::new(grant.access.clone()))
        .set_token_type_hint("access_token")
        .request_async(&http)
        .await
        .expect("introspection");
    assert!(info.active());
    assert_eq!(info.sub(), Some(f.member.id.as_str()));
    assert_eq!(info.iss(), Some(app.base.as_str()));
    assert_eq!(oauth2_scopes(info.scopes()), set_of(["members:read"]));
    let exp = info.exp().expect("exp").timestamp();
    assert!(exp > now_secs(), "exp in the future");
    app.stop().await;
}

async fn introspect_inactive_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let other = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;

    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    let app_token = app.client_credentials_token(&oauth_app, None).await;
    assert_inactive(&app, &other, &grant.access).await;
    assert_inactive(&app, &other, &app_token).await;
    assert_inactive(&app, &oauth_app, "rst_oat_unknown").await;
    assert_inactive(&app, &oauth_app, &f.member.token).await;
    assert_inactive(&app, &oauth_app, &f.member.refresh).await;
    let (status, pat) =
        app.post("/api/users/me/tokens", Some(&f.member.token), json!({"name": "script"})).await;
    assert_eq!(status, StatusCode::CREATED, "{pat}");
    assert_inactive(&app, &oauth_app, pat["token"].as_str().expect("PAT")).await;

    revoke(&app, &oauth_app, &app_token, None).await;
    assert_inactive(&app, &oauth_app, &app_token).await;

    let (status, headers, body) =
        app.oauth_form("/api/oauth/introspect", None, &[("token", &grant.access)]).await;
    assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let (status, headers, body) = app
        .oauth_form(
            "/api/oauth/introspect",
            Some((&oauth_app.client_id, "rst_cs_wrong")),
            &[("token", &grant.access)],
        )
        .await;
    assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_client");

    // Asking did not spend anything.
    assert_eq!(introspect(&app, &oauth_app, &grant.access).await["active"], json!(true));
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 7. Revoking the app
// ---------------------------------------------------------------------------------------------

async fn revoking_the_app_kills_its_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let grant = code_grant(&app, &oauth_app, &f.member, None).await;
    let app_token = app.client_credentials_token(&oauth_app, None).await;
    let (pending_code, pending_verifier) = mint_code(&app, &oauth_app, &f.member, None).await;
    assert_works(&app, &f.org, &grant.access).await;
    assert_works(&app, &f.org, &app_token).await;

    let (status, body) = app
        .post(
            &format!("/api/organizations/{}/oauth-apps/{}/revoke", f.org, oauth_app.id),
            Some(&f.owner.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], json!("revoked"), "{body}");

    assert_dead(&app, &f.org, &grant.access).await;
    assert_dead(&app, &f.org, &app_token).await;
    let (status, _, body) = refresh(&app, &oauth_app, &grant.refresh, None).await;
    assert_oauth_error_among(status, &body, &["invalid_grant", "invalid_client"]);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", pending_code.as_str()),
        ("redirect_uri", oauth_app.redirect_uri.as_str()),
        ("code_verifier", pending_verifier.as_str()),
    ];
    let (status, _, body) = app.oauth_form("/api/oauth/token", creds(&oauth_app), &form).await;
    assert_oauth_error_among(status, &body, &["invalid_grant", "invalid_client"]);
    token_error(
        &app,
        creds(&oauth_app),
        &[("grant_type", "client_credentials")],
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;

    // Introspection: the revoked client may not ask at all (invalid_client), and if it may,
    // it learns nothing is active.
    for token in [&grant.access, &grant.refresh, &app_token] {
        let (status, headers, body) =
            app.oauth_form("/api/oauth/introspect", creds(&oauth_app), &[("token", token)]).await;
        if status == StatusCode::OK {
            assert_eq!(body, json!({"active": false}));
        } else {
            assert_oauth_error(status, &headers, &body, StatusCode::UNAUTHORIZED, "invalid_client");
        }
    }

    // And no new authorization starts.
    let http = browser();
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let params = code_params(&oauth_app, "members:read", "s", challenge.as_str());
    assert_html_page(&fetch(&http, &authorize_url(&app, &params)).await, StatusCode::BAD_REQUEST);
    let (status, body) = app
        .post(
            "/api/oauth/authorize",
            Some(&f.member.token),
            authorize_body(&oauth_app, None, "s", challenge.as_str()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], json!("invalid_client"), "{body}");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// 8. Metadata (RFC 8414)
// ---------------------------------------------------------------------------------------------

fn assert_metadata(body: &Value, issuer: &str) {
    assert_eq!(body["issuer"], json!(issuer), "{body}");
    assert_eq!(body["authorization_endpoint"], json!(format!("{issuer}/api/oauth/authorize")));
    assert_eq!(body["token_endpoint"], json!(format!("{issuer}/api/oauth/token")));
    assert_eq!(body["revocation_endpoint"], json!(format!("{issuer}/api/oauth/revoke")));
    assert_eq!(body["introspection_endpoint"], json!(format!("{issuer}/api/oauth/introspect")));
    assert_eq!(body["response_types_supported"], json!(["code"]), "{body}");
    assert_eq!(body["code_challenge_methods_supported"], json!(["S256"]), "{body}");
    let strings = |key: &str| -> BTreeSet<String> {
        body[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is an array: {body}"))
            .iter()
            .map(|v| v.as_str().expect("string").to_owned())
            .collect()
    };
    let grants = strings("grant_types_supported");
    for grant in ["authorization_code", "client_credentials", "refresh_token"] {
        assert!(grants.contains(grant), "{grant} in {grants:?}");
    }
    let methods = strings("token_endpoint_auth_methods_supported");
    for method in ["client_secret_basic", "client_secret_post"] {
        assert!(methods.contains(method), "{method} in {methods:?}");
    }
    assert_eq!(strings("scopes_supported"), set_of(ALL_SCOPES));
}

async fn metadata_derives_issuer_from_host(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app
        .client
        .get(format!("{}/.well-known/oauth-authorization-server", app.base))
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = header(res.headers(), CONTENT_TYPE).unwrap_or_default();
    assert!(content_type.starts_with("application/json"), "Content-Type {content_type}");
    let body: Value = res.json().await.expect("JSON");
    assert_metadata(&body, &app.base);

    let res = app
        .client
        .get(format!("{}/.well-known/oauth-authorization-server", app.base))
        .header(HOST, "roster.test:8080")
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("JSON");
    assert_metadata(&body, "http://roster.test:8080");
    app.stop().await;
}

async fn metadata_uses_configured_public_url(backend: Backend) {
    let issuer = "https://roster.example.com";
    let app = TestApp::spawn_with(backend, |c| c.public_url = Some(issuer.to_owned())).await;
    let (status, body) = app.get("/.well-known/oauth-authorization-server", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_metadata(&body, issuer);

    // Introspection names the same issuer.
    let f = app.org_with_roles().await;
    let oauth_app = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let token = app.client_credentials_token(&oauth_app, None).await;
    let info = introspect(&app, &oauth_app, &token).await;
    assert_eq!(info["iss"], json!(issuer), "{info}");
    app.stop().await;
}

on_both_backends!(
    code_flow_through_consent_page_with_oauth2_client,
    consent_page_escapes_untrusted_text,
    consent_deny_redirects_with_access_denied,
    consent_wrong_credentials_show_the_form_again,
    consent_refuses_non_members,
    consent_rate_limited_like_sign_in,
    consent_requires_matching_csrf_token,
    authorize_bad_client_or_redirect_uri_gets_error_page,
    authorize_faults_redirect_back_with_state,
    authorize_requires_redirect_uri_and_defaults_to_all_scopes,
    json_authorize_requires_redirect_uri_and_defaults_scopes,
    json_authorize_issues_code_for_bearer_user,
    json_authorize_refusals,
    token_client_authentication_failures,
    token_malformed_requests,
    code_is_single_use_and_reuse_revokes_its_tokens,
    code_reuse_after_refresh_revokes_rotated_tokens,
    parallel_redemptions_issue_one_grant,
    expired_code_is_invalid_grant,
    code_exchange_checks_verifier_redirect_and_client,
    client_credentials_grant,
    refresh_token_grant_rules,
    refresh_after_user_left_is_invalid_grant,
    client_secret_post_works,
    oauth_tokens_expire,
    rotated_secret_works_during_overlap_only,
    revoke_access_token,
    revoke_refresh_token_revokes_the_grant,
    revoke_ignores_other_clients_tokens,
    revoke_errors,
    introspect_live_tokens,
    introspect_inactive_tokens,
    revoking_the_app_kills_its_tokens,
    metadata_derives_issuer_from_host,
    metadata_uses_configured_public_url,
);
