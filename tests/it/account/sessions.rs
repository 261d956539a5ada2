//! `GET /api/users/me/sessions`, `DELETE /api/users/me/sessions/{sessionId}` and
//! `DELETE /api/users/me/sessions`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    assert_token_refused, assert_token_works, create_pat, login_from, oauth_token_for, refresh,
};
use crate::common::messages::{BAD_CURSOR, BAD_UUID, OAUTH_REFUSED};
use crate::common::{
    AUTH_REQUIRED, Backend, TestApp, TestUser, assert_error, assert_timestamp, assert_validation,
    random_id, str_of,
};

const PATH: &str = "/api/users/me/sessions";
const NOT_FOUND: &str = "Session not found";

async fn sessions(app: &TestApp, user: &TestUser) -> Vec<Value> {
    app.list_all(PATH, &user.token).await
}

async fn revoke(app: &TestApp, user: &TestUser, id: &str) -> (StatusCode, Value) {
    app.delete(&format!("{PATH}/{id}"), Some(&user.token)).await
}

fn assert_session(session: &Value, agent: Option<&str>, current: bool) {
    let mut keys: Vec<&str> = session.as_object().expect("object").keys().map(|k| &**k).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["createdAt", "current", "id", "ipAddress", "lastUsedAt", "userAgent"]);
    assert_timestamp(&session["createdAt"]);
    assert_timestamp(&session["lastUsedAt"]);
    assert_eq!(session["userAgent"], json!(agent), "{session}");
    assert_eq!(session["ipAddress"], json!("127.0.0.1"), "{session}");
    assert_eq!(session["current"], json!(current), "{session}");
}

async fn sessions_list_each_sign_in_newest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let laptop = login_from(&app, &ada, "Laptop/1.0").await;
    let bob = app.register("bob").await;

    let listed = sessions(&app, &laptop).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_session(&listed[0], Some("Laptop/1.0"), true);
    assert_session(&listed[1], None, false);
    // The other session sees the same two, with itself as the current one.
    let from_register = sessions(&app, &ada).await;
    assert_eq!(from_register[0]["current"], json!(false));
    assert_eq!(from_register[1]["current"], json!(true));
    assert_eq!(sessions(&app, &bob).await.len(), 1);

    // Pages of one.
    let (status, page) = app.get(&format!("{PATH}?limit=1"), Some(&ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["data"][0]["id"], listed[0]["id"]);
    let next = str_of(&page, "nextCursor");
    let (status, page) = app.get(&format!("{PATH}?limit=1&cursor={next}"), Some(&ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["data"][0]["id"], listed[1]["id"]);
    assert_eq!(page["nextCursor"], Value::Null);
    for (query, message) in
        [("?limit=0", "limit must not be less than 1"), ("?cursor=!!", BAD_CURSOR)]
    {
        let (status, body) = app.get(&format!("{PATH}{query}"), Some(&ada.token)).await;
        assert_validation(status, &body, &[message]);
    }
    app.stop().await;
}

async fn refreshing_and_using_a_session_keep_it_and_its_last_use(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let before = sessions(&app, &ada).await;
    assert_eq!(before.len(), 1);

    app.advance(Duration::from_secs(5 * 60));
    let (status, body) = refresh(&app, &ada.refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = str_of(&body, "accessToken").to_owned();
    let after = app.list_all(PATH, &token).await;
    assert_eq!(after.len(), 1, "a refresh continues the session: {after:?}");
    assert_eq!(after[0]["id"], before[0]["id"]);
    assert_eq!(after[0]["createdAt"], before[0]["createdAt"]);
    assert_ne!(after[0]["lastUsedAt"], before[0]["lastUsedAt"]);

    // Use of an access token counts too, to the minute.
    app.advance(Duration::from_secs(2 * 60));
    assert_token_works(&app, &token).await;
    let used = app.list_all(PATH, &token).await;
    assert_ne!(used[0]["lastUsedAt"], after[0]["lastUsedAt"]);
    app.stop().await;
}

async fn revoking_a_session_ends_its_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let laptop = login_from(&app, &ada, "Laptop/1.0").await;
    let bob = app.register("bob").await;
    let laptop_id = sessions(&app, &laptop).await[0]["id"].as_str().expect("id").to_owned();

    // Another person's session reads as missing and keeps working.
    let (status, body) = revoke(&app, &bob, &laptop_id).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, NOT_FOUND);
    assert_token_works(&app, &laptop.token).await;

    let (status, body) = revoke(&app, &ada, &laptop_id).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_token_refused(&app, &laptop.token).await;
    let (status, _) = refresh(&app, &laptop.refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_token_works(&app, &ada.token).await;
    let left = sessions(&app, &ada).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["current"], json!(true));

    let (status, body) = revoke(&app, &ada, &laptop_id).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, NOT_FOUND);
    let (status, body) = revoke(&app, &ada, &random_id()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, NOT_FOUND);
    let (status, body) = revoke(&app, &ada, "not-a-uuid").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    app.stop().await;
}

async fn a_logged_out_session_is_not_listed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let laptop = login_from(&app, &ada, "Laptop/1.0").await;
    let (status, _) = app.post("/api/auth/logout", Some(&laptop.token), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(sessions(&app, &ada).await.len(), 1);
    app.stop().await;
}

async fn revoking_other_sessions_keeps_the_current_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let laptop = login_from(&app, &ada, "Laptop/1.0").await;
    let phone = login_from(&app, &ada, "Phone/2.0").await;
    let pat = create_pat(&app, &ada).await;
    let bob = app.register("bob").await;

    let (status, body) = app.delete(PATH, Some(&phone.token)).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_token_refused(&app, &ada.token).await;
    assert_token_refused(&app, &laptop.token).await;
    assert_token_works(&app, &phone.token).await;
    assert_token_works(&app, &pat).await;
    assert_token_works(&app, &bob.token).await;
    let left = sessions(&app, &phone).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_session(&left[0], Some("Phone/2.0"), true);

    // A personal access token is in no session: with one, every session ends.
    let (status, _) = app.delete(PATH, Some(&pat)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_token_refused(&app, &phone.token).await;
    assert_token_works(&app, &pat).await;
    assert_eq!(app.list_all(PATH, &pat).await, Vec::<Value>::new());
    app.stop().await;
}

async fn session_routes_refuse_anonymous_and_oauth_callers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = oauth_token_for(&app, &f.org, &f.owner, &f.member).await;
    let member_session = sessions(&app, &f.member).await[0]["id"].as_str().expect("id").to_owned();
    let one = format!("{PATH}/{member_session}");
    for (method, path) in [
        (reqwest::Method::GET, PATH),
        (reqwest::Method::DELETE, PATH),
        (reqwest::Method::DELETE, &one),
    ] {
        let (status, body) = app.call(method.clone(), path, None, None).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        let (status, body) = app.call(method.clone(), path, Some(&oauth), None).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, OAUTH_REFUSED);
    }
    assert_token_works(&app, &f.member.token).await;
    app.stop().await;
}

on_both_backends!(
    sessions_list_each_sign_in_newest_first,
    refreshing_and_using_a_session_keep_it_and_its_last_use,
    revoking_a_session_ends_its_tokens,
    a_logged_out_session_is_not_listed,
    revoking_other_sessions_keeps_the_current_one,
    session_routes_refuse_anonymous_and_oauth_callers,
);
