//! Members and roles over real HTTP, on SQLite and PostgreSQL: listing with cursor pagination,
//! adding, changing roles, removing and leaving, the events each change records, the
//! "at least one OWNER" invariant under concurrent requests, and tenant isolation.
mod common;

use std::collections::{BTreeMap, HashSet};

use common::{AUTH_REQUIRED, Backend, TestApp, TestUser, assert_error, assert_validation};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ORG_NOT_FOUND: &str = "Organization not found";
const MEMBER_NOT_FOUND: &str = "Member not found";
const USER_NOT_FOUND: &str = "User not found";
const OWNERS_ONLY: &str = "Access denied. Only owners can grant or remove the OWNER role.";
const OWNER_REMOVAL_DENIED: &str = "Access denied. Only owners can remove owners.";
const ADD_DENIED: &str = "Access denied. Only owners and admins can add members.";
const UPDATE_DENIED: &str = "Access denied. Only owners and admins can update members.";
const REMOVE_DENIED: &str = "Access denied. Only owners and admins can remove members.";
const LAST_OWNER: &str = "Organization must have at least one owner";
const ALREADY_MEMBER: &str = "User is already a member of this organization";
const BAD_ROLE: &str = "role must be one of the following values: OWNER, ADMIN, MEMBER";
const BAD_EMAIL: &str = "email must be an email";
const BAD_UUID: &str = "Validation failed (uuid is expected)";
const BAD_CURSOR: &str = "cursor must be a cursor returned by a previous page";

const ROLES: [&str; 3] = ["OWNER", "ADMIN", "MEMBER"];

fn members_path(org: &str) -> String {
    format!("/api/organizations/{org}/members")
}

fn member_path(org: &str, user_id: &str) -> String {
    format!("/api/organizations/{org}/members/{user_id}")
}

/// Every member of `org` as `viewer` lists them on one page, newest first.
async fn list_all(app: &TestApp, org: &str, viewer: &TestUser) -> Vec<Value> {
    let (status, body) =
        app.get(&format!("{}?limit=100", members_path(org)), Some(&viewer.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["nextCursor"], Value::Null, "{body}");
    body["data"].as_array().expect("data").clone()
}

/// userId → role for every member of `org`.
async fn roles_of(app: &TestApp, org: &str, viewer: &TestUser) -> BTreeMap<String, String> {
    list_all(app, org, viewer)
        .await
        .iter()
        .map(|m| {
            let id = m["userId"].as_str().expect("userId").to_owned();
            let role = m["role"].as_str().expect("role").to_owned();
            (id, role)
        })
        .collect()
}

fn owner_count(roles: &BTreeMap<String, String>) -> usize {
    roles.values().filter(|r| *r == "OWNER").count()
}

/// The organization's full events, oldest first, as an OWNER or ADMIN reads them.
async fn events(app: &TestApp, org: &str, viewer: &TestUser) -> Vec<Value> {
    let (status, body) =
        app.get(&format!("/api/organizations/{org}/events?limit=100"), Some(&viewer.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut all = body["data"].as_array().expect("data").clone();
    all.reverse();
    all
}

fn assert_timestamp(value: &Value) {
    let text = value.as_str().unwrap_or_else(|| panic!("timestamp is a string: {value}"));
    assert!(text.ends_with('Z'), "UTC with a Z suffix: {text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("RFC 3339 timestamp {text}: {e}"));
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
    assert_timestamp(&value["createdAt"]);
    assert_timestamp(&value["updatedAt"]);
}

/// One member event: its type, organization, data and actor.
fn assert_member_event(
    event: &Value,
    kind: &str,
    org: &str,
    actor: &TestUser,
    user: &TestUser,
    role: &str,
    previous_role: Option<&str>,
) {
    assert_eq!(event["event"], json!(kind), "{event}");
    assert_eq!(event["organization"]["id"], json!(org), "{event}");
    let mut data = json!({
        "userId": user.id,
        "email": user.email,
        "role": role,
        "actor": {"type": "user", "id": actor.id},
    });
    if let Some(previous) = previous_role {
        data["previousRole"] = json!(previous);
    }
    assert_eq!(event["data"], data, "{event}");
    assert_timestamp(&event["timestamp"]);
}

// ---------------------------------------------------------------------------------------------
// GET /api/organizations/{id}/members

async fn list_members(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;

    for viewer in [&f.owner, &f.admin, &f.member] {
        let (status, body) = app.get(&members_path(&f.org), Some(&viewer.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body.as_object().expect("page object");
        assert_eq!(
            page.keys().map(String::as_str).collect::<HashSet<_>>(),
            ["data", "nextCursor"].into()
        );
        assert_eq!(body["nextCursor"], Value::Null);
        let data = body["data"].as_array().expect("data");
        assert_eq!(data.len(), 3, "{body}");
        for (user, role) in [(&f.owner, "OWNER"), (&f.admin, "ADMIN"), (&f.member, "MEMBER")] {
            let found: Vec<&Value> =
                data.iter().filter(|m| m["userId"] == json!(user.id)).collect();
            assert_eq!(found.len(), 1, "{user:?} listed once: {body}");
            assert_member(found[0], &f.org, user, role);
        }
        // Newest first: createdAt never increases down the page.
        let times: Vec<chrono::DateTime<chrono::FixedOffset>> = data
            .iter()
            .map(|m| {
                chrono::DateTime::parse_from_rfc3339(m["createdAt"].as_str().expect("createdAt"))
                    .expect("RFC 3339")
            })
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {body}");
    }

    let (status, body) = app.get(&members_path(&f.org), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, body) = app.get(&members_path(&missing), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.get(&members_path("not-a-uuid"), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app.get(&members_path(&f.org), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    let (status, body) = app.get(&members_path(&f.org), Some("not-a-real-token")).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    app.stop().await;
}

async fn list_members_paginates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let dave = app.register("dave").await;
    let erin = app.register("erin").await;
    app.add_member(&f.org, &f.owner, &dave, "MEMBER").await;
    app.add_member(&f.org, &f.admin, &erin, "ADMIN").await;
    let everyone: Vec<String> = list_all(&app, &f.org, &f.member)
        .await
        .iter()
        .map(|m| m["userId"].as_str().expect("userId").to_owned())
        .collect();
    assert_eq!(everyone.len(), 5);
    let expected: HashSet<&str> =
        [&f.owner, &f.admin, &f.member, &dave, &erin].iter().map(|u| u.id.as_str()).collect();
    assert_eq!(everyone.iter().map(String::as_str).collect::<HashSet<_>>(), expected);

    for limit in [1usize, 2, 4, 5] {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("{}?limit={limit}", members_path(&f.org));
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, body) = app.get(&path, Some(&f.member.token)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            pages += 1;
            assert!(pages <= 5, "pagination ends: {body}");
            let data = body["data"].as_array().expect("data");
            assert!(!data.is_empty() && data.len() <= limit, "page size: {body}");
            seen.extend(data.iter().map(|m| m["userId"].as_str().expect("userId").to_owned()));
            match &body["nextCursor"] {
                Value::Null => break,
                Value::String(next) => cursor = Some(next.clone()),
                other => panic!("nextCursor is a string or null: {other}"),
            }
        }
        // Every member exactly once, in the same newest-first order as one big page.
        assert_eq!(seen, everyone, "limit {limit}");
        assert_eq!(pages, 5usize.div_ceil(limit), "limit {limit}");
    }

    for bad in [
        "***",
        "bm90LWEtY3Vyc29y",
        "MTIzfG5vdC1hLXV1aWQ",
        "YWJjfDAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA",
    ] {
        let (status, body) =
            app.get(&format!("{}?cursor={bad}", members_path(&f.org)), Some(&f.owner.token)).await;
        assert_validation(status, &body, &[BAD_CURSOR]);
    }
    let (status, body) =
        app.get(&format!("{}?limit=0", members_path(&f.org)), Some(&f.owner.token)).await;
    assert_validation(status, &body, &["limit must not be less than 1"]);
    let (status, body) =
        app.get(&format!("{}?limit=101", members_path(&f.org)), Some(&f.owner.token)).await;
    assert_validation(status, &body, &["limit must not be greater than 100"]);
    let (status, body) =
        app.get(&format!("{}?limit=abc", members_path(&f.org)), Some(&f.owner.token)).await;
    assert_validation(status, &body, &["limit must be an integer number"]);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// POST /api/organizations/{id}/members

async fn owner_adds_any_role(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let new_owner = app.register("newowner").await;
    let new_admin = app.register("newadmin").await;
    let new_member = app.register("newmember").await;
    let before = events(&app, &f.org, &f.owner).await.len();

    for (user, role) in [(&new_owner, "OWNER"), (&new_admin, "ADMIN"), (&new_member, "MEMBER")] {
        let (status, body) = app
            .post(
                &members_path(&f.org),
                Some(&f.owner.token),
                json!({"email": user.email, "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_member(&body, &f.org, user, role);
        assert_eq!(body["createdAt"], body["updatedAt"]);
    }

    let roles = roles_of(&app, &f.org, &f.member).await;
    assert_eq!(roles.len(), 6);
    assert_eq!(roles[&new_owner.id], "OWNER");
    assert_eq!(roles[&new_admin.id], "ADMIN");
    assert_eq!(roles[&new_member.id], "MEMBER");

    // The new OWNER really is one: it can grant OWNER itself.
    let late = app.register("late").await;
    app.add_member(&f.org, &new_owner, &late, "OWNER").await;

    let log = events(&app, &f.org, &f.owner).await;
    assert_eq!(log.len(), before + 4);
    assert_member_event(&log[before], "member.added", &f.org, &f.owner, &new_owner, "OWNER", None);
    assert_member_event(
        &log[before + 1],
        "member.added",
        &f.org,
        &f.owner,
        &new_admin,
        "ADMIN",
        None,
    );
    assert_member_event(
        &log[before + 2],
        "member.added",
        &f.org,
        &f.owner,
        &new_member,
        "MEMBER",
        None,
    );
    assert_member_event(&log[before + 3], "member.added", &f.org, &new_owner, &late, "OWNER", None);
    // The fixture's own additions were recorded too, after organization.created.
    let types = app.event_types(&f.org, &f.owner).await;
    assert_eq!(&types[..3], ["organization.created", "member.added", "member.added"]);
    assert_member_event(&log[1], "member.added", &f.org, &f.owner, &f.admin, "ADMIN", None);
    app.stop().await;
}

async fn admin_adds_members_and_admins_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let erin = app.register("erin").await;
    let before = app.event_types(&f.org, &f.owner).await;

    let (status, body) = app
        .post(
            &members_path(&f.org),
            Some(&f.admin.token),
            json!({"email": erin.email, "role": "OWNER"}),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert!(!roles_of(&app, &f.org, &f.owner).await.contains_key(&erin.id));

    for (user, role) in [(&carol, "MEMBER"), (&dave, "ADMIN")] {
        let (status, body) = app
            .post(
                &members_path(&f.org),
                Some(&f.admin.token),
                json!({"email": user.email, "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_member(&body, &f.org, user, role);
    }
    let log = events(&app, &f.org, &f.admin).await;
    assert_eq!(log.len(), before.len() + 2);
    assert_member_event(
        &log[before.len()],
        "member.added",
        &f.org,
        &f.admin,
        &carol,
        "MEMBER",
        None,
    );
    assert_member_event(
        &log[before.len() + 1],
        "member.added",
        &f.org,
        &f.admin,
        &dave,
        "ADMIN",
        None,
    );

    let roles = roles_of(&app, &f.org, &f.owner).await;
    assert_eq!(roles[&carol.id], "MEMBER");
    assert_eq!(roles[&dave.id], "ADMIN");
    assert!(!roles.contains_key(&erin.id));
    app.stop().await;
}

async fn member_and_outsider_cannot_add(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let carol = app.register("carol").await;
    let before = app.event_types(&f.org, &f.owner).await;

    for role in ROLES {
        let body = json!({"email": carol.email, "role": role});
        let (status, resp) =
            app.post(&members_path(&f.org), Some(&f.member.token), body.clone()).await;
        assert_error(status, &resp, StatusCode::FORBIDDEN, ADD_DENIED);
        let (status, resp) =
            app.post(&members_path(&f.org), Some(&f.outsider.token), body.clone()).await;
        assert_error(status, &resp, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        let (status, resp) = app.post(&members_path(&f.org), None, body).await;
        assert_error(status, &resp, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    }
    // The outsider cannot add itself either.
    let (status, resp) = app
        .post(
            &members_path(&f.org),
            Some(&f.outsider.token),
            json!({"email": f.outsider.email, "role": "OWNER"}),
        )
        .await;
    assert_error(status, &resp, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    // A MEMBER learns nothing about which users exist.
    let (status, resp) = app
        .post(
            &members_path(&f.org),
            Some(&f.member.token),
            json!({"email": "nobody@example.com", "role": "MEMBER"}),
        )
        .await;
    assert_error(status, &resp, StatusCode::FORBIDDEN, ADD_DENIED);

    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert_eq!(roles_of(&app, &f.org, &f.owner).await.len(), 3);
    app.stop().await;
}

async fn add_member_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;
    let path = members_path(&f.org);
    let owner = Some(f.owner.token.as_str());

    let (status, body) =
        app.post(&path, owner, json!({"email": "nobody@example.com", "role": "MEMBER"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, USER_NOT_FOUND);
    let (status, body) = app
        .post(&path, Some(&f.admin.token), json!({"email": "nobody@example.com", "role": "ADMIN"}))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, USER_NOT_FOUND);

    for (user, role) in
        [(&f.member, "MEMBER"), (&f.member, "ADMIN"), (&f.admin, "OWNER"), (&f.owner, "OWNER")]
    {
        let (status, body) =
            app.post(&path, owner, json!({"email": user.email, "role": role})).await;
        assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);
    }
    // Already a member regardless of the email's case.
    let (status, body) = app
        .post(&path, owner, json!({"email": f.member.email.to_uppercase(), "role": "MEMBER"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);
    let (status, body) = app
        .post(&path, Some(&f.admin.token), json!({"email": f.member.email, "role": "MEMBER"}))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, ALREADY_MEMBER);

    let email = f.outsider.email.clone();
    for role in [
        json!("owner"),
        json!("Member"),
        json!("SUPERUSER"),
        json!(""),
        json!(1),
        json!(null),
        json!(["OWNER"]),
    ] {
        let (status, body) = app.post(&path, owner, json!({"email": email, "role": role})).await;
        assert_validation(status, &body, &[BAD_ROLE]);
    }
    let (status, body) = app.post(&path, owner, json!({"email": email})).await;
    assert_validation(status, &body, &[BAD_ROLE]);

    for bad in [
        json!("not-an-email"),
        json!("outsider@"),
        json!("@example.com"),
        json!(""),
        json!(42),
        json!(null),
    ] {
        let (status, body) = app.post(&path, owner, json!({"email": bad, "role": "MEMBER"})).await;
        assert_validation(status, &body, &[BAD_EMAIL]);
    }
    let (status, body) = app.post(&path, owner, json!({"role": "MEMBER"})).await;
    assert_validation(status, &body, &[BAD_EMAIL]);
    let (status, body) = app.post(&path, owner, json!({})).await;
    assert_validation(status, &body, &[BAD_EMAIL, BAD_ROLE]);
    let (status, body) = app
        .post(&path, owner, json!({"email": "nope", "role": "nope", "userId": f.outsider.id}))
        .await;
    assert_validation(status, &body, &["property userId should not exist", BAD_EMAIL, BAD_ROLE]);
    let (status, body) =
        app.post(&path, owner, json!({"email": email, "role": "MEMBER", "name": "x"})).await;
    assert_validation(status, &body, &["property name should not exist"]);
    // Validation comes before permission: even a MEMBER is told what is wrong with the body.
    let (status, body) =
        app.post(&path, Some(&f.member.token), json!({"email": email, "role": "x"})).await;
    assert_validation(status, &body, &[BAD_ROLE]);

    let (status, body) = app
        .post(&members_path("not-a-uuid"), owner, json!({"email": email, "role": "MEMBER"}))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, body) =
        app.post(&members_path(&missing), owner, json!({"email": email, "role": "MEMBER"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // Nothing above changed anything.
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert_eq!(roles_of(&app, &f.org, &f.owner).await.len(), 3);
    app.stop().await;
}

async fn add_member_matches_email_case_insensitively(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let carol = app.register("Carol").await;
    assert_eq!(carol.email, "Carol@example.com");

    let (status, body) = app
        .post(
            &members_path(&f.org),
            Some(&f.admin.token),
            json!({"email": "cAROL@EXAMPLE.COM", "role": "MEMBER"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The member carries the user's own email, not the spelling used to add them.
    assert_member(&body, &f.org, &carol, "MEMBER");
    let log = events(&app, &f.org, &f.owner).await;
    assert_member_event(
        log.last().expect("event"),
        "member.added",
        &f.org,
        &f.admin,
        &carol,
        "MEMBER",
        None,
    );

    // Carol sees the organization now.
    let (status, body) =
        app.get(&format!("/api/organizations/{}", f.org), Some(&carol.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// PATCH /api/organizations/{id}/members/{userId}

/// What `actor` (None: an outsider) changing a `current` member to `new` is answered.
fn patch_outcome(
    actor: Option<&str>,
    current: &str,
    new: &str,
) -> Option<(StatusCode, &'static str)> {
    match actor {
        None => Some((StatusCode::NOT_FOUND, ORG_NOT_FOUND)),
        Some("MEMBER") => Some((StatusCode::FORBIDDEN, UPDATE_DENIED)),
        Some("ADMIN") if current == "OWNER" || new == "OWNER" => {
            Some((StatusCode::FORBIDDEN, OWNERS_ONLY))
        }
        Some(_) => None,
    }
}

async fn patch_permission_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let founder = app.register("founder").await;
    let actor = app.register("actor").await;
    let target = app.register("target").await;

    for actor_role in [Some("OWNER"), Some("ADMIN"), Some("MEMBER"), None] {
        for current in ROLES {
            for new in ROLES.into_iter().filter(|r| *r != current) {
                let case = format!("{actor_role:?} changes {current} to {new}");
                let org = app.create_org(&founder, "Matrix").await;
                if let Some(role) = actor_role {
                    app.add_member(&org, &founder, &actor, role).await;
                }
                app.add_member(&org, &founder, &target, current).await;
                let before = events(&app, &org, &founder).await;
                let roles_before = roles_of(&app, &org, &founder).await;

                let (status, body) = app
                    .patch(&member_path(&org, &target.id), Some(&actor.token), json!({"role": new}))
                    .await;
                match patch_outcome(actor_role, current, new) {
                    Some((code, message)) => {
                        assert_error(status, &body, code, message);
                        assert_eq!(roles_of(&app, &org, &founder).await, roles_before, "{case}");
                        assert_eq!(events(&app, &org, &founder).await, before, "{case}");
                    }
                    None => {
                        assert_eq!(status, StatusCode::OK, "{case}: {body}");
                        assert_member(&body, &org, &target, new);
                        let roles = roles_of(&app, &org, &founder).await;
                        assert_eq!(roles[&target.id], new, "{case}");
                        assert_eq!(roles.len(), roles_before.len(), "{case}");
                        let log = events(&app, &org, &founder).await;
                        assert_eq!(log.len(), before.len() + 1, "{case}");
                        assert_eq!(log[..before.len()], before[..], "{case}");
                        assert_member_event(
                            &log[before.len()],
                            "member.role_updated",
                            &org,
                            &actor,
                            &target,
                            new,
                            Some(current),
                        );
                    }
                }
            }
        }
    }
    app.stop().await;
}

async fn patch_own_role(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;

    // A MEMBER cannot promote itself; an ADMIN cannot make itself OWNER.
    let (status, body) = app
        .patch(&member_path(&f.org, &f.member.id), Some(&f.member.token), json!({"role": "ADMIN"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, UPDATE_DENIED);
    let (status, body) = app
        .patch(&member_path(&f.org, &f.admin.id), Some(&f.admin.token), json!({"role": "OWNER"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);

    // An ADMIN may step down to MEMBER.
    let (status, body) = app
        .patch(&member_path(&f.org, &f.admin.id), Some(&f.admin.token), json!({"role": "MEMBER"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_member(&body, &f.org, &f.admin, "MEMBER");
    let log = events(&app, &f.org, &f.owner).await;
    assert_eq!(log.len(), before.len() + 1);
    assert_member_event(
        log.last().expect("event"),
        "member.role_updated",
        &f.org,
        &f.admin,
        &f.admin,
        "MEMBER",
        Some("ADMIN"),
    );

    // An OWNER may step down once another OWNER exists.
    let (status, body) = app
        .patch(&member_path(&f.org, &f.member.id), Some(&f.owner.token), json!({"role": "OWNER"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .patch(&member_path(&f.org, &f.owner.id), Some(&f.owner.token), json!({"role": "ADMIN"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_member(&body, &f.org, &f.owner, "ADMIN");
    let roles = roles_of(&app, &f.org, &f.member).await;
    assert_eq!(roles[&f.owner.id], "ADMIN");
    assert_eq!(roles[&f.member.id], "OWNER");
    assert_eq!(owner_count(&roles), 1);
    let log = events(&app, &f.org, &f.member).await;
    assert_eq!(log.len(), before.len() + 3);
    assert_member_event(
        &log[log.len() - 2],
        "member.role_updated",
        &f.org,
        &f.owner,
        &f.member,
        "OWNER",
        Some("MEMBER"),
    );
    assert_member_event(
        &log[log.len() - 1],
        "member.role_updated",
        &f.org,
        &f.owner,
        &f.owner,
        "ADMIN",
        Some("OWNER"),
    );
    app.stop().await;
}

async fn patch_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;
    let owner = Some(f.owner.token.as_str());

    // The only OWNER cannot be demoted.
    for role in ["ADMIN", "MEMBER"] {
        let (status, body) =
            app.patch(&member_path(&f.org, &f.owner.id), owner, json!({"role": role})).await;
        assert_error(status, &body, StatusCode::CONFLICT, LAST_OWNER);
    }

    // Unknown members: a random ID, and a user who exists but is not a member.
    let random = uuid::Uuid::new_v4().to_string();
    for user_id in [random.as_str(), f.outsider.id.as_str()] {
        let (status, body) =
            app.patch(&member_path(&f.org, user_id), owner, json!({"role": "ADMIN"})).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
        let (status, body) = app
            .patch(&member_path(&f.org, user_id), Some(&f.admin.token), json!({"role": "MEMBER"}))
            .await;
        assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
    }
    // A MEMBER is refused before anything is looked up.
    let (status, body) = app
        .patch(&member_path(&f.org, &random), Some(&f.member.token), json!({"role": "MEMBER"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, UPDATE_DENIED);

    // Path IDs that are not UUIDs.
    let (status, body) =
        app.patch(&member_path(&f.org, "not-a-uuid"), owner, json!({"role": "ADMIN"})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) =
        app.patch(&member_path("not-a-uuid", &f.member.id), owner, json!({"role": "ADMIN"})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app
        .patch(&member_path(&f.org, &format!("{}x", f.member.id)), owner, json!({"role": "ADMIN"}))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    // A missing organization.
    let (status, body) =
        app.patch(&member_path(&random, &f.member.id), owner, json!({"role": "ADMIN"})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // Bodies.
    for role in [json!("admin"), json!("GOD"), json!(2), json!(null)] {
        let (status, body) =
            app.patch(&member_path(&f.org, &f.member.id), owner, json!({"role": role})).await;
        assert_validation(status, &body, &[BAD_ROLE]);
    }
    let (status, body) = app.patch(&member_path(&f.org, &f.member.id), owner, json!({})).await;
    assert_validation(status, &body, &[BAD_ROLE]);
    let (status, body) = app
        .patch(
            &member_path(&f.org, &f.member.id),
            owner,
            json!({"role": "ADMIN", "email": "x@y.co"}),
        )
        .await;
    assert_validation(status, &body, &["property email should not exist"]);
    let (status, body) = app
        .call(
            Method::PATCH,
            &member_path(&f.org, &f.member.id),
            None,
            Some(json!({"role": "ADMIN"})),
        )
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);

    // An ADMIN cannot even re-state an OWNER's role.
    let (status, body) = app
        .patch(&member_path(&f.org, &f.owner.id), Some(&f.admin.token), json!({"role": "OWNER"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, OWNERS_ONLY);

    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    let roles = roles_of(&app, &f.org, &f.owner).await;
    assert_eq!(roles[&f.owner.id], "OWNER");
    assert_eq!(roles[&f.admin.id], "ADMIN");
    assert_eq!(roles[&f.member.id], "MEMBER");

    // The same role again: 200 with the member unchanged, and no event. This holds for the
    // only OWNER too.
    let list_before = list_all(&app, &f.org, &f.owner).await;
    for (actor, target, role) in [
        (&f.owner, &f.owner, "OWNER"),
        (&f.owner, &f.admin, "ADMIN"),
        (&f.admin, &f.member, "MEMBER"),
        (&f.admin, &f.admin, "ADMIN"),
    ] {
        let (status, body) = app
            .patch(&member_path(&f.org, &target.id), Some(&actor.token), json!({"role": role}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_member(&body, &f.org, target, role);
        let listed = list_before.iter().find(|m| m["userId"] == json!(target.id)).expect("listed");
        assert_eq!(&body, listed, "unchanged, updatedAt included");
    }
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert_eq!(list_all(&app, &f.org, &f.owner).await, list_before);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// DELETE /api/organizations/{id}/members/{userId}

fn remove_outcome(actor: Option<&str>, target: &str) -> Option<(StatusCode, &'static str)> {
    match actor {
        None => Some((StatusCode::NOT_FOUND, ORG_NOT_FOUND)),
        Some("MEMBER") => Some((StatusCode::FORBIDDEN, REMOVE_DENIED)),
        Some("ADMIN") if target == "OWNER" => Some((StatusCode::FORBIDDEN, OWNER_REMOVAL_DENIED)),
        Some(_) => None,
    }
}

async fn remove_permission_matrix(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let founder = app.register("founder").await;
    let actor = app.register("actor").await;
    let target = app.register("target").await;

    for actor_role in [Some("OWNER"), Some("ADMIN"), Some("MEMBER"), None] {
        for target_role in ROLES {
            let case = format!("{actor_role:?} removes {target_role}");
            let org = app.create_org(&founder, "Matrix").await;
            if let Some(role) = actor_role {
                app.add_member(&org, &founder, &actor, role).await;
            }
            app.add_member(&org, &founder, &target, target_role).await;
            let before = events(&app, &org, &founder).await;
            let roles_before = roles_of(&app, &org, &founder).await;

            let (status, body) =
                app.delete(&member_path(&org, &target.id), Some(&actor.token)).await;
            match remove_outcome(actor_role, target_role) {
                Some((code, message)) => {
                    assert_error(status, &body, code, message);
                    assert_eq!(roles_of(&app, &org, &founder).await, roles_before, "{case}");
                    assert_eq!(events(&app, &org, &founder).await, before, "{case}");
                    let (status, _) =
                        app.get(&format!("/api/organizations/{org}"), Some(&target.token)).await;
                    assert_eq!(status, StatusCode::OK, "{case}: target still a member");
                }
                None => {
                    assert_eq!((status, &body), (StatusCode::NO_CONTENT, &Value::Null), "{case}");
                    let roles = roles_of(&app, &org, &founder).await;
                    assert!(!roles.contains_key(&target.id), "{case}");
                    assert_eq!(roles.len(), roles_before.len() - 1, "{case}");
                    let log = events(&app, &org, &founder).await;
                    assert_eq!(log.len(), before.len() + 1, "{case}");
                    assert_member_event(
                        &log[before.len()],
                        "member.removed",
                        &org,
                        &actor,
                        &target,
                        target_role,
                        None,
                    );
                    // The removed user no longer sees the organization.
                    let (status, body) =
                        app.get(&format!("/api/organizations/{org}"), Some(&target.token)).await;
                    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
                    let (status, body) = app.get(&members_path(&org), Some(&target.token)).await;
                    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
                    // Removing again: the member is gone.
                    let (status, body) =
                        app.delete(&member_path(&org, &target.id), Some(&actor.token)).await;
                    assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
                }
            }
        }
    }
    app.stop().await;
}

async fn members_leave(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;

    // The only OWNER cannot leave.
    let (status, body) = app.delete(&member_path(&f.org, &f.owner.id), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::CONFLICT, LAST_OWNER);
    assert_eq!(app.event_types(&f.org, &f.owner).await, before);

    // A MEMBER can leave; an ADMIN too.
    for (user, role) in [(&f.member, "MEMBER"), (&f.admin, "ADMIN")] {
        let (status, body) = app.delete(&member_path(&f.org, &user.id), Some(&user.token)).await;
        assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
        let log = events(&app, &f.org, &f.owner).await;
        assert_member_event(
            log.last().expect("event"),
            "member.removed",
            &f.org,
            user,
            user,
            role,
            None,
        );
        let (status, body) =
            app.get(&format!("/api/organizations/{}", f.org), Some(&user.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        // Leaving twice: no longer a member of the organization at all.
        let (status, body) = app.delete(&member_path(&f.org, &user.id), Some(&user.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    assert_eq!(app.event_types(&f.org, &f.owner).await.len(), before.len() + 2);
    let roles = roles_of(&app, &f.org, &f.owner).await;
    assert_eq!(roles.len(), 1);

    // An outsider "leaving" learns nothing.
    let (status, body) =
        app.delete(&member_path(&f.org, &f.outsider.id), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // With a second OWNER, the first may leave, and the second is then the last.
    app.add_member(&f.org, &f.owner, &f.member, "OWNER").await;
    let (status, body) = app.delete(&member_path(&f.org, &f.owner.id), Some(&f.owner.token)).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) =
        app.delete(&member_path(&f.org, &f.member.id), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::CONFLICT, LAST_OWNER);
    let roles = roles_of(&app, &f.org, &f.member).await;
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[&f.member.id], "OWNER");
    let log = events(&app, &f.org, &f.member).await;
    assert_member_event(
        log.last().expect("event"),
        "member.removed",
        &f.org,
        &f.owner,
        &f.owner,
        "OWNER",
        None,
    );

    // A removed user can be added back.
    app.add_member(&f.org, &f.member, &f.admin, "ADMIN").await;
    let (status, _) = app.get(&format!("/api/organizations/{}", f.org), Some(&f.admin.token)).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

async fn remove_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let before = app.event_types(&f.org, &f.owner).await;
    let owner = Some(f.owner.token.as_str());
    let random = uuid::Uuid::new_v4().to_string();

    for user_id in [random.as_str(), f.outsider.id.as_str()] {
        let (status, body) = app.delete(&member_path(&f.org, user_id), owner).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
        let (status, body) = app.delete(&member_path(&f.org, user_id), Some(&f.admin.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
        let (status, body) = app.delete(&member_path(&f.org, user_id), Some(&f.member.token)).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, REMOVE_DENIED);
    }
    let (status, body) = app.delete(&member_path(&f.org, "not-a-uuid"), owner).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app.delete(&member_path("not-a-uuid", &f.member.id), owner).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);
    let (status, body) = app.delete(&member_path(&random, &f.member.id), owner).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.delete(&member_path(&f.org, &f.member.id), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
    // A MEMBER cannot remove the OWNER or the ADMIN.
    for target in [&f.owner, &f.admin] {
        let (status, body) =
            app.delete(&member_path(&f.org, &target.id), Some(&f.member.token)).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, REMOVE_DENIED);
    }

    assert_eq!(app.event_types(&f.org, &f.owner).await, before);
    assert_eq!(roles_of(&app, &f.org, &f.owner).await.len(), 3);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// At least one OWNER, however requests race

const RACE_ROUNDS: usize = 10;

/// A fresh organization owned by both `a` and `b`.
async fn two_owner_org(app: &TestApp, a: &TestUser, b: &TestUser) -> String {
    let org = app.create_org(a, "Race").await;
    app.add_member(&org, a, b, "OWNER").await;
    org
}

/// A and B demote each other at once. Whichever is served first wins; the other is by then a
/// MEMBER and is refused as one. Either way one OWNER remains and one event is recorded.
async fn race_owners_demote_each_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice").await;
    let b = app.register("bob").await;
    for round in 0..RACE_ROUNDS {
        let org = two_owner_org(&app, &a, &b).await;
        let before = app.event_types(&org, &a).await;
        let path_b = member_path(&org, &b.id);
        let path_a = member_path(&org, &a.id);
        let (ra, rb) = tokio::join!(
            app.patch(&path_b, Some(&a.token), json!({"role": "MEMBER"})),
            app.patch(&path_a, Some(&b.token), json!({"role": "MEMBER"})),
        );
        let (winner, loser, lost) = match (ra.0, rb.0) {
            (StatusCode::OK, _) => (&a, &b, rb),
            (_, StatusCode::OK) => (&b, &a, ra),
            _ => panic!("round {round}: one demotion succeeds: {ra:?} {rb:?}"),
        };
        assert_error(lost.0, &lost.1, StatusCode::FORBIDDEN, UPDATE_DENIED);
        let roles = roles_of(&app, &org, winner).await;
        assert_eq!(owner_count(&roles), 1, "round {round}: {roles:?}");
        assert_eq!(roles[&winner.id], "OWNER", "round {round}");
        assert_eq!(roles[&loser.id], "MEMBER", "round {round}");
        let log = events(&app, &org, winner).await;
        assert_eq!(log.len(), before.len() + 1, "round {round}");
        assert_member_event(
            log.last().expect("event"),
            "member.role_updated",
            &org,
            winner,
            loser,
            "MEMBER",
            Some("OWNER"),
        );
    }
    app.stop().await;
}

/// A and B each demote themselves at once: one succeeds, the other would leave no OWNER.
async fn race_owners_step_down_together(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice").await;
    let b = app.register("bob").await;
    for round in 0..RACE_ROUNDS {
        let org = two_owner_org(&app, &a, &b).await;
        let before = app.event_types(&org, &a).await;
        let path_a = member_path(&org, &a.id);
        let path_b = member_path(&org, &b.id);
        let (ra, rb) = tokio::join!(
            app.patch(&path_a, Some(&a.token), json!({"role": "ADMIN"})),
            app.patch(&path_b, Some(&b.token), json!({"role": "ADMIN"})),
        );
        let (stepped, stayed, refused) = match (ra.0, rb.0) {
            (StatusCode::OK, _) => (&a, &b, rb),
            (_, StatusCode::OK) => (&b, &a, ra),
            _ => panic!("round {round}: one step-down succeeds: {ra:?} {rb:?}"),
        };
        assert_error(refused.0, &refused.1, StatusCode::CONFLICT, LAST_OWNER);
        let roles = roles_of(&app, &org, stayed).await;
        assert_eq!(owner_count(&roles), 1, "round {round}: {roles:?}");
        assert_eq!(roles[&stayed.id], "OWNER", "round {round}");
        assert_eq!(roles[&stepped.id], "ADMIN", "round {round}");
        let log = events(&app, &org, stayed).await;
        assert_eq!(log.len(), before.len() + 1, "round {round}");
        assert_member_event(
            log.last().expect("event"),
            "member.role_updated",
            &org,
            stepped,
            stepped,
            "ADMIN",
            Some("OWNER"),
        );
    }
    app.stop().await;
}

/// A and B both leave at once: one 204, one 409, and the one who stayed is still OWNER.
async fn race_owners_leave_together(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice").await;
    let b = app.register("bob").await;
    for round in 0..RACE_ROUNDS {
        let org = two_owner_org(&app, &a, &b).await;
        let before = app.event_types(&org, &a).await;
        let path_a = member_path(&org, &a.id);
        let path_b = member_path(&org, &b.id);
        let (ra, rb) =
            tokio::join!(app.delete(&path_a, Some(&a.token)), app.delete(&path_b, Some(&b.token)),);
        let (left, stayed, refused) = match (ra.0, rb.0) {
            (StatusCode::NO_CONTENT, _) => (&a, &b, rb),
            (_, StatusCode::NO_CONTENT) => (&b, &a, ra),
            _ => panic!("round {round}: one leaves: {ra:?} {rb:?}"),
        };
        assert_error(refused.0, &refused.1, StatusCode::CONFLICT, LAST_OWNER);
        let roles = roles_of(&app, &org, stayed).await;
        assert_eq!(roles.len(), 1, "round {round}: {roles:?}");
        assert_eq!(roles[&stayed.id], "OWNER", "round {round}");
        let log = events(&app, &org, stayed).await;
        assert_eq!(log.len(), before.len() + 1, "round {round}");
        assert_member_event(
            log.last().expect("event"),
            "member.removed",
            &org,
            left,
            left,
            "OWNER",
            None,
        );
        let (status, body) = app.get(&format!("/api/organizations/{org}"), Some(&left.token)).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    app.stop().await;
}

/// A removes B while B removes A: the one served second is no longer a member.
async fn race_owners_remove_each_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register("alice").await;
    let b = app.register("bob").await;
    for round in 0..RACE_ROUNDS {
        let org = two_owner_org(&app, &a, &b).await;
        let path_b = member_path(&org, &b.id);
        let path_a = member_path(&org, &a.id);
        let (ra, rb) =
            tokio::join!(app.delete(&path_b, Some(&a.token)), app.delete(&path_a, Some(&b.token)),);
        let (winner, loser, lost) = match (ra.0, rb.0) {
            (StatusCode::NO_CONTENT, _) => (&a, &b, rb),
            (_, StatusCode::NO_CONTENT) => (&b, &a, ra),
            _ => panic!("round {round}: one removal succeeds: {ra:?} {rb:?}"),
        };
        assert_error(lost.0, &lost.1, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        let roles = roles_of(&app, &org, winner).await;
        assert_eq!(roles.len(), 1, "round {round}: {roles:?}");
        assert_eq!(roles[&winner.id], "OWNER", "round {round}");
        let log = events(&app, &org, winner).await;
        assert_member_event(
            log.last().expect("event"),
            "member.removed",
            &org,
            winner,
            loser,
            "OWNER",
            None,
        );
    }
    app.stop().await;
}

/// Many concurrent demotions and departures of three owners: at least one OWNER always remains.
async fn race_many_owner_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owners =
        [app.register("alice").await, app.register("bob").await, app.register("carol").await];
    for round in 0..RACE_ROUNDS {
        let org = app.create_org(&owners[0], "Race").await;
        for o in &owners[1..] {
            app.add_member(&org, &owners[0], o, "OWNER").await;
        }
        type Call<'a> =
            std::pin::Pin<Box<dyn std::future::Future<Output = (StatusCode, Value)> + Send + 'a>>;
        let paths: Vec<String> = owners.iter().map(|o| member_path(&org, &o.id)).collect();
        let mut requests: Vec<Call<'_>> = Vec::new();
        for (i, o) in owners.iter().enumerate() {
            // Each owner steps down to MEMBER and removes the next owner, all at once.
            let next = (i + 1) % owners.len();
            requests.push(Box::pin(app.patch(
                &paths[i],
                Some(&o.token),
                json!({"role": "MEMBER"}),
            )));
            requests.push(Box::pin(app.delete(&paths[next], Some(&o.token))));
        }
        let results = futures::future::join_all(requests).await;
        for (status, body) in &results {
            match status.as_u16() {
                200 | 204 => {}
                409 => assert_eq!(body, &json!({"statusCode": 409, "message": LAST_OWNER})),
                403 => {
                    let message = body["message"].as_str().expect("message");
                    assert!(
                        [UPDATE_DENIED, REMOVE_DENIED].contains(&message),
                        "round {round}: {body}"
                    );
                }
                404 => assert!(
                    body == &json!({"statusCode": 404, "message": ORG_NOT_FOUND})
                        || body == &json!({"statusCode": 404, "message": MEMBER_NOT_FOUND}),
                    "round {round}: {body}"
                ),
                _ => panic!("round {round}: unexpected {status}: {body}"),
            }
        }
        let survivor = {
            let mut found = None;
            for o in &owners {
                let (status, body) =
                    app.get(&format!("/api/organizations/{org}"), Some(&o.token)).await;
                if status == StatusCode::OK && body["role"] == json!("OWNER") {
                    found = Some(o);
                }
            }
            found.unwrap_or_else(|| panic!("round {round}: no OWNER left: {results:?}"))
        };
        let roles = roles_of(&app, &org, survivor).await;
        assert!(owner_count(&roles) >= 1, "round {round}: {roles:?}");
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Tenant isolation

async fn tenant_isolation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner_a = app.register("ownera").await;
    let owner_b = app.register("ownerb").await;
    let member_b = app.register("memberb").await;
    let newcomer = app.register("newcomer").await;
    let org_a = app.create_org(&owner_a, "Org A").await;
    let org_b = app.create_org(&owner_b, "Org B").await;
    app.add_member(&org_b, &owner_b, &member_b, "MEMBER").await;
    let a_before = app.event_types(&org_a, &owner_a).await;
    let b_before = app.event_types(&org_b, &owner_b).await;
    let b_members = list_all(&app, &org_b, &owner_b).await;
    let a_token = Some(owner_a.token.as_str());

    // Through B's ID: B does not exist for A's owner.
    let (status, body) = app.get(&members_path(&org_b), a_token).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    for (email, role) in [(&newcomer.email, "MEMBER"), (&owner_a.email, "OWNER")] {
        let (status, body) =
            app.post(&members_path(&org_b), a_token, json!({"email": email, "role": role})).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }
    for target in [&member_b, &owner_b] {
        let (status, body) =
            app.patch(&member_path(&org_b, &target.id), a_token, json!({"role": "ADMIN"})).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
        let (status, body) = app.delete(&member_path(&org_b, &target.id), a_token).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    }

    // Through A's URL: B's members are not A's members.
    for target in [&member_b, &owner_b] {
        let (status, body) =
            app.patch(&member_path(&org_a, &target.id), a_token, json!({"role": "ADMIN"})).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
        let (status, body) = app.delete(&member_path(&org_a, &target.id), a_token).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, MEMBER_NOT_FOUND);
    }

    // A's list holds only A's members.
    let a_members = list_all(&app, &org_a, &owner_a).await;
    assert_eq!(a_members.len(), 1);
    assert_member(&a_members[0], &org_a, &owner_a, "OWNER");

    // Nothing changed anywhere.
    assert_eq!(list_all(&app, &org_b, &owner_b).await, b_members);
    assert_eq!(app.event_types(&org_a, &owner_a).await, a_before);
    assert_eq!(app.event_types(&org_b, &owner_b).await, b_before);
    let (status, body) =
        app.get(&format!("/api/organizations/{org_b}"), Some(&newcomer.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    // Membership in both is per organization: B's member made an OWNER of A is still only a
    // MEMBER of B.
    app.add_member(&org_a, &owner_a, &member_b, "OWNER").await;
    let (status, body) = app
        .patch(&member_path(&org_b, &member_b.id), Some(&member_b.token), json!({"role": "OWNER"}))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, UPDATE_DENIED);
    let (status, body) = app.delete(&member_path(&org_b, &owner_b.id), Some(&member_b.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, REMOVE_DENIED);
    assert_eq!(list_all(&app, &org_b, &owner_b).await, b_members);
    app.stop().await;
}

on_both_backends!(
    list_members,
    list_members_paginates,
    owner_adds_any_role,
    admin_adds_members_and_admins_only,
    member_and_outsider_cannot_add,
    add_member_errors,
    add_member_matches_email_case_insensitively,
    patch_permission_matrix,
    patch_own_role,
    patch_errors,
    remove_permission_matrix,
    members_leave,
    remove_errors,
    race_owners_demote_each_other,
    race_owners_step_down_together,
    race_owners_leave_together,
    race_owners_remove_each_other,
    race_many_owner_changes,
    tenant_isolation,
);
