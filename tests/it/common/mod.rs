//! The test harness: a real Roster server on 127.0.0.1 port 0 with its own database, and a
//! thin HTTP client for it or any other server. Every story runs on SQLite and on PostgreSQL.
//!
//! PostgreSQL tests use `ROSTER_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), each in a database of its own copied from a
//! migrated template (see [`db`]), and fail when that server is unreachable.
//! `ROSTER_TEST_POSTGRES=off` skips them on a machine without PostgreSQL.

pub mod api;
pub mod browser;
pub mod console;
pub mod db;
pub mod drain;
pub mod keys;
pub mod messages;
pub mod oauth;
pub mod receiver;
pub mod smtp;
pub mod tarpit;

use std::collections::HashSet;

use reqwest::StatusCode;
use roster::app::{App, AppState};
use roster::clock::Clock;
use roster::config::Config;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use api::{Api, PASSWORD, RoleFixture, TestUser};
pub use db::TestDb;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares each listed `async fn name(backend: Backend)` as two tests, one per backend.
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

pub fn test_config(url: &str) -> Config {
    let mut config = Config::new(url);
    config.secret_key = Some(roster::config::SecretKey([42; 32]));
    config.webhook_allow_private = true;
    // Most tests sign in right after registering; the verification rule has its own tests.
    config.email.require_verified_email = false;
    config.email.link_url = "http://roster.test".into();
    config
}

/// A real server on 127.0.0.1 port 0. It owns its database when made by `spawn`/`spawn_with`;
/// one made by `start` runs on a database owned elsewhere. Derefs to its `Api`. Its clock is
/// the one the test moves ([`TestApp::advance`]) instead of sleeping.
pub struct TestApp {
    pub api: Api,
    pub db: Option<TestDb>,
    pub clock: Clock,
    /// What the server's handlers see: its database and its clock.
    pub state: AppState,
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
        let clock = Clock::system();
        let app = App::build_with_clock(config, clock.clone()).await.expect("server builds");
        let state = app.state().clone();
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
        Self {
            api: Api::new(base),
            db: None,
            clock,
            state,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// Moves the server's clock forward: tokens expire, retries fall due, leases run out.
    pub fn advance(&self, by: std::time::Duration) {
        self.clock.advance(by);
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

/// The string at `value[field]`.
pub fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_else(|| panic!("{field} is a string: {value}"))
}

/// Asserts an RFC 3339 timestamp in UTC with a `Z` suffix.
pub fn assert_timestamp(value: &Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("timestamp is a string: {value}"));
    assert!(text.ends_with('Z'), "UTC with a Z suffix: {text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("RFC 3339 timestamp {text}: {e}"));
}

/// A Member object, exactly `{userId, organizationId, email, name, role, createdAt, updatedAt}`.
pub fn assert_member(value: &Value, org: &str, user: &TestUser, role: &str) {
    let object = value.as_object().unwrap_or_else(|| panic!("member is an object: {value}"));
    let keys: HashSet<&str> = object.keys().map(String::as_str).collect();
    let expected: HashSet<&str> =
        ["userId", "organizationId", "email", "name", "role", "createdAt", "updatedAt"].into();
    assert_eq!(keys, expected, "{value}");
    assert_eq!(value["userId"], json!(user.id), "{value}");
    assert_eq!(value["organizationId"], json!(org), "{value}");
    assert_eq!(value["email"], json!(user.email), "{value}");
    let name = user.email.split('@').next().expect("local part");
    assert_eq!(value["name"], json!(name), "{value}");
    assert_eq!(value["role"], json!(role), "{value}");
    assert_timestamp(&value["createdAt"]);
    assert_timestamp(&value["updatedAt"]);
}

/// An ID that names nothing on the server.
pub fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
