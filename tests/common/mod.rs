//! The test harness: a real Roster server on 127.0.0.1 port 0 with its own database, and a
//! thin HTTP client for it or any other server. Every story runs on SQLite and on PostgreSQL.
//!
//! PostgreSQL tests use `ROSTER_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), each in a schema of its own, and fail when
//! that server is unreachable. `ROSTER_TEST_POSTGRES=off` skips them on a machine without
//! PostgreSQL.
#![allow(dead_code)]

pub mod oauth;
pub mod receiver;

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use roster::app::App;
use roster::config::Config;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares each listed `async fn name(backend: Backend)` as two tests, one per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::common::postgres_disabled() {
                        eprintln!("ROSTER_TEST_POSTGRES=off: not running on PostgreSQL");
                        return;
                    }
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

pub fn postgres_disabled() -> bool {
    std::env::var("ROSTER_TEST_POSTGRES").is_ok_and(|v| v == "off")
}

fn postgres_url() -> String {
    std::env::var("ROSTER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh, empty database for one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("roster.db").display());
                Self { url, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let base = postgres_url();
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let admin = sqlx::PgPool::connect(&base).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL at {base} is unreachable ({e}); set ROSTER_TEST_POSTGRES=off to skip")
                });
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&admin)
                    .await
                    .expect("create schema");
                admin.close().await;
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
                Self { url, _dir: None }
            }
        }
    }
}

pub fn test_config(url: &str) -> Config {
    let mut config = Config::new(url);
    config.secret_key = Some(roster::config::SecretKey([42; 32]));
    config.webhook_allow_private = true;
    config
}

/// A thin JSON client for one Roster server: a `TestApp`'s, or any other reachable at `base`
/// (a child process running the real binary, say). Every request helper lives here.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
}

/// A real server on 127.0.0.1 port 0. It owns its database when made by `spawn`/`spawn_with`;
/// one made by `start` runs on a database owned elsewhere. Derefs to its `Api`.
pub struct TestApp {
    pub api: Api,
    pub db: Option<TestDb>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts a server on a fresh database, with a configuration `adjust` may change first.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::new(backend).await;
        let mut config = test_config(&db.url);
        adjust(&mut config);
        let mut app = Self::start(config).await;
        app.db = Some(db);
        app
    }

    /// Builds and serves a server with exactly `config`; it owns no database.
    pub async fn start(config: Config) -> Self {
        let app = App::build(config).await.expect("server builds");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.serve(listener, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        Self { api: Api::new(base), db: None, shutdown: Some(tx), server: Some(server) }
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server stops cleanly");
        }
    }
}

impl std::ops::Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
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
                json!({"email": email, "password": "correct horse battery", "name": name}),
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

/// Asserts the API's error shape with an exact message.
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, message: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body, &json!({"statusCode": expected.as_u16(), "message": message}));
}

/// Asserts a 400 whose message array is exactly `messages`.
pub fn assert_validation(status: StatusCode, body: &Value, messages: &[&str]) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body, &json!({"statusCode": 400, "message": messages}));
}

pub const AUTH_REQUIRED: &str = "Authentication required. Provide a valid bearer token.";
