//! A thin JSON client for one Roster server, with the requests and fixtures the stories share.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The password of every user the stories register.
pub const PASSWORD: &str = "correct horse battery";

/// A thin JSON client for one Roster server: a `TestApp`'s, or any other reachable at `base`
/// (a child process running the real binary, say). Every request helper lives here.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
}

impl Api {
    pub fn new(base: String) -> Self {
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
        Self { base, client }
    }

    /// Sends a request; `Err` when no answer came back (refused, reset, timed out).
    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await?;
        let status = res.status();
        let text = res.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body: {text}"))
        };
        Ok((status, body))
    }

    /// Sends a request and returns the status and JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let what = format!("{method} {path}");
        self.try_call(method, path, token, body)
            .await
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}"))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, token, None).await
    }

    /// Registers a user named `name` with email `<name>@example.com`.
    pub async fn register(&self, name: &str) -> TestUser {
        let email = format!("{name}@example.com");
        let (status, body) = self
            .post(
                "/api/auth/register",
                None,
                json!({"email": email, "password": PASSWORD, "name": name}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "register {name}: {body}");
        TestUser {
            id: body["user"]["id"].as_str().expect("user id").to_owned(),
            email,
            token: body["accessToken"].as_str().expect("access token").to_owned(),
            refresh: body["refreshToken"].as_str().expect("refresh token").to_owned(),
        }
    }

    /// Registers `prefix-0` … `prefix-{n-1}` concurrently.
    pub async fn register_many(&self, prefix: &str, n: usize) -> Vec<TestUser> {
        futures::future::join_all((0..n).map(|i| {
            let api = self.clone();
            async move { api.register(&format!("{prefix}-{i}")).await }
        }))
        .await
    }

    /// Creates an organization owned by `owner` and returns its ID.
    pub async fn create_org(&self, owner: &TestUser, name: &str) -> String {
        let (status, body) =
            self.post("/api/organizations", Some(&owner.token), json!({"name": name})).await;
        assert_eq!(status, StatusCode::CREATED, "create org: {body}");
        body["id"].as_str().expect("org id").to_owned()
    }

    /// The unsent request that adds `user` to `org` with `role`, acting as `by`; for callers
    /// that must see whether an answer came back at all.
    pub fn add_member_request(
        &self,
        org: &str,
        by: &TestUser,
        user: &TestUser,
        role: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}/api/organizations/{org}/members", self.base))
            .bearer_auth(&by.token)
            .json(&json!({"email": user.email, "role": role}))
    }

    /// Adds `user` to `org` with `role`, acting as `by`.
    pub async fn add_member(&self, org: &str, by: &TestUser, user: &TestUser, role: &str) {
        let (status, body) = self
            .post(
                &format!("/api/organizations/{org}/members"),
                Some(&by.token),
                json!({"email": user.email, "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "add member: {body}");
    }

    /// Removes `user` from `org`, acting as `by`.
    pub async fn remove_member(&self, org: &str, by: &TestUser, user: &TestUser) {
        let (status, body) = self
            .delete(&format!("/api/organizations/{org}/members/{}", user.id), Some(&by.token))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "remove member: {body}");
    }

    /// Invites `email` into `org` with `role` as `by`; the 201 body (the Invite and its token).
    pub async fn invite(&self, org: &str, by: &TestUser, email: &str, role: &str) -> Value {
        let (status, body) = self
            .post(
                &format!("/api/organizations/{org}/invites"),
                Some(&by.token),
                json!({"email": email, "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "invite {email} as {role}: {body}");
        body
    }

    /// An organization with an OWNER, an ADMIN, a MEMBER and an outsider.
    pub async fn org_with_roles(&self) -> RoleFixture {
        let owner = self.register("owner").await;
        let admin = self.register("admin").await;
        let member = self.register("member").await;
        let outsider = self.register("outsider").await;
        let org = self.create_org(&owner, "Acme Corp").await;
        self.add_member(&org, &owner, &admin, "ADMIN").await;
        self.add_member(&org, &owner, &member, "MEMBER").await;
        RoleFixture { org, owner, admin, member, outsider }
    }

    /// Creates a webhook as `by` and returns its ID and secret.
    pub async fn create_webhook(
        &self,
        org: &str,
        by: &TestUser,
        url: &str,
        events: &[&str],
    ) -> (String, String) {
        let (status, body) = self
            .post(
                &format!("/api/organizations/{org}/webhooks"),
                Some(&by.token),
                json!({"url": url, "events": events}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create webhook: {body}");
        (
            body["id"].as_str().expect("webhook id").to_owned(),
            body["secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// Every item of a cursor-paginated list.
    pub async fn list_all(&self, path: &str, token: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let page = match &cursor {
                None => format!("{path}?limit=100"),
                Some(c) => format!("{path}?limit=100&cursor={c}"),
            };
            let (status, body) = self.get(&page, Some(token)).await;
            assert_eq!(status, StatusCode::OK, "GET {page}: {body}");
            all.extend(body["data"].as_array().expect("data").iter().cloned());
            match body["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return all,
            }
        }
        panic!("more than 100 pages of {path}");
    }

    /// The organization's event types, oldest first, as the owner reads them.
    pub async fn event_types(&self, org: &str, owner: &TestUser) -> Vec<String> {
        let (status, body) = self
            .get(&format!("/api/organizations/{org}/events?limit=100"), Some(&owner.token))
            .await;
        assert_eq!(status, StatusCode::OK, "events: {body}");
        let mut types: Vec<String> = body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|e| e["event"].as_str().expect("event").to_owned())
            .collect();
        types.reverse();
        types
    }

    /// Every event of the organization's log, newest first, as the owner reads them.
    pub async fn events(&self, org: &str, owner: &TestUser) -> Vec<Value> {
        self.list_all(&format!("/api/organizations/{org}/events"), &owner.token).await
    }

    /// Every delivery of the webhook's log, newest first, as the owner reads them.
    pub async fn deliveries(&self, org: &str, webhook: &str, owner: &TestUser) -> Vec<Value> {
        self.list_all(
            &format!("/api/organizations/{org}/webhooks/{webhook}/deliveries"),
            &owner.token,
        )
        .await
    }

    /// Polls the delivery log until `done` holds for it; panics with the log after `timeout`.
    pub async fn wait_for_deliveries(
        &self,
        org: &str,
        webhook: &str,
        owner: &TestUser,
        timeout: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.deliveries(org, webhook, owner).await;
            if done(&log) {
                return log;
            }
            if Instant::now() > deadline {
                let summary: Vec<String> = log
                    .iter()
                    .map(|d| format!("{} {} attempts={}", d["id"], d["status"], d["attempts"]))
                    .collect();
                panic!("delivery log not settled within {timeout:?}:\n{}", summary.join("\n"));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
    pub refresh: String,
}

pub struct RoleFixture {
    pub org: String,
    pub owner: TestUser,
    pub admin: TestUser,
    pub member: TestUser,
    pub outsider: TestUser,
}
