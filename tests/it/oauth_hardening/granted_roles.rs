//! An OAuth token gives no role above MEMBER, on any route that gives one: a role outlives the
//! token, its scopes and its grant, so a narrow app must not mint a person with more power.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::code_grant;
use crate::common::messages::{ONLY_MEMBER, OWNER_INVITE_DENIED, OWNERS_ONLY};
use crate::common::oauth::{members_path, org_path};
use crate::common::{Backend, RoleFixture, TestApp, TestUser, assert_error};

const INVITE_ONLY_MEMBER: &str =
    "Access denied. Invites made with OAuth tokens can only grant the MEMBER role.";

fn invites_path(org: &str) -> String {
    format!("{}/invites", org_path(org))
}

/// `POST {email, role}` to `path`: adding a member, or inviting one.
async fn offer(
    app: &TestApp,
    path: &str,
    token: &str,
    email: &str,
    role: &str,
) -> (StatusCode, Value) {
    app.post(path, Some(token), json!({"email": email, "role": role})).await
}

async fn set_role(
    app: &TestApp,
    org: &str,
    token: &str,
    user: &TestUser,
    role: &str,
) -> (StatusCode, Value) {
    app.patch(&format!("{}/{}", members_path(org), user.id), Some(token), json!({"role": role}))
        .await
}

/// The email and role of every item of the list at `path` (members or invites), sorted, as
/// the OWNER reads them.
async fn emails_and_roles(app: &TestApp, f: &RoleFixture, path: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = app
        .list_all(path, &f.owner.token)
        .await
        .iter()
        .map(|item| {
            let text = |field: &str| item[field].as_str().expect(field).to_owned();
            (text("email"), text("role"))
        })
        .collect();
    pairs.sort();
    pairs
}

async fn roles(app: &TestApp, f: &RoleFixture) -> Vec<(String, String)> {
    emails_and_roles(app, f, &members_path(&f.org)).await
}

async fn invited(app: &TestApp, f: &RoleFixture) -> Vec<(String, String)> {
    emails_and_roles(app, f, &invites_path(&f.org)).await
}

async fn oauth_tokens_grant_only_member(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app
        .create_oauth_app(&f.org, &f.owner, &["invites:write", "members:write", "members:read"])
        .await;
    let inviter = app.client_credentials_token(&oauth, Some("invites:write")).await;
    let adder = app.client_credentials_token(&oauth, Some("members:write")).await;
    // The OWNER's own authorization: the role rules let an OWNER give any role, this does not.
    let owner_grant = code_grant(&app, &oauth, &f.owner, None).await;
    let joiner = app.register("joiner").await;
    let roles_before = roles(&app, &f).await;

    // Inviting: only MEMBERs, whoever the token acts for.
    for token in [&inviter, &owner_grant.access] {
        for role in ["ADMIN", "OWNER"] {
            let (status, body) =
                offer(&app, &invites_path(&f.org), token, "evil@example.com", role).await;
            let expected = if token == &inviter && role == "OWNER" {
                OWNER_INVITE_DENIED
            } else {
                ONLY_MEMBER
            };
            assert_error(status, &body, StatusCode::FORBIDDEN, expected);
        }
    }
    assert_eq!(invited(&app, &f).await, [], "a refused invite is not made");

    // Adding: only MEMBERs.
    for token in [&adder, &owner_grant.access] {
        let (status, body) =
            offer(&app, &members_path(&f.org), token, &joiner.email, "ADMIN").await;
        assert_error(status, &body, StatusCode::FORBIDDEN, ONLY_MEMBER);
    }
    let (status, body) =
        offer(&app, &members_path(&f.org), &owner_grant.access, &joiner.email, "OWNER").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, ONLY_MEMBER);
    let (status, body) = offer(&app, &members_path(&f.org), &adder, &joiner.email, "OWNER").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);

    // Changing roles: never up, to ADMIN or OWNER.
    for token in [&adder, &owner_grant.access] {
        let (status, body) = set_role(&app, &f.org, token, &f.member, "ADMIN").await;
        assert_error(status, &body, StatusCode::FORBIDDEN, ONLY_MEMBER);
        // Not even to the role the member has: the token names a role it cannot give.
        let (status, body) = set_role(&app, &f.org, token, &f.admin, "ADMIN").await;
        assert_error(status, &body, StatusCode::FORBIDDEN, ONLY_MEMBER);
    }
    let (status, body) = set_role(&app, &f.org, &owner_grant.access, &f.admin, "OWNER").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, ONLY_MEMBER);
    assert_eq!(roles(&app, &f).await, roles_before, "no role changed");

    // What a MEMBER's token may give stays open: MEMBER.
    let (status, body) =
        offer(&app, &invites_path(&f.org), &inviter, "carol@example.com", "MEMBER").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = offer(&app, &members_path(&f.org), &adder, &joiner.email, "MEMBER").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Taking power away gives none: an ADMIN may be made a MEMBER.
    let (status, body) = set_role(&app, &f.org, &adder, &f.admin, "MEMBER").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], json!("MEMBER"), "{body}");

    // People's own tokens are not limited this way.
    let (status, body) =
        offer(&app, &invites_path(&f.org), &f.owner.token, "dave@example.com", "ADMIN").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = set_role(&app, &f.org, &f.owner.token, &joiner, "ADMIN").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}

/// Gives an invite a role straight in the database, as a server that let OAuth tokens invite
/// ADMINs would have stored it.
async fn store_role(app: &TestApp, invite_id: &str, role: &str) {
    let id = uuid::Uuid::parse_str(invite_id).expect("invite id");
    let mut conn = app.state.db.acquire().await.expect("connection");
    let changed = roster::run!(
        &mut conn,
        execute,
        sqlx::query("UPDATE invites SET role = $2 WHERE id = $1").bind(id).bind(role)
    )
    .expect("update the invite");
    assert_eq!(changed, 1, "the invite is stored");
}

/// An invite an app made, even one stored asking for more, makes no more than a MEMBER.
async fn an_invite_made_with_an_oauth_token_makes_only_a_member(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["invites:write"]).await;
    let as_app = app.client_credentials_token(&oauth, None).await;
    let for_admin = code_grant(&app, &oauth, &f.admin, None).await;

    for (token, who) in [(&as_app, "evil"), (&for_admin.access, "sly")] {
        let email = format!("{who}@example.com");
        let (status, made) = offer(&app, &invites_path(&f.org), token, &email, "MEMBER").await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        store_role(&app, made["id"].as_str().expect("invite id"), "ADMIN").await;
        let invitee = app.register(who).await;
        let (status, body) = app
            .post("/api/invites/accept", Some(&invitee.token), json!({"token": made["token"]}))
            .await;
        assert_error(status, &body, StatusCode::FORBIDDEN, INVITE_ONLY_MEMBER);
        assert!(!roles(&app, &f).await.iter().any(|(e, _)| *e == email), "{email} did not join");
    }

    // A person's own ADMIN invite is accepted as it always was.
    let (status, made) =
        offer(&app, &invites_path(&f.org), &f.admin.token, "fine@example.com", "ADMIN").await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let invitee = app.register("fine").await;
    let (status, body) = app
        .post("/api/invites/accept", Some(&invitee.token), json!({"token": made["token"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["member"]["role"], json!("ADMIN"), "{body}");
    app.stop().await;
}

on_both_backends!(
    oauth_tokens_grant_only_member,
    an_invite_made_with_an_oauth_token_makes_only_a_member
);
