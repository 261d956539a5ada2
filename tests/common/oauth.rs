//! OAuth helpers shared by the OAuth test files: registering apps and getting tokens over the
//! token endpoint's wire format.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Api, TestUser};

pub const ALL_SCOPES: [&str; 8] = [
    "organization:read",
    "organization:write",
    "members:read",
    "members:write",
    "invites:read",
    "invites:write",
    "webhooks:read",
    "webhooks:write",
];

/// A registered app as `POST …/oauth-apps` answered it.
#[derive(Debug, Clone)]
pub struct TestOAuthApp {
    pub id: String,
    pub org: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
}

impl Api {
    /// Registers an app in `org` as `by`, with one redirect URI and the given scopes.
    pub async fn create_oauth_app(
        &self,
        org: &str,
        by: &TestUser,
        scopes: &[&str],
    ) -> TestOAuthApp {
        let redirect_uri = "http://127.0.0.1:9/callback".to_owned();
        let (status, body) = self
            .post(
                &format!("/api/organizations/{org}/oauth-apps"),
                Some(&by.token),
                json!({"name": "Test app", "redirectUris": [redirect_uri], "scopes": scopes}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create OAuth app: {body}");
        TestOAuthApp {
            id: body["id"].as_str().expect("app id").to_owned(),
            org: org.to_owned(),
            client_id: body["clientId"].as_str().expect("client id").to_owned(),
            client_secret: body["clientSecret"].as_str().expect("client secret").to_owned(),
            redirect_uri,
        }
    }

    /// Posts a form to an OAuth endpoint with HTTP Basic client authentication.
    pub async fn oauth_form(
        &self,
        path: &str,
        client: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.client.post(format!("{}{path}", self.base)).form(form);
        if let Some((id, secret)) = client {
            req = req.basic_auth(id, Some(secret));
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("POST {path}: no answer: {e}"));
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
}
