//! `/console/account`: the person's name, password, sessions and personal access tokens,
//! each form by the API's rules and in its words; another person's session or token reads as
//! missing; every form needs the sign-in's token.

use reqwest::StatusCode;
use serde_json::json;

use super::assert_same_refusal;
use crate::common::console::Console;
use crate::common::{Backend, PASSWORD, TestApp, TestUser, random_id};

const ACCOUNT: &str = "/console/account";

/// Ann, signed in to the console (and, from registering, to the API), and Bob.
async fn ann_and_bob(app: &TestApp) -> (TestUser, TestUser, Console) {
    let user = app.register("ann").await;
    let other = app.register("bob").await;
    let console = Console::signed_in(app, &user).await;
    (user, other, console)
}

/// A new API session of `user`: its access token.
async fn api_sign_in(app: &TestApp, user: &TestUser) -> String {
    let body = json!({"email": user.email, "password": PASSWORD});
    let (status, login) = app.post("/api/auth/login", None, body).await;
    assert_eq!(status, StatusCode::OK, "{login}");
    login["accessToken"].as_str().expect("a token").to_owned()
}

/// A personal access token of `user`, made through the API: its ID.
async fn personal_token(app: &TestApp, user: &TestUser) -> String {
    let body = json!({"name": "x", "currentPassword": PASSWORD});
    let (status, pat) = app.post("/api/users/me/tokens", Some(&user.token), body).await;
    assert_eq!(status, StatusCode::CREATED, "{pat}");
    pat["id"].as_str().expect("an id").to_owned()
}

async fn renaming_and_changing_the_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("ann").await;
    let console = Console::signed_in(&app, &user).await;
    let page = console.get("/console").await;
    assert!(page.shows("href=\"/console/account\">My account<"), "in the header: {}", page.body);
    let page = console.get(ACCOUNT).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.input("profile-name").as_deref(), Some("ann"), "{}", page.body);

    let saved = console.post(&format!("{ACCOUNT}/profile"), &[("name", "Ann Lee")]).await;
    assert_eq!(saved.assert_redirect(ACCOUNT), "done=profile");
    let page = console.get(&format!("{ACCOUNT}?done=profile")).await;
    assert_eq!(page.notice().as_deref(), Some("Name saved."));
    assert_eq!(page.input("profile-name").as_deref(), Some("Ann Lee"));
    let (_, me) = app.get("/api/users/me", Some(&user.token)).await;
    assert_eq!(me["name"], json!("Ann Lee"));
    let api = app.patch("/api/users/me", Some(&user.token), json!({"name": ""})).await;
    let page = console.post(&format!("{ACCOUNT}/profile"), &[("name", "")]).await;
    assert_same_refusal(api, &page);

    // The API's refusals: a wrong current password, a new one too short.
    let password = format!("{ACCOUNT}/password");
    for (current, new) in [("wrong-password", "new-password-1"), (PASSWORD, "shrt1")] {
        let body = json!({"currentPassword": current, "newPassword": new});
        let api = app.post("/api/users/me/password", Some(&user.token), body).await;
        let page =
            console.post(&password, &[("currentPassword", current), ("newPassword", new)]).await;
        assert_same_refusal(api, &page);
        assert!(!page.body.contains(new), "passwords are not shown again");
    }
    let changed = console
        .post(&password, &[("currentPassword", PASSWORD), ("newPassword", "a-new-password-2")])
        .await;
    assert_eq!(changed.assert_redirect(ACCOUNT), "done=password");
    // The API's session has ended; this browser's has not; the new password signs in.
    let (status, _) = app.get("/api/users/me", Some(&user.token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(console.get(ACCOUNT).await.status, StatusCode::OK);
    let (status, body) = app
        .post("/api/auth/login", None, json!({"email": user.email, "password": "a-new-password-2"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}

async fn signing_out_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (user, other, console) = ann_and_bob(&app).await;
    let page = console.get(ACCOUNT).await;
    assert_eq!(page.body.matches(">Sign out<").count(), 3, "header, two sessions: {}", page.body);
    assert!(page.shows("This browser"));
    let listed = app.list_all("/api/users/me/sessions", &user.token).await;
    assert_eq!(listed.len(), 2);
    let api_session = listed.iter().find(|s| s["current"] == json!(true)).expect("the API's");
    let api_id = api_session["id"].as_str().expect("an id");

    let out = console.post(&format!("{ACCOUNT}/sessions/{api_id}/revoke"), &[]).await;
    assert_eq!(out.assert_redirect(ACCOUNT), "done=session");
    let (status, _) = app.get("/api/users/me", Some(&user.token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "signed out");
    // Ended, someone else's, or never there: missing, as the API says.
    let (_, bobs) = app.get("/api/users/me/sessions", Some(&other.token)).await;
    let bobs_id = bobs["data"][0]["id"].as_str().expect("bob's session").to_owned();
    let fresh = app.register("cat").await;
    for id in [api_id.to_owned(), bobs_id, random_id()] {
        let api = app.delete(&format!("/api/users/me/sessions/{id}"), Some(&fresh.token)).await;
        let page = console.post(&format!("{ACCOUNT}/sessions/{id}/revoke"), &[]).await;
        assert_same_refusal(api, &page);
    }
    let (status, _) = app.get("/api/users/me", Some(&other.token)).await;
    assert_eq!(status, StatusCode::OK, "bob is still signed in");

    let token = api_sign_in(&app, &user).await;
    let out = console.post(&format!("{ACCOUNT}/sessions/revoke-others"), &[]).await;
    assert_eq!(out.assert_redirect(ACCOUNT), "done=others");
    let (status, _) = app.get("/api/users/me", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let page = console.get(&format!("{ACCOUNT}?done=others")).await;
    assert_eq!(page.notice().as_deref(), Some("Every other session is signed out."));

    // Signing out this browser's own session is signing out.
    let token = api_sign_in(&app, &user).await;
    let listed = app.list_all("/api/users/me/sessions", &token).await;
    let own = listed.iter().find(|s| s["current"] == json!(false)).expect("the console's");
    let own = own["id"].as_str().expect("an id");
    let out = console.post(&format!("{ACCOUNT}/sessions/{own}/revoke"), &[]).await;
    out.assert_redirect("/console/sign-in");
    console.get(ACCOUNT).await.assert_redirect("/console/sign-in");
    app.stop().await;
}

async fn personal_access_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (user, other, console) = ann_and_bob(&app).await;
    let page = console.get(ACCOUNT).await;
    assert!(page.shows("No personal access tokens"), "{}", page.body);
    let tokens = format!("{ACCOUNT}/tokens");
    for (days, password) in [("7", "wrong-password"), ("0", PASSWORD), ("soon", PASSWORD)] {
        let days_json = days.parse::<i64>().map_or(json!(days), |d| json!(d));
        let body = json!({"name": "ci", "expiresInDays": days_json, "currentPassword": password});
        let api = app.post("/api/users/me/tokens", Some(&user.token), body).await;
        let fields = [("tokenName", "ci"), ("expiresInDays", days), ("currentPassword", password)];
        let page = console.post(&tokens, &fields).await;
        assert_same_refusal(api, &page);
        assert_eq!(page.input("token-name").as_deref(), Some("ci"), "kept");
    }
    let fields = [("tokenName", "ci"), ("expiresInDays", "30"), ("currentPassword", PASSWORD)];
    let created = console.post(&tokens, &fields).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let token = created.input("secret").expect("the token is shown");
    assert!(token.starts_with("rst_pat_"), "{token}");
    let (status, me) = app.get("/api/users/me", Some(&token)).await;
    assert_eq!((status, &me["id"]), (StatusCode::OK, &json!(user.id)));
    let page = console.get(ACCOUNT).await;
    assert!(!page.body.contains(&token), "shown once");
    assert!(page.shows("<td>ci</td>"), "{}", page.body);

    let listed = app.list_all("/api/users/me/tokens", &user.token).await;
    let id = listed[0]["id"].as_str().expect("an id").to_owned();
    let revoke = format!("{tokens}/{id}/revoke");
    assert_eq!(console.post(&revoke, &[]).await.assert_redirect(ACCOUNT), "done=revoked");
    let (status, _) = app.get("/api/users/me", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Revoked, or another person's: missing, as the API says.
    let theirs = personal_token(&app, &other).await;
    for id in [id, theirs] {
        let api = app.delete(&format!("/api/users/me/tokens/{id}"), Some(&user.token)).await;
        assert_same_refusal(api, &console.post(&format!("{tokens}/{id}/revoke"), &[]).await);
    }
    assert_eq!(app.list_all("/api/users/me/tokens", &other.token).await.len(), 1);
    app.stop().await;
}

async fn account_forms_need_the_sign_ins_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("ann").await;
    let pat_id = personal_token(&app, &user).await;
    let api_session = app.list_all("/api/users/me/sessions", &user.token).await;
    let session_id = api_session[0]["id"].as_str().expect("an id");
    let stranger = Console::new(&app.base);
    stranger.get(ACCOUNT).await.assert_redirect("/console/sign-in");

    let console = Console::signed_in(&app, &user).await;
    let csrf = console.get(ACCOUNT).await.csrf().expect("a token");
    let forms: [(String, Vec<(&str, &str)>); 6] = [
        (format!("{ACCOUNT}/profile"), vec![("name", "Forged")]),
        (
            format!("{ACCOUNT}/password"),
            vec![("currentPassword", PASSWORD), ("newPassword", "forged-password")],
        ),
        (format!("{ACCOUNT}/sessions/{session_id}/revoke"), vec![]),
        (format!("{ACCOUNT}/sessions/revoke-others"), vec![]),
        (format!("{ACCOUNT}/tokens"), vec![("tokenName", "forged"), ("currentPassword", PASSWORD)]),
        (format!("{ACCOUNT}/tokens/{pat_id}/revoke"), vec![]),
    ];
    for (form, fields) in &forms {
        let page = console.post_exactly(form, fields, &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "no token: {form}");
        let mut with_token = fields.clone();
        with_token.push(("csrf_token", &csrf));
        let page =
            console.post_exactly(form, &with_token, &[("sec-fetch-site", "cross-site")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "cross-site: {form}");
    }
    let (status, me) = app.get("/api/users/me", Some(&user.token)).await;
    assert_eq!((status, &me["name"]), (StatusCode::OK, &json!("ann")), "nothing changed");
    assert_eq!(app.list_all("/api/users/me/tokens", &user.token).await.len(), 1);
    assert_eq!(app.list_all("/api/users/me/sessions", &user.token).await.len(), 2);
    app.stop().await;
}

on_both_backends!(
    renaming_and_changing_the_password,
    signing_out_sessions,
    personal_access_tokens,
    account_forms_need_the_sign_ins_token,
);
