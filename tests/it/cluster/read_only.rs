//! What the API answers while PostgreSQL takes no writes, as during a failover when the old
//! primary is demoted and every connection to it is cut: `503` with `Retry-After`, never a
//! `500` and never a half-done change; `/api/ready` says not ready; and once the database
//! takes writes again the pool, the listener and the worker recover by themselves.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection};

use crate::common::db::postgres_url;
use crate::common::receiver::Receiver;
use crate::common::{Backend, TestApp, postgres_disabled};

async fn current_database(app: &TestApp) -> String {
    let mut conn = app.state.db.acquire().await.expect("connection");
    let (name,): (String,) =
        roster::run!(&mut conn, fetch_one, sqlx::query_as("SELECT current_database()"))
            .expect("name");
    name
}

/// Makes every new session of `name` read-only, or writable again, and cuts the current ones.
async fn set_read_only(name: &str, read_only: bool) {
    let mut admin = PgConnection::connect(&postgres_url()).await.expect("admin connection");
    let value = if read_only { "on" } else { "off" };
    let alter = format!(r#"ALTER DATABASE "{name}" SET default_transaction_read_only = {value}"#);
    admin.execute(alter.as_str()).await.expect("altered");
    sqlx::query(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(name)
    .execute(&mut admin)
    .await
    .expect("sessions cut");
    admin.close().await.expect("closed");
}

/// A request's status, `Retry-After` and JSON body.
async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Option<String>, Value) {
    let res = req.send().await.expect("an answer");
    let status = res.status();
    let retry = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = res.json().await.unwrap_or(Value::Null);
    (status, retry, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_wait_out_a_read_only_database_and_resume_by_themselves() {
    if postgres_disabled() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    app.create_webhook(&f.org, &f.owner, &receiver.url, &["organization.updated"]).await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["organization:read"]).await;
    let org_path = format!("{}/api/organizations/{}", app.base, f.org);
    let rename = |name: &str| {
        app.client.patch(&org_path).bearer_auth(&f.owner.token).json(&json!({"name": name}))
    };
    let ready = || app.client.get(format!("{}/api/ready", app.base));
    let name = current_database(&app).await;

    set_read_only(&name, true).await;
    for attempt in 0..5 {
        let (status, retry, body) = send(rename(&format!("Read only {attempt}"))).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(retry.as_deref(), Some("2"), "{body}");
        assert_eq!(
            body,
            json!({"statusCode": 503,
                   "message": "The database is unavailable. Try again shortly."})
        );
    }
    // The OAuth token endpoint says so in OAuth's words, and when to come back.
    let client = Some((oauth.client_id.as_str(), oauth.client_secret.as_str()));
    let grant = [("grant_type", "client_credentials")];
    let (status, headers, body) = app.oauth_form("/api/oauth/token", client, &grant).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert_eq!(headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("2"));
    let (status, retry, body) = send(ready()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(retry.as_deref(), Some("2"));
    assert_eq!(body["message"], "Database is read-only: there is no primary to write to");
    // Reads are still served by a read-only node.
    let (status, _, body) = send(app.client.get(&org_path).bearer_auth(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Acme Corp", "no refused rename was applied: {body}");

    // A primary again: everything comes back without a restart.
    set_read_only(&name, false).await;
    let (status, _, body) = send(ready()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send(rename("Writable again")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.client_credentials_token(&oauth, None).await;
    let got = receiver.wait_for(1, std::time::Duration::from_secs(10)).await;
    assert_eq!(got[0].json()["data"]["changes"]["name"]["current"], "Writable again");
    receiver.assert_stays_at(1, std::time::Duration::from_millis(500)).await;
}
