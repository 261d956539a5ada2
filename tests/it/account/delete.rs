//! `DELETE /api/users/me`: deleting one's account.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{assert_token_refused, assert_token_works, create_pat, oauth_token_for, refresh};
use crate::common::messages::{BAD_LOGIN, OAUTH_REFUSED, WRONG_PASSWORD};
use crate::common::{
    AUTH_REQUIRED, Backend, PASSWORD, TestApp, TestUser, assert_error, assert_validation, str_of,
};

const PATH: &str = "/api/users/me";

async fn delete_account(app: &TestApp, token: &str, password: &str) -> (StatusCode, Value) {
    let body = json!({"currentPassword": password});
    app.call(Method::DELETE, PATH, Some(token), Some(body)).await
}

async fn org_named(app: &TestApp, owner: &TestUser, name: &str) -> String {
    app.create_org(owner, name).await
}

async fn the_last_owner_of_organizations_is_told_which(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let beta = org_named(&app, &ada, "Beta").await;
    org_named(&app, &ada, "Acme").await;
    // Shared ownership does not hold her back.
    let gamma = org_named(&app, &ada, "Gamma").await;
    app.add_member(&gamma, &ada, &bob, "OWNER").await;

    let (status, body) = delete_account(&app, &ada.token, PASSWORD).await;
    let message = "You are the last owner of Acme, Beta. Transfer ownership or delete them first.";
    assert_error(status, &body, StatusCode::CONFLICT, message);
    assert_token_works(&app, &ada.token).await;
    assert_eq!(app.event_types(&gamma, &bob).await, ["organization.created", "member.added"]);

    // One left: it is named alone.
    app.add_member(&beta, &ada, &bob, "OWNER").await;
    let (status, body) = delete_account(&app, &ada.token, PASSWORD).await;
    let message = "You are the last owner of Acme. Transfer ownership or delete it first.";
    assert_error(status, &body, StatusCode::CONFLICT, message);
    app.stop().await;
}

async fn a_deleted_account_leaves_everything_and_its_address_is_free(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let ada = &f.admin;
    // Ada co-owns another organization: she leaves it too.
    let shared = app.create_org(&f.owner, "Shared Corp").await;
    app.add_member(&shared, &f.owner, ada, "OWNER").await;
    let pat = create_pat(&app, ada).await;
    let oauth = oauth_token_for(&app, &f.org, &f.owner, ada).await;

    let (status, body) = delete_account(&app, &ada.token, PASSWORD).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));

    // Every credential ends.
    assert_token_refused(&app, &ada.token).await;
    assert_token_refused(&app, &pat).await;
    assert_eq!(refresh(&app, &ada.refresh).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) =
        app.get(&format!("/api/organizations/{}/members", f.org), Some(&oauth)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let login = json!({"email": ada.email, "password": PASSWORD});
    let (status, body) = app.post("/api/auth/login", None, login.clone()).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, BAD_LOGIN);

    // The other members see her leave, as if she had left herself.
    for (org, role) in [(&f.org, "ADMIN"), (&shared, "OWNER")] {
        let members =
            app.list_all(&format!("/api/organizations/{org}/members"), &f.owner.token).await;
        assert!(members.iter().all(|m| m["userId"] != json!(ada.id)), "{members:?}");
        let events = app.events(org, &f.owner).await;
        let removed = &events[0];
        assert_eq!(removed["event"], "member.removed", "{removed}");
        assert_eq!(
            removed["data"],
            json!({"userId": ada.id, "email": ada.email, "role": role,
                   "actor": {"type": "user", "id": ada.id}})
        );
        // What was recorded before stays as it was.
        let added = events
            .iter()
            .find(|e| e["event"] == "member.added" && e["data"]["userId"] == json!(ada.id))
            .expect("her member.added");
        assert_eq!(added["data"]["email"], json!(ada.email), "{added}");
    }
    // The others carry on.
    assert_token_works(&app, &f.member.token).await;

    // Her address can be registered again, as a new account.
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": ada.email, "password": "another password", "name": "Ada again"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_ne!(body["user"]["id"], json!(ada.id));
    let again = str_of(&body, "accessToken");
    let (_, orgs) = app.get("/api/organizations", Some(again)).await;
    assert_eq!(orgs["data"], json!([]), "nothing of the old account comes back");
    app.stop().await;
}

async fn deleting_takes_the_current_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let (status, body) = delete_account(&app, &ada.token, "not the password").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, WRONG_PASSWORD);
    assert_token_works(&app, &ada.token).await;

    let cases = [
        (json!({}), vec!["currentPassword must be a string"]),
        (json!({"currentPassword": ""}), vec!["currentPassword should not be empty"]),
        (
            json!({"currentPassword": PASSWORD, "confirm": true}),
            vec!["property confirm should not exist"],
        ),
    ];
    for (body, messages) in cases {
        let (status, res) = app.call(Method::DELETE, PATH, Some(&ada.token), Some(body)).await;
        assert_validation(status, &res, &messages);
    }
    assert_token_works(&app, &ada.token).await;
    app.stop().await;
}

async fn deleting_refuses_anonymous_and_oauth_callers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = oauth_token_for(&app, &f.org, &f.owner, &f.member).await;
    let body = json!({"currentPassword": PASSWORD});
    let (status, res) = app.call(Method::DELETE, PATH, None, Some(body.clone())).await;
    assert_error(status, &res, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, res) = app.call(Method::DELETE, PATH, Some(&oauth), Some(body)).await;
    assert_error(status, &res, StatusCode::FORBIDDEN, OAUTH_REFUSED);
    assert_token_works(&app, &f.member.token).await;
    app.stop().await;
}

on_both_backends!(
    the_last_owner_of_organizations_is_told_which,
    a_deleted_account_leaves_everything_and_its_address_is_free,
    deleting_takes_the_current_password,
    deleting_refuses_anonymous_and_oauth_callers,
);
