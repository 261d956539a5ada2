//! OAuth helpers shared by the OAuth test files: registering apps, getting tokens over the
//! token endpoint's wire format, and checking what OAuth tokens get back.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{AsHeaderName, HeaderMap, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Api, TestUser, assert_error};

pub const ALL_SCOPES: [&str; 9] = [
    "organization:read",
    "organization:write",
    "members:read",
    "members:write",
    "invites:read",
    "invites:write",
    "webhooks:read",
    "webhooks:write",
    "events:publish",
];

/// A registered app as `POST …/oauth-apps` answered it.
#[derive(Debug, Clone)]
pub struct TestOAuthApp {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
}

/// `oauth` authenticating as itself, in the shape `Api::oauth_form` takes.
pub fn creds(oauth: &TestOAuthApp) -> Option<(&str, &str)> {
    Some((oauth.client_id.as_str(), oauth.client_secret.as_str()))
}

pub fn header(headers: &HeaderMap, name: impl AsHeaderName) -> Option<String> {
    headers.get(name).map(|v| v.to_str().expect("ASCII header").to_owned())
}

/// A client that never follows redirects, so the test sees the server's own; `oauth2` wants
/// its HTTP client so too (against SSRF).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// The 403 message for a token without `scope`.
pub fn lacks(scope: &str) -> String {
    format!("Access denied. This token lacks the {scope} scope.")
}

pub fn org_path(org: &str) -> String {
    format!("/api/organizations/{org}")
}

pub fn members_path(org: &str) -> String {
    format!("/api/organizations/{org}/members")
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// `GET /api/oauth/authorize` with exactly these query parameters.
pub fn authorize_url(api: &Api, params: &[(&str, &str)]) -> String {
    url::Url::parse_with_params(&format!("{}/api/oauth/authorize", api.base), params)
        .expect("authorize URL")
        .to_string()
}

pub fn query(url: &url::Url, key: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

/// The token reads the organization's members.
pub async fn assert_works(api: &Api, org: &str, token: &str) {
    let (status, body) = api.get(&members_path(org), Some(token)).await;
    assert_eq!(status, StatusCode::OK, "token should work: {body}");
}

/// The 403 of a token without `scope`: exact body and an RFC 6750 challenge naming it.
pub fn assert_insufficient_scope(
    what: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &Value,
    scope: &str,
) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: expected lacks {scope}: {body}");
    assert_error(status, body, StatusCode::FORBIDDEN, &lacks(scope));
    let challenge = header(headers, WWW_AUTHENTICATE)
        .unwrap_or_else(|| panic!("{what}: WWW-Authenticate on insufficient scope: {headers:?}"));
    assert!(challenge.starts_with("Bearer"), "{what}: a Bearer challenge: {challenge}");
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{what}: error=\"insufficient_scope\": {challenge}"
    );
    assert!(
        challenge.contains(&format!("scope=\"{scope}\"")),
        "{what}: scope=\"{scope}\": {challenge}"
    );
}

/// The status, the headers and the JSON body (`Null` when empty) of an answer to `what`.
async fn read(
    res: Result<reqwest::Response, reqwest::Error>,
    what: &str,
) -> (StatusCode, HeaderMap, Value) {
    let res = res.unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body: {text}"))
    };
    (status, headers, body)
}

impl Api {
    /// Registers an app in `org` as `by`, with one redirect URI and the given scopes.
    pub async fn create_oauth_app(
        &self,
        org: &str,
        by: &TestUser,
        scopes: &[&str],
    ) -> TestOAuthApp {
        self.create_oauth_app_with(org, by, "Test app", &["http://127.0.0.1:9/callback"], scopes)
            .await
    }

    /// Registers an app with any name and redirect URIs; the first URI becomes its
    /// `redirect_uri`.
    pub async fn create_oauth_app_with(
        &self,
        org: &str,
        by: &TestUser,
        name: &str,
        redirect_uris: &[&str],
        scopes: &[&str],
    ) -> TestOAuthApp {
        let (status, body) = self
            .post(
                &format!("/api/organizations/{org}/oauth-apps"),
                Some(&by.token),
                json!({"name": name, "redirectUris": redirect_uris, "scopes": scopes}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create OAuth app: {body}");
        TestOAuthApp {
            id: body["id"].as_str().expect("app id").to_owned(),
            client_id: body["clientId"].as_str().expect("client id").to_owned(),
            client_secret: body["clientSecret"].as_str().expect("client secret").to_owned(),
            redirect_uri: redirect_uris[0].to_owned(),
        }
    }

    /// Like `call`, with the answer's headers too: OAuth answers carry challenges there.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await, &format!("{method} {path}")).await
    }

    /// Posts a form to an OAuth endpoint with HTTP Basic client authentication.
    pub async fn oauth_form(
        &self,
        path: &str,
        client: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Value) {
        let mut req = self.client.post(format!("{}{path}", self.base)).form(form);
        if let Some((id, secret)) = client {
            req = req.basic_auth(id, Some(secret));
        }
        read(req.send().await, &format!("POST {path}")).await
    }

    /// A `client_credentials` access token for `app`, with `scope` (space-separated) or all
    /// of the app's scopes when `None`.
    pub async fn client_credentials_token(
        &self,
        app: &TestOAuthApp,
        scope: Option<&str>,
    ) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let (status, _, body) = self
            .oauth_form("/api/oauth/token", Some((&app.client_id, &app.client_secret)), &form)
            .await;
        assert_eq!(status, StatusCode::OK, "client_credentials: {body}");
        body["access_token"].as_str().expect("access token").to_owned()
    }

    /// A fresh authorization code for `user` and its PKCE verifier, through the front-end
    /// route (`POST /api/oauth/authorize` with the user's own token); `scope` `None` means
    /// all of the app's.
    pub async fn authorize_code(
        &self,
        oauth: &TestOAuthApp,
        user: &TestUser,
        scope: Option<&str>,
    ) -> (String, String) {
        let (verifier, challenge) = pkce();
        let mut request = json!({
            "response_type": "code",
            "client_id": oauth.client_id,
            "redirect_uri": oauth.redirect_uri,
            "state": "s-123",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        });
        if let Some(scope) = scope {
            request["scope"] = json!(scope);
        }
        let (status, body) = self.post("/api/oauth/authorize", Some(&user.token), request).await;
        assert_eq!(status, StatusCode::OK, "authorize: {body}");
        let to = body["redirect_to"].as_str().unwrap_or_else(|| panic!("redirect_to: {body}"));
        let url =
            url::Url::parse(to).unwrap_or_else(|e| panic!("redirect_to is a URL ({to}): {e}"));
        (query(&url, "code").unwrap_or_else(|| panic!("a code in {to}")), verifier)
    }

    /// An `authorization_code` grant request for `code`, as `oauth`.
    pub async fn exchange_code(
        &self,
        oauth: &TestOAuthApp,
        code: &str,
        verifier: &str,
    ) -> (StatusCode, HeaderMap, Value) {
        self.oauth_form(
            "/api/oauth/token",
            creds(oauth),
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &oauth.redirect_uri),
                ("code_verifier", verifier),
            ],
        )
        .await
    }

    /// The token response of an `authorization_code` grant for `user` (`authorize_code`,
    /// then the token endpoint).
    pub async fn authorization_code_grant(
        &self,
        oauth: &TestOAuthApp,
        user: &TestUser,
        scope: Option<&str>,
    ) -> Value {
        let (code, verifier) = self.authorize_code(oauth, user, scope).await;
        let (status, _, body) = self.exchange_code(oauth, &code, &verifier).await;
        assert_eq!(status, StatusCode::OK, "authorization_code exchange: {body}");
        body
    }
}
