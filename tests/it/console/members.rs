//! `/console/organizations/{id}/members`: adding, changing roles, removing and leaving, by
//! the API's rules and in its words, for every role and for strangers.

use reqwest::StatusCode;
use serde_json::json;

use super::assert_same_refusal;
use crate::common::console::Console;
use crate::common::{Backend, TestApp};

fn members_path(org: &str) -> String {
    format!("/console/organizations/{org}/members")
}

async fn owners_and_admins_manage_members(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let bob = app.register("bob").await;
    let path = members_path(&f.org);
    let admin = Console::signed_in(&app, &f.admin).await;
    let page = admin.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    for who in [&f.owner, &f.admin, &f.member] {
        assert!(page.shows(&who.email), "{}", page.body);
    }
    assert!(page.shows("Add a member"));

    let added = admin.post(&path, &[("email", &bob.email), ("role", "MEMBER")]).await;
    assert_eq!(added.assert_redirect(&path), "done=added");
    let page = admin.get(&format!("{path}?done=added")).await;
    assert_eq!(page.notice().as_deref(), Some("Member added."));
    assert!(page.shows(&bob.email));

    let role_path = format!("{path}/{}/role", bob.id);
    admin.post(&role_path, &[("role", "ADMIN")]).await.assert_redirect(&path);
    let listed =
        app.list_all(&format!("/api/organizations/{}/members", f.org), &f.owner.token).await;
    let member = listed.iter().find(|m| m["userId"] == json!(bob.id)).expect("bob is listed");
    assert_eq!(member["role"], json!("ADMIN"), "{member}");

    admin.post(&format!("{path}/{}/remove", bob.id), &[]).await.assert_redirect(&path);
    let events: Vec<String> = app
        .events(&f.org, &f.owner)
        .await
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        events[..3],
        ["member.removed", "member.role_updated", "member.added"],
        "{events:?}"
    );
    app.stop().await;
}

async fn each_refusal_is_the_apis(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = members_path(&f.org);
    let api_path = format!("/api/organizations/{}/members", f.org);
    let bob = app.register("bob").await;

    // A MEMBER sees the list but no forms, and cannot add, change or remove.
    let member = Console::signed_in(&app, &f.member).await;
    let page = member.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.shows("Add a member") && !page.shows(">Remove<"), "{}", page.body);
    let body = json!({"email": bob.email, "role": "MEMBER"});
    let api = app.post(&api_path, Some(&f.member.token), body).await;
    assert_same_refusal(
        api,
        &member.post(&path, &[("email", &bob.email), ("role", "MEMBER")]).await,
    );
    let api = app
        .patch(
            &format!("{api_path}/{}", f.admin.id),
            Some(&f.member.token),
            json!({"role": "MEMBER"}),
        )
        .await;
    let page = member.post(&format!("{path}/{}/role", f.admin.id), &[("role", "MEMBER")]).await;
    assert_same_refusal(api, &page);
    let api = app.delete(&format!("{api_path}/{}", f.admin.id), Some(&f.member.token)).await;
    assert_same_refusal(api, &member.post(&format!("{path}/{}/remove", f.admin.id), &[]).await);

    // An ADMIN cannot make an OWNER; nobody adds an unknown address or an invalid role.
    let admin = Console::signed_in(&app, &f.admin).await;
    admin.get(&path).await;
    let api = app
        .patch(
            &format!("{api_path}/{}", f.member.id),
            Some(&f.admin.token),
            json!({"role": "OWNER"}),
        )
        .await;
    let page = admin.post(&format!("{path}/{}/role", f.member.id), &[("role", "OWNER")]).await;
    assert_same_refusal(api, &page);
    let body = json!({"email": "nobody@example.com", "role": "MEMBER"});
    let api = app.post(&api_path, Some(&f.admin.token), body).await;
    let page = admin.post(&path, &[("email", "nobody@example.com"), ("role", "MEMBER")]).await;
    assert_same_refusal(api, &page);
    assert_eq!(page.input("member-email").as_deref(), Some("nobody@example.com"), "kept");
    let page = admin.post(&path, &[("email", &bob.email), ("role", "KING")]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);

    // The last OWNER cannot leave.
    let owner = Console::signed_in(&app, &f.owner).await;
    owner.get(&path).await;
    let api = app.delete(&format!("{api_path}/{}", f.owner.id), Some(&f.owner.token)).await;
    assert_same_refusal(api, &owner.post(&format!("{path}/{}/remove", f.owner.id), &[]).await);

    // Another organization's people see nothing of it.
    let outsider = Console::signed_in(&app, &f.outsider).await;
    let page = outsider.get(&path).await;
    page.assert_refused(StatusCode::NOT_FOUND, "Organization not found");
    outsider.get("/console").await;
    let api = app
        .post(&api_path, Some(&f.outsider.token), json!({"email": bob.email, "role": "MEMBER"}))
        .await;
    assert_same_refusal(
        api,
        &outsider.post(&path, &[("email", &bob.email), ("role", "MEMBER")]).await,
    );
    let listed = app.list_all(&api_path, &f.owner.token).await;
    assert_eq!(listed.len(), 3, "nothing changed: {listed:?}");
    app.stop().await;
}

async fn a_member_leaves_and_is_sent_back_to_their_list(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = members_path(&f.org);
    let member = Console::signed_in(&app, &f.member).await;
    let page = member.get(&path).await;
    assert!(page.shows(">Leave<"), "{}", page.body);
    let left = member.post(&format!("{path}/{}/remove", f.member.id), &[]).await;
    assert_eq!(left.assert_redirect("/console"), "done=left");
    let list = member.get("/console?done=left").await;
    assert_eq!(list.notice().as_deref(), Some("You left the organization."));
    assert!(!list.shows("Acme Corp"));
    member.get(&path).await.assert_refused(StatusCode::NOT_FOUND, "Organization not found");
    app.stop().await;
}

async fn member_forms_need_the_sign_ins_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let bob = app.register("bob").await;
    let path = members_path(&f.org);
    let owner = Console::signed_in(&app, &f.owner).await;
    let forms = [
        (path.clone(), vec![("email", bob.email.as_str()), ("role", "MEMBER")]),
        (format!("{path}/{}/role", f.member.id), vec![("role", "ADMIN")]),
        (format!("{path}/{}/remove", f.member.id), vec![]),
    ];
    for (form, fields) in &forms {
        let page = owner.post_exactly(form, fields, &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{form}");
        let page = owner.post_exactly(form, fields, &[("sec-fetch-site", "cross-site")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{form}");
    }
    let listed =
        app.list_all(&format!("/api/organizations/{}/members", f.org), &f.owner.token).await;
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|m| m["role"] != json!("ADMIN") || m["userId"] == json!(f.admin.id)));
    app.stop().await;
}

on_both_backends!(
    owners_and_admins_manage_members,
    each_refusal_is_the_apis,
    a_member_leaves_and_is_sent_back_to_their_list,
    member_forms_need_the_sign_ins_token,
);
