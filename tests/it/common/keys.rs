//! Server keys for the stories, stored as `roster keys create` stores them, and the
//! application's event types they register.

use reqwest::{Method, StatusCode};
use roster::auth::token;
use roster::domain::key_scope::KeyScope;
use roster::store::server_keys::{self, ServerKey};
use serde_json::{Value, json};
use uuid::Uuid;

use super::TestApp;

/// A server key with `scopes`.
pub async fn server_key(app: &TestApp, scopes: &[KeyScope]) -> String {
    let secret = token::generate(token::SERVER_KEY_PREFIX);
    let key = ServerKey {
        id: Uuid::now_v7(),
        name: "backend".into(),
        scopes: scopes.to_vec(),
        created_at: app.clock.now(),
        last_used_at: None,
        revoked_at: None,
    };
    let mut tx = app.state.db.begin_write().await.expect("begin");
    server_keys::insert(&mut tx, &key, &token::digest(&secret)).await.expect("insert key");
    tx.commit().await.expect("commit");
    secret
}

/// A server key with every scope.
pub async fn full_key(app: &TestApp) -> String {
    server_key(app, KeyScope::ALL).await
}

/// Registers `name` with `schema` and returns the answer.
pub async fn put_type(app: &TestApp, key: &str, name: &str, schema: Value) -> (StatusCode, Value) {
    let body = json!({"description": format!("{name} happened"), "schema": schema});
    app.call(Method::PUT, &format!("/api/event-types/{name}"), Some(key), Some(body)).await
}
