//! PostgreSQL: a request from outside an organization is refused before it locks any of the
//! organization's rows, so outsiders cannot hold up its changes. (On SQLite every write
//! waits for the one writer, whoever sends it; there are no row locks to take.)

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

use super::org_path;
use crate::common::messages::ORG_NOT_FOUND;
use crate::common::oauth::pkce;
use crate::common::receiver::Receiver;
use crate::common::{Backend, TestApp, assert_error};

/// Long enough for any unblocked request on a loaded machine; a blocked one never answers
/// while the locks are held.
const PATIENCE: Duration = Duration::from_secs(10);

async fn promptly(
    what: &str,
    request: impl Future<Output = (StatusCode, Value)>,
) -> (StatusCode, Value) {
    let answer = tokio::time::timeout(PATIENCE, request).await;
    answer.unwrap_or_else(|_| panic!("{what} waited for a lock of another organization"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outsiders_are_refused_without_waiting_for_locks() {
    if crate::common::postgres_disabled() {
        eprintln!("ROSTER_TEST_POSTGRES=off: not running on PostgreSQL");
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).await;
    let receiver = Receiver::start().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let friend = app.register("friend").await;
    let org_a = app.create_org(&alice, "Alpha").await;
    let org_b = app.create_org(&bob, "Bravo").await;
    app.add_member(&org_b, &bob, &friend, "MEMBER").await;
    let (hook_b, _) = app.create_webhook(&org_b, &bob, &receiver.url, &["member.added"]).await;
    let oauth_b = app.create_oauth_app(&org_b, &bob, &["members:read"]).await;

    // Bob's organization and webhook are busy: another session holds their rows.
    let url = &app.db.as_ref().expect("own database").url;
    let mut busy = sqlx::PgConnection::connect(url).await.expect("second session");
    sqlx::query("BEGIN").execute(&mut busy).await.expect("begin");
    for (table, id) in
        [("organizations", &org_b), ("webhooks", &hook_b), ("oauth_apps", &oauth_b.id)]
    {
        let sql = format!("SELECT id FROM {table} WHERE id = $1::uuid FOR UPDATE");
        sqlx::query(&sql).bind(id).execute(&mut busy).await.expect("lock");
    }

    let b = org_path(&org_b);
    let token = Some(alice.token.as_str());
    let member = format!("{b}/members/{}", friend.id);
    let b_not_found = |(status, body): (StatusCode, Value)| {
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND)
    };
    b_not_found(promptly("PATCH organization", app.patch(&b, token, json!({"name": "P"}))).await);
    b_not_found(promptly("DELETE organization", app.delete(&b, token)).await);
    b_not_found(
        promptly("PATCH member", app.patch(&member, token, json!({"role": "ADMIN"}))).await,
    );
    b_not_found(promptly("DELETE member", app.delete(&member, token)).await);
    let invite = json!({"email": "x@example.com", "role": "MEMBER"});
    b_not_found(promptly("POST invite", app.post(&format!("{b}/invites"), token, invite)).await);

    // Alice manages her own organization; Bob's webhook ID under it must not lock Bob's row.
    let foreign = format!("{}/webhooks/{hook_b}", org_path(&org_a));
    let hook_not_found = |(status, body): (StatusCode, Value)| {
        assert_error(status, &body, StatusCode::NOT_FOUND, "Webhook not found")
    };
    let patch = app.patch(&foreign, token, json!({"isActive": false}));
    hook_not_found(promptly("PATCH webhook", patch).await);
    hook_not_found(promptly("DELETE webhook", app.delete(&foreign, token)).await);
    let test = format!("{foreign}/test");
    hook_not_found(promptly("test webhook", app.post(&test, token, json!({}))).await);

    // Anyone signed in may ask to authorize any app; only its organization's members get far
    // enough to hold it.
    let (_, challenge) = pkce();
    let authorize = json!({
        "response_type": "code",
        "client_id": oauth_b.client_id,
        "redirect_uri": oauth_b.redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    });
    let (status, body) =
        promptly("authorize", app.post("/api/oauth/authorize", token, authorize)).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &json!("access_denied")),
        "{body}"
    );

    sqlx::query("ROLLBACK").execute(&mut busy).await.expect("rollback");

    // Once the rows are free, Bob's own changes go through.
    let (status, body) = app.patch(&b, Some(&bob.token), json!({"name": "Bravo 2"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
