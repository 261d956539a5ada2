//! `/console/organizations/{id}/invites`: creating an invite shows its link once, and the
//! link is one the API accepts; cancelling; the API's refusals for every role.

use reqwest::StatusCode;
use serde_json::json;

use super::assert_same_refusal;
use crate::common::console::Console;
use crate::common::{Backend, TestApp};

fn invites_path(org: &str) -> String {
    format!("/console/organizations/{org}/invites")
}

async fn an_invite_link_is_shown_once_and_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = invites_path(&f.org);
    let admin = Console::signed_in(&app, &f.admin).await;
    let empty = admin.get(&path).await;
    assert!(empty.shows("No invites yet"), "{}", empty.body);

    let created = admin.post(&path, &[("email", "new@example.com"), ("role", "ADMIN")]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.shows("Invite for new@example.com created"));
    let link = created.input("invite-link").expect("the link");
    let token = link.split("token=").nth(1).expect("a token in the link");
    assert!(link.starts_with("http://roster.test/invites/accept?token=rst_inv_"), "{link}");
    assert!(created.shows("<td>Pending</td>"));
    // Shown once: the list does not carry it.
    let list = admin.get(&path).await;
    assert!(!list.body.contains(token));

    let newcomer = app.register("new").await;
    let (status, accepted) =
        app.post("/api/invites/accept", Some(&newcomer.token), json!({"token": token})).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["member"]["role"], json!("ADMIN"));
    let events = app.events(&f.org, &f.owner).await;
    let created_event =
        events.iter().find(|e| e["event"] == json!("invite.created")).expect("logged");
    assert_eq!(created_event["data"]["actor"]["id"], json!(f.admin.id));
    app.stop().await;
}

async fn cancelling_an_invite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = invites_path(&f.org);
    let invite = app.invite(&f.org, &f.owner, "later@example.com", "MEMBER").await;
    let id = invite["id"].as_str().expect("an id");
    let owner = Console::signed_in(&app, &f.owner).await;
    let page = owner.get(&path).await;
    assert!(page.shows("later@example.com") && page.shows(">Cancel<"), "{}", page.body);
    let cancelled = owner.post(&format!("{path}/{id}/cancel"), &[]).await;
    assert_eq!(cancelled.assert_redirect(&path), "done=cancelled");
    let page = owner.get(&format!("{path}?done=cancelled")).await;
    assert_eq!(page.notice().as_deref(), Some("Invite cancelled."));
    assert!(!page.shows(">Cancel<"));
    // Again: the API's answer for an invite that is no longer pending.
    let api = app
        .delete(&format!("/api/organizations/{}/invites/{id}", f.org), Some(&f.owner.token))
        .await;
    assert_same_refusal(api, &owner.post(&format!("{path}/{id}/cancel"), &[]).await);
    app.stop().await;
}

async fn invites_are_for_owners_and_admins_of_the_organization(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = invites_path(&f.org);
    let api_path = format!("/api/organizations/{}/invites", f.org);
    let invite = app.invite(&f.org, &f.owner, "pending@example.com", "MEMBER").await;
    let cancel = format!("{path}/{}/cancel", invite["id"].as_str().expect("id"));
    let fields = [("email", "x@example.com"), ("role", "MEMBER"), ("sendEmail", "true")];
    let body = json!({"email": "x@example.com", "role": "MEMBER"});

    let member = Console::signed_in(&app, &f.member).await;
    let api = app.get(&api_path, Some(&f.member.token)).await;
    let page = member.get(&path).await;
    assert_same_refusal(api, &page);
    assert!(!member.get(&format!("/console/organizations/{}", f.org)).await.shows(">Invites<"));
    let api = app.post(&api_path, Some(&f.member.token), body.clone()).await;
    assert_same_refusal(api, &member.post(&path, &fields).await);
    assert_eq!(member.post(&cancel, &[]).await.status, StatusCode::FORBIDDEN);

    let admin = Console::signed_in(&app, &f.admin).await;
    admin.get(&path).await;
    let api = app
        .post(&api_path, Some(&f.admin.token), json!({"email": "o@example.com", "role": "OWNER"}))
        .await;
    assert_same_refusal(
        api,
        &admin.post(&path, &[("email", "o@example.com"), ("role", "OWNER")]).await,
    );
    let api = app
        .post(&api_path, Some(&f.admin.token), json!({"email": f.member.email, "role": "MEMBER"}))
        .await;
    let page = admin.post(&path, &[("email", &f.member.email), ("role", "MEMBER")]).await;
    assert_same_refusal(api, &page);
    assert_eq!(page.input("invite-email").as_deref(), Some(f.member.email.as_str()));

    let outsider = Console::signed_in(&app, &f.outsider).await;
    outsider.get(&path).await.assert_refused(StatusCode::NOT_FOUND, "Organization not found");
    outsider.get("/console").await;
    let api = app.post(&api_path, Some(&f.outsider.token), body).await;
    assert_same_refusal(api, &outsider.post(&path, &fields).await);
    assert_eq!(outsider.post(&cancel, &[]).await.status, StatusCode::NOT_FOUND);

    let owner = Console::signed_in(&app, &f.owner).await;
    for (form, fields) in [(path.as_str(), &fields[..]), (cancel.as_str(), &[][..])] {
        let page = owner.post_exactly(form, fields, &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{form}");
    }
    let listed = app.list_all(&api_path, &f.owner.token).await;
    assert_eq!(listed.len(), 1, "only the first invite: {listed:?}");
    assert_eq!(listed[0]["status"], json!("pending"));
    app.stop().await;
}

on_both_backends!(
    an_invite_link_is_shown_once_and_works,
    cancelling_an_invite,
    invites_are_for_owners_and_admins_of_the_organization,
);
