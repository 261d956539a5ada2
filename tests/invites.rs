//! Invites over real HTTP, on SQLite and PostgreSQL: creating them (who may invite which role,
//! the body shown once with its token, conflicts, validation), listing and filtering them,
//! expiry, cancelling, accepting (by the invited email only, once), the events each step
//! records, the concurrent-accept race, and tenant isolation.
mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{AUTH_REQUIRED, Backend, TestApp, TestUser, assert_error, assert_validation};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ORG_NOT_FOUND: &str = "Organization not found";
const INVITE_NOT_FOUND: &str = "Invite not found";
const INVITE_DENIED: &str = "Access denied. Only owners and admins can invite members.";
const OWNER_INVITE_DENIED: &str = "Access denied. Only owners can invite owners.";
const VIEW_DENIED: &str = "Access denied. Only owners and admins can view invites.";
const CANCEL_DENIED: &str = "Access denied. Only owners and admins can cancel invites.";
const ALREADY_MEMBER: &str = "User is already a member of this organization";
const ALREADY_PENDING: &str = "An invite is already pending for this email";
const ALREADY_ACCEPTED: &str = "Invite has already been accepted";
const WAS_CANCELLED: &str = "Invite has been cancelled";
const HAS_EXPIRED: &str = "Invite has expired";
const OTHER_EMAIL: &str = "This invite was sent to another email address";
const BAD_ROLE: &str = "role must be one of the following values: OWNER, ADMIN, MEMBER";
const BAD_EMAIL: &str = "email must be an email";
const BAD_STATUS: &str =
    "status must be one of the following values: pending, accepted, cancelled, expired";
const BAD_UUID: &str = "Validation failed (uuid is expected)";
const BAD_CURSOR: &str = "cursor must be a cursor returned by a previous page";
const TOKEN_NOT_STRING: &str = "token must be a string";
const TOKEN_EMPTY: &str = "token should not be empty";

const ROLES: [&str; 3] = ["OWNER", "ADMIN", "MEMBER"];
const SEVEN_DAYS_MS: i64 = 7 * 24 * 3600 * 1000;
const ACCEPT_PATH: &str = "/api/invites/accept";

fn invites_path(org: &str) -> String {
    format!("/api/organizations/{org}/invites")
}

fn invite_path(org: &str, invite_id: &str) -> String {
    format!("/api/organizations/{org}/invites/{invite_id}")
}

fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_else(|| panic!("{field} is a string: {value}"))
}

fn time_of(value: &Value, field: &str) -> chrono::DateTime<chrono::FixedOffset> {
    let text = str_of(value, field);
    assert!(text.ends_with('Z'), "{field} in UTC with a Z suffix: {text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{field} is RFC 3339 ({text}): {e}"))
}

/// Creates an invite as `by` and returns the 201 body (the Invite plus its token).
async fn invite(app: &TestApp, org: &str, by: &TestUser, email: &str, role: &str) -> Value {
    let (status, body) =
        app.post(&invites_path(org), Some(&by.token), json!({"email": email, "role": role})).await;
    assert_eq!(status, StatusCode::CREATED, "invite {email} as {role}: {body}");
    body
}

async fn accept(app: &TestApp, user: &TestUser, token: &str) -> (StatusCode, Value) {
    app.post(ACCEPT_PATH, Some(&user.token), json!({"token": token})).await
}

/// Every invite of `org` (optionally with `?status=`) on one page, newest first.
async fn list_all(app: &TestApp, org: &str, viewer: &TestUser, status: Option<&str>) -> Vec<Value> {
    let mut path = format!("{}?limit=100", invites_path(org));
    if let Some(s) = status {
        path.push_str(&format!("&status={s}"));
    }
    let (code, body) = app.get(&path, Some(&viewer.token)).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["nextCursor"], Value::Null, "{body}");
    body["data"].as_array().expect("data").clone()
}

fn ids(list: &[Value]) -> Vec<String> {
    list.iter().map(|i| str_of(i, "id").to_owned()).collect()
}

/// The organization's events, oldest first, as an OWNER or ADMIN reads them.
async fn events(app: &TestApp, org: &str, viewer: &TestUser) -> Vec<Value> {
    let (status, body) =
        app.get(&format!("/api/organizations/{org}/events?limit=100"), Some(&viewer.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["nextCursor"], Value::Null, "{body}");
    let mut all = body["data"].as_array().expect("data").clone();
    all.reverse();
    all
}

/// The organization's events of one type, oldest first.
async fn events_of(app: &TestApp, org: &str, viewer: &TestUser, kind: &str) -> Vec<Value> {
    let all = events(app, org, viewer).await;
    let found: Vec<Value> = all.into_iter().filter(|e| e["event"] == json!(kind)).collect();
    // The ?event= filter agrees with the full log.
    let (status, body) = app
        .get(
            &format!("/api/organizations/{org}/events?limit=100&event={kind}"),
            Some(&viewer.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut filtered = body["data"].as_array().expect("data").clone();
    filtered.reverse();
    assert_eq!(filtered, found);
    found
}

fn actor(user: &TestUser) -> Value {
    json!({"type": "user", "id": user.id})
}

/// An Invite object without a token: exactly its nine fields, with these values.
fn assert_invite(
    value: &Value,
    org: &str,
    email: &str,
    role: &str,
    status: &str,
    invited_by: &TestUser,
) {
    let object = value.as_object().unwrap_or_else(|| panic!("invite is an object: {value}"));
    let keys: HashSet<&str> = object.keys().map(String::as_str).collect();
    let expected: HashSet<&str> = [
        "id",
        "organizationId",
        "email",
        "role",
        "status",
        "invitedBy",
        "expiresAt",
        "createdAt",
        "updatedAt",
    ]
    .into();
    assert_eq!(keys, expected, "{value}");
    uuid::Uuid::parse_str(str_of(value, "id")).expect("id is a UUID");
    assert_eq!(value["organizationId"], json!(org), "{value}");
    assert_eq!(value["email"], json!(email), "{value}");
    assert_eq!(value["role"], json!(role), "{value}");
    assert_eq!(value["status"], json!(status), "{value}");
    assert_eq!(value["invitedBy"], json!(invited_by.id), "{value}");
    let created = time_of(value, "createdAt");
    let updated = time_of(value, "updatedAt");
    time_of(value, "expiresAt");
    assert!(updated >= created, "{value}");
}

/// The 201 body of a create: the Invite, pending, plus a `rst_inv_` token; expires in 7 days.
fn assert_created(
    value: &Value,
    org: &str,
    email: &str,
    role: &str,
    invited_by: &TestUser,
    ttl_ms: i64,
) {
    let mut invite = value.clone();
    let token = invite.as_object_mut().expect("object").remove("token").expect("token present");
    let token = token.as_str().expect("token is a string");
    assert!(token.starts_with("rst_inv_") && token.len() > "rst_inv_".len() + 16, "{token}");
    assert_invite(&invite, org, email, role, "pending", invited_by);
    assert_eq!(value["createdAt"], value["updatedAt"], "{value}");
    let lifetime = time_of(value, "expiresAt") - time_of(value, "createdAt");
    assert_eq!(lifetime.num_milliseconds(), ttl_ms, "{value}");
}

/// A Member object, exactly `{userId, organizationId, email, name, role, createdAt, updatedAt}`.
fn assert_member(value: &Value, org: &str, user: &TestUser, role: &str) {
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
    time_of(value, "createdAt");
    time_of(value, "updatedAt");
}

/// userId → role of every member of `org`.
async fn member_roles(app: &TestApp, org: &str, viewer: &TestUser) -> Vec<(String, String)> {
    let (status, body) =
        app.get(&format!("/api/organizations/{org}/members?limit=100"), Some(&viewer.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|m| (str_of(m, "userId").to_owned(), str_of(m, "role").to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// POST /api/organizations/{id}/invites

async fn owner_invites_any_role(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    for role in ROLES {
        let email = format!("new-{}@example.com", role.to_lowercase());
        let body = invite(&app, &f.org, &f.owner, &email, role).await;
        assert_created(&body, &f.org, &email, role, &f.owner, SEVEN_DAYS_MS);
    }
    let listed = list_all(&app, &f.org, &f.owner, None).await;
    assert_eq!(listed.len(), 3);
    let roles: Vec<&str> = listed.iter().map(|i| str_of(i, "role")).collect();
    assert_eq!(roles, ["MEMBER", "ADMIN", "OWNER"], "newest first");
    for i in &listed {
        assert_invite(i, &f.org, str_of(i, "email"), str_of(i, "role"), "pending", &f.owner);
    }
    app.stop().await;
}

async fn admin_invites_members_and_admins_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;

    let (status, body) = app
        .post(
            &invites_path(&f.org),
            Some(&f.admin.token),
            json!({"email": "boss@example.com", "role": "OWNER"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNER_INVITE_DENIED);
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert!(list_all(&app, &f.org, &f.owner, None).await.is_empty());

    for role in ["MEMBER", "ADMIN"] {
        let email = format!("by-admin-{}@example.com", role.to_lowercase());
        let body = invite(&app, &f.org, &f.admin, &email, role).await;
        assert_created(&body, &f.org, &email, role, &f.admin, SEVEN_DAYS_MS);
    }
    let created = events_of(&app, &f.org, &f.owner, "invite.created").await;
    assert_eq!(created.len(), 2);
    for e in &created {
        assert_eq!(e["data"]["actor"], actor(&f.admin), "{e}");
    }
    app.stop().await;
}

async fn member_outsider_and_anonymous_cannot_invite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;
    let path = invites_path(&f.org);

    for role in ROLES {
        let body = json!({"email": "someone@example.com", "role": role});
        let (status, resp) = app.post(&path, Some(&f.member.token), body.clone()).await;
        assert_error(status, &resp, StatusCode::FORBIDDEN, INVITE_DENIED);
        let (status, resp) = app.post(&path, Some(&f.outsider.token), body.clone()).await;
        assert_error(status, &resp, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        let (status, resp) = app.post(&path, None, body.clone()).await;
        assert_error(status, &resp, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        let (status, resp) = app.post(&path, Some("rst_at_not-a-real-token"), body).await;
        assert_error(status, &resp, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
    // The outsider cannot invite itself in either.
    let (status, resp) = app
        .post(&path, Some(&f.outsider.token), json!({"email": f.outsider.email, "role": "OWNER"}))
        .await;
    assert_error(status, &resp, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, resp) = app
        .post(
            &invites_path(&missing),
            Some(&f.owner.token),
            json!({"email": "someone@example.com", "role": "MEMBER"}),
        )
        .await;
    assert_error(status, &resp, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, resp) = app
        .post(
            &invites_path("not-a-uuid"),
            Some(&f.owner.token),
            json!({"email": "someone@example.com", "role": "MEMBER"}),
        )
        .await;
    assert_error(status, &resp, StatusCode::BAD_REQUEST, BAD_UUID);

    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert!(list_all(&app, &f.org, &f.owner, None).await.is_empty());
    app.stop().await;
}

async fn create_event_never_carries_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;
    let body = invite(&app, &f.org, &f.owner, "Dana@Example.com", "ADMIN").await;
    // The address is kept as given.
    assert_created(&body, &f.org, "Dana@Example.com", "ADMIN", &f.owner, SEVEN_DAYS_MS);
    let token = str_of(&body, "token").to_owned();

    let log = events(&app, &f.org, &f.owner).await;
    assert_eq!(log.len(), before.len() + 1);
    let event = log.last().expect("event");
    assert_eq!(event["event"], json!("invite.created"), "{event}");
    assert_eq!(event["organization"]["id"], json!(f.org), "{event}");
    assert_eq!(
        event["data"],
        json!({
            "inviteId": body["id"],
            "email": "Dana@Example.com",
            "role": "ADMIN",
            "expiresAt": body["expiresAt"],
            "actor": actor(&f.owner),
        }),
        "{event}"
    );
    time_of(event, "timestamp");

    // The token appears nowhere after the create: not in the event log (as an OWNER or an
    // ADMIN reads it) and not in the invite list.
    for viewer in [&f.owner, &f.admin] {
        let (status, all) = app
            .get(&format!("/api/organizations/{}/events?limit=100", f.org), Some(&viewer.token))
            .await;
        assert_eq!(status, StatusCode::OK);
        let text = all.to_string();
        assert!(!text.contains(&token), "token leaked into events: {text}");
        assert!(!text.contains(&token["rst_inv_".len()..]), "token leaked into events: {text}");
        let (status, list) = app.get(&invites_path(&f.org), Some(&viewer.token)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!list.to_string().contains(&token), "token leaked into list: {list}");
    }
    let listed = list_all(&app, &f.org, &f.owner, None).await;
    assert_eq!(listed.len(), 1);
    let mut without_token = body.clone();
    without_token.as_object_mut().expect("object").remove("token");
    assert_eq!(listed[0], without_token);
    app.stop().await;
}

async fn create_conflicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = invites_path(&f.org);
    let owner = Some(f.owner.token.as_str());

    // Existing members, in any case of their email, for any role.
    for user in [&f.owner, &f.admin, &f.member] {
        for email in [user.email.clone(), user.email.to_uppercase()] {
            for role in ROLES {
                let (status, body) =
                    app.post(&path, owner, json!({"email": email, "role": role})).await;
                assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);
            }
        }
    }
    let (status, body) = app
        .post(&path, Some(&f.admin.token), json!({"email": f.member.email, "role": "MEMBER"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);
    assert!(list_all(&app, &f.org, &f.owner, None).await.is_empty());

    // A second pending invite for the same address, in any case, by anyone, for any role.
    let first = invite(&app, &f.org, &f.admin, "Pat@Example.com", "MEMBER").await;
    let before = app.event_types(&f.org, &f.owner).await;
    for (by, email, role) in [
        (&f.owner, "Pat@Example.com", "MEMBER"),
        (&f.owner, "pat@example.com", "OWNER"),
        (&f.admin, "PAT@EXAMPLE.COM", "ADMIN"),
        (&f.admin, "  pat@example.COM ", "MEMBER"),
    ] {
        let (status, body) =
            app.post(&path, Some(&by.token), json!({"email": email, "role": role})).await;
        assert_error(status, &body, StatusCode::CONFLICT, ALREADY_PENDING);
    }
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert_eq!(ids(&list_all(&app, &f.org, &f.owner, None).await), [str_of(&first, "id")]);

    // Once cancelled, the address may be invited again.
    let (status, body) = app.delete(&invite_path(&f.org, str_of(&first, "id")), owner).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let second = invite(&app, &f.org, &f.owner, "pat@example.com", "ADMIN").await;
    assert_created(&second, &f.org, "pat@example.com", "ADMIN", &f.owner, SEVEN_DAYS_MS);

    // Once accepted, the address belongs to a member.
    let pat = app.register("pat").await;
    let (status, body) = accept(&app, &pat, str_of(&second, "token")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        app.post(&path, owner, json!({"email": "PAT@example.com", "role": "MEMBER"})).await;
    assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);

    // A pending invite in one organization does not block another.
    let other = app.create_org(&f.outsider, "Other Org").await;
    invite(&app, &f.org, &f.owner, "quinn@example.com", "MEMBER").await;
    let body = invite(&app, &other, &f.outsider, "QUINN@example.com", "MEMBER").await;
    assert_created(&body, &other, "QUINN@example.com", "MEMBER", &f.outsider, SEVEN_DAYS_MS);
    app.stop().await;
}

async fn create_validation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;
    let path = invites_path(&f.org);
    let owner = Some(f.owner.token.as_str());

    for bad in [
        json!("not-an-email"),
        json!("someone@"),
        json!("@example.com"),
        json!("a b@example.com"),
        json!(""),
        json!(42),
        json!(null),
        json!(["x@example.com"]),
    ] {
        let (status, body) = app.post(&path, owner, json!({"email": bad, "role": "MEMBER"})).await;
        assert_validation(status, &body, &[BAD_EMAIL]);
    }
    for bad in [
        json!("owner"),
        json!("Member"),
        json!("SUPERUSER"),
        json!(""),
        json!(1),
        json!(null),
        json!(["OWNER"]),
    ] {
        let (status, body) =
            app.post(&path, owner, json!({"email": "x@example.com", "role": bad})).await;
        assert_validation(status, &body, &[BAD_ROLE]);
    }
    let (status, body) = app.post(&path, owner, json!({"email": "x@example.com"})).await;
    assert_validation(status, &body, &[BAD_ROLE]);
    let (status, body) = app.post(&path, owner, json!({"role": "MEMBER"})).await;
    assert_validation(status, &body, &[BAD_EMAIL]);
    let (status, body) = app.post(&path, owner, json!({})).await;
    assert_validation(status, &body, &[BAD_EMAIL, BAD_ROLE]);
    let (status, body) = app
        .post(&path, owner, json!({"email": "x@example.com", "role": "MEMBER", "token": "mine"}))
        .await;
    assert_validation(status, &body, &["property token should not exist"]);
    let (status, body) = app
        .post(&path, owner, json!({"email": "nope", "role": "nope", "expiresAt": "2099-01-01"}))
        .await;
    assert_validation(status, &body, &["property expiresAt should not exist", BAD_EMAIL, BAD_ROLE]);
    // Validation comes before permission.
    let (status, body) = app
        .post(&path, Some(&f.member.token), json!({"email": "x@example.com", "role": "x"}))
        .await;
    assert_validation(status, &body, &[BAD_ROLE]);

    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&f.owner.token)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body, json!({"statusCode": 400, "message": "Request body must be valid JSON"}));

    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert!(list_all(&app, &f.org, &f.owner, None).await.is_empty());
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// GET /api/organizations/{id}/invites

async fn list_invites_permissions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let created = invite(&app, &f.org, &f.owner, "x@example.com", "MEMBER").await;

    for viewer in [&f.owner, &f.admin] {
        let (status, body) = app.get(&invites_path(&f.org), Some(&viewer.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body.as_object().expect("page");
        assert_eq!(
            page.keys().map(String::as_str).collect::<HashSet<_>>(),
            ["data", "nextCursor"].into()
        );
        assert_eq!(body["nextCursor"], Value::Null);
        assert_eq!(body["data"].as_array().expect("data").len(), 1);
        assert_invite(&body["data"][0], &f.org, "x@example.com", "MEMBER", "pending", &f.owner);
        assert_eq!(body["data"][0]["id"], created["id"]);
    }
    let (status, body) = app.get(&invites_path(&f.org), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, VIEW_DENIED);
    let (status, body) =
        app.get(&format!("{}?status=pending", invites_path(&f.org)), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, VIEW_DENIED);
    let (status, body) = app.get(&invites_path(&f.org), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, body) = app.get(&invites_path(&missing), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.get(&invites_path("not-a-uuid"), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app.get(&invites_path(&f.org), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    app.stop().await;
}

async fn list_invites_paginates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let mut created = Vec::new();
    for i in 0..5 {
        let body = invite(&app, &f.org, &f.admin, &format!("p{i}@example.com"), "MEMBER").await;
        created.push(str_of(&body, "id").to_owned());
    }
    let everyone = list_all(&app, &f.org, &f.owner, None).await;
    created.reverse();
    assert_eq!(ids(&everyone), created, "newest first");
    let times: Vec<_> = everyone.iter().map(|i| time_of(i, "createdAt")).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // Without ?limit= a page holds up to 20.
    let (status, body) = app.get(&invites_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(body["data"].as_array().expect("data")), created);

    for limit in [1usize, 2, 4, 5] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("{}?limit={limit}", invites_path(&f.org));
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, body) = app.get(&path, Some(&f.admin.token)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            pages += 1;
            assert!(pages <= 5, "pagination ends: {body}");
            let data = body["data"].as_array().expect("data");
            assert!(!data.is_empty() && data.len() <= limit, "page size: {body}");
            seen.extend(ids(data));
            match &body["nextCursor"] {
                Value::Null => break,
                Value::String(next) => cursor = Some(next.clone()),
                other => panic!("nextCursor is a string or null: {other}"),
            }
        }
        assert_eq!(seen, created, "limit {limit}");
        assert_eq!(pages, 5usize.div_ceil(limit), "limit {limit}");
    }
    // Pagination composes with the status filter.
    let (status, body) = app
        .get(&format!("{}?status=pending&limit=2", invites_path(&f.org)), Some(&f.owner.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(body["data"].as_array().expect("data")), created[..2]);
    let next = body["nextCursor"].as_str().expect("another page");
    let (status, body) = app
        .get(
            &format!("{}?status=pending&limit=2&cursor={next}", invites_path(&f.org)),
            Some(&f.owner.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(body["data"].as_array().expect("data")), created[2..4]);

    for bad in ["***", "bm90LWEtY3Vyc29y"] {
        let (status, body) =
            app.get(&format!("{}?cursor={bad}", invites_path(&f.org)), Some(&f.owner.token)).await;
        assert_validation(status, &body, &[BAD_CURSOR]);
    }
    let (status, body) =
        app.get(&format!("{}?limit=0", invites_path(&f.org)), Some(&f.owner.token)).await;
    assert_validation(status, &body, &["limit must not be less than 1"]);
    let (status, body) =
        app.get(&format!("{}?limit=101", invites_path(&f.org)), Some(&f.owner.token)).await;
    assert_validation(status, &body, &["limit must not be greater than 100"]);
    app.stop().await;
}

async fn list_invites_filters_by_status(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let accepted = invite(&app, &f.org, &f.owner, "acc@example.com", "ADMIN").await;
    let cancelled = invite(&app, &f.org, &f.owner, "can@example.com", "MEMBER").await;
    let pending = invite(&app, &f.org, &f.admin, "pen@example.com", "MEMBER").await;
    let acc = app.register("acc").await;
    let (status, body) = accept(&app, &acc, str_of(&accepted, "token")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        app.delete(&invite_path(&f.org, str_of(&cancelled, "id")), Some(&f.admin.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let all = list_all(&app, &f.org, &f.owner, None).await;
    assert_eq!(
        ids(&all),
        [str_of(&pending, "id"), str_of(&cancelled, "id"), str_of(&accepted, "id")]
    );
    assert_invite(&all[0], &f.org, "pen@example.com", "MEMBER", "pending", &f.admin);
    assert_invite(&all[1], &f.org, "can@example.com", "MEMBER", "cancelled", &f.owner);
    assert_invite(&all[2], &f.org, "acc@example.com", "ADMIN", "accepted", &f.owner);
    for (status, expected) in
        [("pending", &pending), ("accepted", &accepted), ("cancelled", &cancelled)]
    {
        let listed = list_all(&app, &f.org, &f.admin, Some(status)).await;
        assert_eq!(ids(&listed), [str_of(expected, "id")], "status={status}");
        assert_eq!(listed[0]["status"], json!(status));
    }
    assert!(list_all(&app, &f.org, &f.owner, Some("expired")).await.is_empty());

    for bad in ["PENDING", "active", "", "pending,accepted"] {
        let (status, body) =
            app.get(&format!("{}?status={bad}", invites_path(&f.org)), Some(&f.owner.token)).await;
        assert_validation(status, &body, &[BAD_STATUS]);
    }
    app.stop().await;
}

async fn expired_invites(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.invite_ttl = Duration::from_millis(300)).await;
    let f = app.org_with_roles().await;
    let late = app.register("late").await;
    let old = invite(&app, &f.org, &f.owner, "late@example.com", "ADMIN").await;
    assert_created(&old, &f.org, "late@example.com", "ADMIN", &f.owner, 300);
    let other = invite(&app, &f.org, &f.admin, "other@example.com", "MEMBER").await;
    // Waiting for the invites to run out, not for the server.
    tokio::time::sleep(Duration::from_millis(800)).await;

    let all = list_all(&app, &f.org, &f.owner, None).await;
    assert_eq!(ids(&all), [str_of(&other, "id"), str_of(&old, "id")]);
    assert_invite(&all[0], &f.org, "other@example.com", "MEMBER", "expired", &f.admin);
    assert_invite(&all[1], &f.org, "late@example.com", "ADMIN", "expired", &f.owner);
    assert_eq!(ids(&list_all(&app, &f.org, &f.owner, Some("expired")).await), ids(&all));
    for status in ["pending", "accepted", "cancelled"] {
        assert!(list_all(&app, &f.org, &f.owner, Some(status)).await.is_empty(), "{status}");
    }

    // Neither accepted nor cancelled once expired.
    let (status, body) = accept(&app, &late, str_of(&old, "token")).await;
    assert_error(status, &body, StatusCode::GONE, HAS_EXPIRED);
    let (status, body) =
        app.delete(&invite_path(&f.org, str_of(&old, "id")), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Invite is expired");
    assert!(!member_roles(&app, &f.org, &f.owner).await.iter().any(|(id, _)| *id == late.id));

    // A new invite to the same address is allowed, in any case; the old one stays expired.
    let before = events_of(&app, &f.org, &f.owner, "invite.created").await.len();
    let fresh = invite(&app, &f.org, &f.owner, "LATE@example.com", "MEMBER").await;
    assert_created(&fresh, &f.org, "LATE@example.com", "MEMBER", &f.owner, 300);
    assert_ne!(fresh["id"], old["id"]);
    assert_eq!(events_of(&app, &f.org, &f.owner, "invite.created").await.len(), before + 1);
    let all = list_all(&app, &f.org, &f.owner, None).await;
    assert_eq!(ids(&all), [str_of(&fresh, "id"), str_of(&other, "id"), str_of(&old, "id")]);
    assert_eq!(all[2]["status"], json!("expired"));
    // The expired invite's token still answers 410, not the new invite.
    let (status, body) = accept(&app, &late, str_of(&old, "token")).await;
    assert_error(status, &body, StatusCode::GONE, HAS_EXPIRED);
    assert!(events_of(&app, &f.org, &f.owner, "invite.accepted").await.is_empty());
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// DELETE /api/organizations/{id}/invites/{inviteId}

async fn cancel_invite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let by_owner = invite(&app, &f.org, &f.owner, "one@example.com", "OWNER").await;
    let by_admin = invite(&app, &f.org, &f.admin, "two@example.com", "MEMBER").await;

    for (body, canceller, email, role) in [
        (&by_owner, &f.owner, "one@example.com", "OWNER"),
        (&by_admin, &f.admin, "two@example.com", "MEMBER"),
    ] {
        let id = str_of(body, "id");
        let before = events(&app, &f.org, &f.owner).await.len();
        let (status, resp) = app.delete(&invite_path(&f.org, id), Some(&canceller.token)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{resp}");
        assert_eq!(resp, Value::Null, "204 has no body");

        let listed = list_all(&app, &f.org, &f.owner, Some("cancelled")).await;
        let found = listed.iter().find(|i| i["id"] == json!(id)).expect("listed as cancelled");
        let invited_by = if role == "OWNER" { &f.owner } else { &f.admin };
        assert_invite(found, &f.org, email, role, "cancelled", invited_by);
        assert_eq!(found["createdAt"], body["createdAt"]);
        assert_eq!(found["expiresAt"], body["expiresAt"]);

        let log = events(&app, &f.org, &f.owner).await;
        assert_eq!(log.len(), before + 1);
        let event = log.last().expect("event");
        assert_eq!(event["event"], json!("invite.cancelled"), "{event}");
        assert_eq!(event["organization"]["id"], json!(f.org), "{event}");
        assert_eq!(
            event["data"],
            json!({"inviteId": id, "email": email, "role": role, "actor": actor(canceller)}),
            "{event}"
        );

        // Cancelling again conflicts and records nothing.
        let (status, resp) = app.delete(&invite_path(&f.org, id), Some(&f.owner.token)).await;
        assert_error(status, &resp, StatusCode::CONFLICT, "Invite is cancelled");
        assert_eq!(events(&app, &f.org, &f.owner).await.len(), before + 1);
    }
    assert!(list_all(&app, &f.org, &f.owner, Some("pending")).await.is_empty());
    app.stop().await;
}

async fn cancel_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let pending = invite(&app, &f.org, &f.owner, "pending@example.com", "MEMBER").await;
    let accepted = invite(&app, &f.org, &f.owner, "joiner@example.com", "MEMBER").await;
    let joiner = app.register("joiner").await;
    let (status, body) = accept(&app, &joiner, str_of(&accepted, "token")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = app.event_types(&f.org, &f.owner).await;
    let id = str_of(&pending, "id");
    let owner = Some(f.owner.token.as_str());

    // An accepted invite cannot be cancelled.
    let (status, body) = app.delete(&invite_path(&f.org, str_of(&accepted, "id")), owner).await;
    assert_error(status, &body, StatusCode::CONFLICT, "Invite is accepted");
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, body) = app.delete(&invite_path(&f.org, &unknown), owner).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVITE_NOT_FOUND);
    let (status, body) = app.delete(&invite_path(&f.org, id), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, CANCEL_DENIED);
    // The newcomer joined as a MEMBER and is refused like one.
    let (status, body) = app.delete(&invite_path(&f.org, id), Some(&joiner.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, CANCEL_DENIED);
    let (status, body) = app.delete(&invite_path(&f.org, &unknown), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, CANCEL_DENIED);
    let (status, body) = app.delete(&invite_path(&f.org, id), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&invite_path(&f.org, id), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app.delete(&invite_path(&f.org, "not-a-uuid"), owner).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app.delete(&invite_path("not-a-uuid", id), owner).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app.delete(&invite_path(&unknown, id), owner).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // Nothing changed.
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert_eq!(ids(&list_all(&app, &f.org, &f.owner, Some("pending")).await), [id]);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// POST /api/invites/accept

async fn accept_invite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let carol = app.register("Carol").await;
    assert_eq!(carol.email, "Carol@example.com");
    // Invited in another case than she registered with.
    let created = invite(&app, &f.org, &f.admin, "cAROL@EXAMPLE.com", "ADMIN").await;
    let token = str_of(&created, "token").to_owned();
    let before = events(&app, &f.org, &f.owner).await.len();

    // Another user cannot take it.
    let (status, body) = accept(&app, &f.outsider, &token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OTHER_EMAIL);
    let (status, body) = accept(&app, &f.member, &token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OTHER_EMAIL);
    assert_eq!(events(&app, &f.org, &f.owner).await.len(), before);

    let (status, body) = accept(&app, &carol, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let object = body.as_object().expect("object");
    assert_eq!(
        object.keys().map(String::as_str).collect::<HashSet<_>>(),
        ["invite", "member"].into(),
        "{body}"
    );
    assert_invite(&body["invite"], &f.org, "cAROL@EXAMPLE.com", "ADMIN", "accepted", &f.admin);
    assert_eq!(body["invite"]["id"], created["id"]);
    assert_eq!(body["invite"]["createdAt"], created["createdAt"]);
    assert_eq!(body["invite"]["expiresAt"], created["expiresAt"]);
    // The member carries the user's own email.
    assert_member(&body["member"], &f.org, &carol, "ADMIN");
    assert_eq!(body["member"]["createdAt"], body["invite"]["updatedAt"]);

    // Carol is a member with the invite's role, and acts as one.
    let roles = member_roles(&app, &f.org, &f.member).await;
    assert_eq!(roles.len(), 4);
    assert_eq!(roles.iter().filter(|(id, _)| *id == carol.id).count(), 1);
    assert!(roles.contains(&(carol.id.clone(), "ADMIN".to_owned())), "{roles:?}");
    let (status, org) = app.get(&format!("/api/organizations/{}", f.org), Some(&carol.token)).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let listed = list_all(&app, &f.org, &carol, None).await;
    assert_eq!(listed, vec![body["invite"].clone()]);
    assert_eq!(ids(&list_all(&app, &f.org, &carol, Some("accepted")).await), ids(&listed));

    // Two events, in this order, each exactly once.
    let log = events(&app, &f.org, &f.owner).await;
    assert_eq!(log.len(), before + 2);
    assert_eq!(log[before]["event"], json!("invite.accepted"));
    assert_eq!(
        log[before]["data"],
        json!({
            "inviteId": created["id"],
            "email": "cAROL@EXAMPLE.com",
            "role": "ADMIN",
            "userId": carol.id,
            "actor": actor(&carol),
        })
    );
    assert_eq!(log[before + 1]["event"], json!("member.added"));
    assert_eq!(
        log[before + 1]["data"],
        json!({"userId": carol.id, "email": carol.email, "role": "ADMIN", "actor": actor(&carol)})
    );
    for e in &log[before..] {
        assert_eq!(e["organization"]["id"], json!(f.org), "{e}");
        time_of(e, "timestamp");
    }
    assert_eq!(events_of(&app, &f.org, &f.owner, "invite.accepted").await.len(), 1);
    assert!(!log.iter().map(Value::to_string).any(|e| e.contains(&token)));

    // Only once.
    let (status, body) = accept(&app, &carol, &token).await;
    assert_error(status, &body, StatusCode::CONFLICT, ALREADY_ACCEPTED);
    let (status, body) = accept(&app, &f.outsider, &token).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OTHER_EMAIL);
    assert_eq!(events(&app, &f.org, &f.owner).await.len(), before + 2);
    assert_eq!(member_roles(&app, &f.org, &f.owner).await.len(), 4);
    app.stop().await;
}

async fn accept_owner_invite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let dan = app.register("dan").await;
    let created = invite(&app, &f.org, &f.owner, "dan@example.com", "OWNER").await;
    let (status, body) = accept(&app, &dan, str_of(&created, "token")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_member(&body["member"], &f.org, &dan, "OWNER");
    // Dan really is an OWNER: he may invite owners himself.
    let body = invite(&app, &f.org, &dan, "eve@example.com", "OWNER").await;
    assert_created(&body, &f.org, "eve@example.com", "OWNER", &dan, SEVEN_DAYS_MS);
    app.stop().await;
}

async fn accept_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let gus = app.register("gus").await;
    let cancelled = invite(&app, &f.org, &f.owner, "gus@example.com", "MEMBER").await;
    let (status, body) =
        app.delete(&invite_path(&f.org, str_of(&cancelled, "id")), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let before = app.event_types(&f.org, &f.owner).await;

    let (status, body) = accept(&app, &gus, str_of(&cancelled, "token")).await;
    assert_error(status, &body, StatusCode::CONFLICT, WAS_CANCELLED);
    for unknown in ["rst_inv_doesnotexist", "x", "rst_at_abc"] {
        let (status, body) = accept(&app, &gus, unknown).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, INVITE_NOT_FOUND);
    }
    // A token that was valid but altered.
    let mut altered = str_of(&cancelled, "token").to_owned();
    let last = altered.pop().expect("char");
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let (status, body) = accept(&app, &gus, &altered).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVITE_NOT_FOUND);

    let pending = invite(&app, &f.org, &f.owner, "gus@example.com", "MEMBER").await;
    let token = str_of(&pending, "token");
    let before_pending = app.event_types(&f.org, &f.owner).await;
    let (status, body) = app.post(ACCEPT_PATH, None, json!({"token": token})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) =
        app.post(ACCEPT_PATH, Some("rst_at_not-a-real-token"), json!({"token": token})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    // The invite token is not a bearer token.
    let (status, body) = app.post(ACCEPT_PATH, Some(token), json!({"token": token})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    let gus_token = Some(gus.token.as_str());
    let (status, body) = app.post(ACCEPT_PATH, gus_token, json!({})).await;
    assert_validation(status, &body, &[TOKEN_NOT_STRING]);
    for bad in [json!(null), json!(42), json!(["x"]), json!({"token": token})] {
        let (status, body) = app.post(ACCEPT_PATH, gus_token, json!({"token": bad})).await;
        assert_validation(status, &body, &[TOKEN_NOT_STRING]);
    }
    let (status, body) = app.post(ACCEPT_PATH, gus_token, json!({"token": ""})).await;
    assert_validation(status, &body, &[TOKEN_EMPTY]);
    let (status, body) = app.post(ACCEPT_PATH, gus_token, json!({"token": "x".repeat(129)})).await;
    assert_validation(status, &body, &["token must be shorter than or equal to 128 characters"]);
    let (status, body) =
        app.post(ACCEPT_PATH, gus_token, json!({"token": token, "inviteId": pending["id"]})).await;
    assert_validation(status, &body, &["property inviteId should not exist"]);
    let (status, body) = app.post(ACCEPT_PATH, gus_token, json!({"email": gus.email})).await;
    assert_validation(status, &body, &["property email should not exist", TOKEN_NOT_STRING]);

    // None of that touched the pending invite; it still works.
    assert_eq!(app.event_types(&f.org, &f.owner).await, before_pending);
    assert_eq!(before_pending.len(), before.len() + 1);
    let (status, body) = accept(&app, &gus, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_member(&body["member"], &f.org, &gus, "MEMBER");
    app.stop().await;
}

async fn accept_when_already_member(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let hal = app.register("hal").await;
    let created = invite(&app, &f.org, &f.owner, "hal@example.com", "ADMIN").await;
    // Added directly while the invite was pending.
    app.add_member(&f.org, &f.owner, &hal, "MEMBER").await;
    let before = app.event_types(&f.org, &f.owner).await;
    let (status, body) = accept(&app, &hal, str_of(&created, "token")).await;
    assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    let roles = member_roles(&app, &f.org, &f.owner).await;
    assert!(roles.contains(&(hal.id.clone(), "MEMBER".to_owned())), "{roles:?}");
    assert_eq!(roles.len(), 4);
    app.stop().await;
}

/// The documented flow: someone without an account is invited, registers with the invited
/// address, and accepts.
async fn invite_then_register_then_accept(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("founder").await;
    let org = app.create_org(&owner, "Newco").await;
    let created = invite(&app, &org, &owner, "Newbie@Example.com", "MEMBER").await;
    assert_created(&created, &org, "Newbie@Example.com", "MEMBER", &owner, SEVEN_DAYS_MS);
    let token = str_of(&created, "token").to_owned();

    let newbie = app.register("newbie").await;
    assert_eq!(newbie.email, "newbie@example.com");
    let (status, body) = app.get(&format!("/api/organizations/{org}"), Some(&newbie.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    let (status, body) = accept(&app, &newbie, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_invite(&body["invite"], &org, "Newbie@Example.com", "MEMBER", "accepted", &owner);
    assert_member(&body["member"], &org, &newbie, "MEMBER");

    let (status, body) = app.get("/api/organizations", Some(&newbie.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let orgs = body["data"].as_array().expect("data");
    assert_eq!(orgs.len(), 1, "{body}");
    assert_eq!(orgs[0]["id"], json!(org));
    assert_eq!(orgs[0]["role"], json!("MEMBER"));
    let roles = member_roles(&app, &org, &newbie).await;
    assert_eq!(roles.len(), 2);
    assert_eq!(
        app.event_types(&org, &owner).await,
        ["organization.created", "invite.created", "invite.accepted", "member.added"]
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The same invite accepted twice at once

const RACE_ROUNDS: usize = 10;

async fn race_concurrent_accepts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("founder").await;
    let joiner = app.register("joiner").await;
    for round in 0..RACE_ROUNDS {
        let org = app.create_org(&owner, "Race").await;
        let created = invite(&app, &org, &owner, "joiner@example.com", "MEMBER").await;
        let token = str_of(&created, "token");
        let (ra, rb) = tokio::join!(accept(&app, &joiner, token), accept(&app, &joiner, token));
        let (won, lost) = match (ra.0, rb.0) {
            (StatusCode::OK, _) => (ra, rb),
            (_, StatusCode::OK) => (rb, ra),
            _ => panic!("round {round}: one accept succeeds: {ra:?} {rb:?}"),
        };
        assert_error(lost.0, &lost.1, StatusCode::CONFLICT, ALREADY_ACCEPTED);
        assert_member(&won.1["member"], &org, &joiner, "MEMBER");

        let roles = member_roles(&app, &org, &owner).await;
        assert_eq!(roles.len(), 2, "round {round}: {roles:?}");
        assert_eq!(roles.iter().filter(|(id, _)| *id == joiner.id).count(), 1, "round {round}");
        let accepted = events_of(&app, &org, &owner, "invite.accepted").await;
        assert_eq!(accepted.len(), 1, "round {round}: {accepted:?}");
        assert_eq!(accepted[0]["data"]["inviteId"], created["id"]);
        let added = events_of(&app, &org, &owner, "member.added").await;
        assert_eq!(added.len(), 1, "round {round}: {added:?}");
        assert_eq!(added[0]["data"]["userId"], json!(joiner.id));
        let listed = list_all(&app, &org, &owner, None).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["status"], json!("accepted"));
    }

    // Several accepts of one invite at once: still exactly one membership.
    let org = app.create_org(&owner, "Crowd").await;
    let created = invite(&app, &org, &owner, "joiner@example.com", "ADMIN").await;
    let token = str_of(&created, "token");
    let results = futures::future::join_all((0..6).map(|_| accept(&app, &joiner, token))).await;
    assert_eq!(results.iter().filter(|(s, _)| *s == StatusCode::OK).count(), 1, "{results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_error(*status, body, StatusCode::CONFLICT, ALREADY_ACCEPTED);
    }
    assert_eq!(member_roles(&app, &org, &owner).await.len(), 2);
    assert_eq!(events_of(&app, &org, &owner, "invite.accepted").await.len(), 1);
    assert_eq!(events_of(&app, &org, &owner, "member.added").await.len(), 1);
    app.stop().await;
}

/// Two invites to one address made at once: one 201, one 409.
async fn race_concurrent_creates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("founder").await;
    let org = app.create_org(&owner, "Race").await;
    for round in 0..RACE_ROUNDS {
        let email = format!("race{round}@example.com");
        let path = invites_path(&org);
        let (ra, rb) = tokio::join!(
            app.post(&path, Some(&owner.token), json!({"email": email, "role": "MEMBER"})),
            app.post(
                &path,
                Some(&owner.token),
                json!({"email": email.to_uppercase(), "role": "ADMIN"})
            ),
        );
        let lost = match (ra.0, rb.0) {
            (StatusCode::CREATED, _) => rb,
            (_, StatusCode::CREATED) => ra,
            _ => panic!("round {round}: one create succeeds: {ra:?} {rb:?}"),
        };
        assert_error(lost.0, &lost.1, StatusCode::CONFLICT, ALREADY_PENDING);
    }
    assert_eq!(list_all(&app, &org, &owner, Some("pending")).await.len(), RACE_ROUNDS);
    assert_eq!(events_of(&app, &org, &owner, "invite.created").await.len(), RACE_ROUNDS);
    app.stop().await;
}

/// An invite cancelled while it is being accepted: exactly one of the two happens.
async fn race_cancel_and_accept(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("founder").await;
    let joiner = app.register("joiner").await;
    for round in 0..RACE_ROUNDS {
        let org = app.create_org(&owner, "Race").await;
        let created = invite(&app, &org, &owner, "joiner@example.com", "MEMBER").await;
        let path = invite_path(&org, str_of(&created, "id"));
        let (cancelled, accepted) = tokio::join!(
            app.delete(&path, Some(&owner.token)),
            accept(&app, &joiner, str_of(&created, "token")),
        );
        let members = member_roles(&app, &org, &owner).await;
        let listed = list_all(&app, &org, &owner, None).await;
        let types = app.event_types(&org, &owner).await;
        match (cancelled.0, accepted.0) {
            (StatusCode::NO_CONTENT, _) => {
                assert_error(accepted.0, &accepted.1, StatusCode::CONFLICT, WAS_CANCELLED);
                assert_eq!(members.len(), 1, "round {round}");
                assert_eq!(listed[0]["status"], json!("cancelled"), "round {round}");
                assert_eq!(
                    types,
                    ["organization.created", "invite.created", "invite.cancelled"],
                    "round {round}"
                );
            }
            (_, StatusCode::OK) => {
                assert_error(cancelled.0, &cancelled.1, StatusCode::CONFLICT, "Invite is accepted");
                assert_eq!(members.len(), 2, "round {round}");
                assert_eq!(listed[0]["status"], json!("accepted"), "round {round}");
                assert_eq!(
                    types,
                    ["organization.created", "invite.created", "invite.accepted", "member.added"],
                    "round {round}"
                );
            }
            _ => panic!("round {round}: one of them succeeds: {cancelled:?} {accepted:?}"),
        }
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Tenant isolation

async fn tenant_isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner_a = app.register("ownera").await;
    let owner_b = app.register("ownerb").await;
    let org_a = app.create_org(&owner_a, "Org A").await;
    let org_b = app.create_org(&owner_b, "Org B").await;
    let b_invite = invite(&app, &org_b, &owner_b, "guest@example.com", "MEMBER").await;
    let b_id = str_of(&b_invite, "id");
    let a_invite = invite(&app, &org_a, &owner_a, "friend@example.com", "MEMBER").await;
    let a_before = app.event_types(&org_a, &owner_a).await;
    let b_before = app.event_types(&org_b, &owner_b).await;
    let b_list = list_all(&app, &org_b, &owner_b, None).await;
    let a_token = Some(owner_a.token.as_str());

    // Through B's ID, B does not exist for A's owner.
    let (status, body) = app.get(&invites_path(&org_b), a_token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) =
        app.get(&format!("{}?status=pending", invites_path(&org_b)), a_token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    for role in ROLES {
        let (status, body) = app
            .post(&invites_path(&org_b), a_token, json!({"email": "spy@example.com", "role": role}))
            .await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    let (status, body) = app.delete(&invite_path(&org_b, b_id), a_token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&invite_path(&org_b, str_of(&a_invite, "id")), a_token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // Through A's URL, B's invite is not A's.
    let (status, body) = app.delete(&invite_path(&org_a, b_id), a_token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVITE_NOT_FOUND);
    let (status, body) =
        app.delete(&invite_path(&org_b, str_of(&a_invite, "id")), Some(&owner_b.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, INVITE_NOT_FOUND);

    // Each list holds only its own organization's invites.
    assert_eq!(ids(&list_all(&app, &org_a, &owner_a, None).await), [str_of(&a_invite, "id")]);

    // Nothing changed anywhere.
    assert_eq!(list_all(&app, &org_b, &owner_b, None).await, b_list);
    assert_eq!(b_list[0]["status"], json!("pending"));
    assert_eq!(app.event_types(&org_a, &owner_a).await, a_before);
    assert_eq!(app.event_types(&org_b, &owner_b).await, b_before);

    // The guest accepting B's invite joins B only.
    let guest = app.register("guest").await;
    let (status, body) = accept(&app, &guest, str_of(&b_invite, "token")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_member(&body["member"], &org_b, &guest, "MEMBER");
    let (status, body) = app.get(&format!("/api/organizations/{org_a}"), Some(&guest.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    assert_eq!(member_roles(&app, &org_a, &owner_a).await.len(), 1);
    assert_eq!(app.event_types(&org_a, &owner_a).await, a_before);
    app.stop().await;
}

/// Only an OWNER may invite an OWNER, so only an OWNER may take such an invite back.
async fn only_owners_cancel_owner_invites(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let owner_invite = invite(&app, &f.org, &f.owner, "boss@example.com", "OWNER").await;
    let id = str_of(&owner_invite, "id");
    let (status, body) = app.delete(&invite_path(&f.org, id), Some(&f.admin.token)).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Access denied. Only owners can cancel invites for owners.",
    );
    let pending = list_all(&app, &f.org, &f.owner, Some("pending")).await;
    assert_eq!(ids(&pending), vec![id.to_owned()]);
    let (status, _) = app.delete(&invite_path(&f.org, id), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.stop().await;
}

on_both_backends!(
    owner_invites_any_role,
    admin_invites_members_and_admins_only,
    member_outsider_and_anonymous_cannot_invite,
    create_event_never_carries_token,
    create_conflicts,
    create_validation,
    list_invites_permissions,
    list_invites_paginates,
    list_invites_filters_by_status,
    expired_invites,
    cancel_invite,
    cancel_errors,
    accept_invite,
    accept_owner_invite,
    accept_errors,
    accept_when_already_member,
    invite_then_register_then_accept,
    race_concurrent_accepts,
    race_concurrent_creates,
    race_cancel_and_accept,
    tenant_isolation,
    only_owners_cancel_owner_invites,
);
