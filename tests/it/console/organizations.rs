//! `/console` and `/console/organizations/…`: listing, creating and renaming organizations.

use reqwest::StatusCode;
use serde_json::json;

use super::assert_same_refusal;
use crate::common::console::Console;
use crate::common::{Backend, TestApp, str_of};

async fn people_see_their_organizations_and_create_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    let console = Console::signed_in(&app, &ada).await;
    let empty = console.get("/console").await;
    assert!(empty.shows("You are not in any organization yet"), "{}", empty.body);

    let created =
        console.post("/console/organizations", &[("name", "Acme <Corp>"), ("slug", "")]).await;
    let location = created.location.clone().expect("a redirect");
    let id = location
        .strip_prefix("/console/organizations/")
        .and_then(|rest| rest.strip_suffix("?done=created"))
        .expect("to the new organization");
    let overview = console.get(&location).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert_eq!(overview.notice().as_deref(), Some("Organization created."));
    assert!(overview.shows("<h1>Acme <Corp></h1>"), "escaped, shown as typed: {}", overview.body);
    assert!(overview.shows("organization.created"), "its first event: {}", overview.body);

    // The API sees the same organization, made by the same rules, with the same event.
    let (status, org) = app.get(&format!("/api/organizations/{id}"), Some(&ada.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(org["slug"], json!("acme-corp"));
    assert_eq!(org["role"], json!("OWNER"));
    let events = app.events(id, &ada).await;
    assert_eq!(events[0]["event"], json!("organization.created"));
    assert_eq!(events[0]["data"]["actor"], json!({"type": "user", "id": ada.id}));

    let list = console.get("/console").await;
    assert!(list.shows("Acme <Corp>") && list.shows("acme-corp"), "{}", list.body);
    app.stop().await;
}

async fn a_refused_create_shows_the_apis_error_and_keeps_the_form(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register("ada").await;
    app.create_org(&ada, "Taken").await;
    let console = Console::signed_in(&app, &ada).await;
    console.get("/console").await;
    let body = json!({"name": "Again", "slug": "taken"});
    let api = app.post("/api/organizations", Some(&ada.token), body).await;
    let page =
        console.post("/console/organizations", &[("name", "Again"), ("slug", "taken")]).await;
    assert_same_refusal(api, &page);
    assert_eq!(page.input("org-name").as_deref(), Some("Again"));

    let page = console.post("/console/organizations", &[("name", ""), ("slug", "-bad")]).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    let error = page.error().expect("an error");
    assert!(
        error.contains("name should not be empty") && error.contains("slug must be"),
        "{error}"
    );
    app.stop().await;
}

async fn forms_without_the_sign_ins_token_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let fixture = app.org_with_roles().await;
    let console = Console::signed_in(&app, &fixture.owner).await;
    let org = &fixture.org;
    let forms = [
        ("/console/organizations".to_owned(), vec![("name", "Sneaky")]),
        (
            format!("/console/organizations/{org}/settings"),
            vec![("name", "Renamed"), ("slug", "renamed")],
        ),
    ];
    for (path, fields) in &forms {
        let page = console.post_exactly(path, fields, &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
        let mut forged = fields.clone();
        forged.push(("csrf_token", "not-this-sign-ins"));
        let page = console.post_exactly(path, &forged, &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
    }
    // Another sign-in's token does not pass either.
    let other = Console::signed_in(&app, &fixture.owner).await;
    let token = other.get("/console").await.csrf().expect("a token");
    let page = console
        .post_exactly(
            &forms[1].0,
            &[("name", "Renamed"), ("slug", "renamed"), ("csrf_token", &token)],
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let orgs = app.list_all("/api/organizations", &fixture.owner.token).await;
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["name"], json!("Acme Corp"));
    app.stop().await;
}

async fn only_managers_rename_and_only_members_see_the_organization(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = format!("/console/organizations/{}", f.org);
    let settings = format!("{path}/settings");
    let fields = [("name", "Renamed"), ("slug", "renamed")];
    let body = json!({"name": "Renamed", "slug": "renamed"});
    let api_path = format!("/api/organizations/{}", f.org);

    let member = Console::signed_in(&app, &f.member).await;
    let overview = member.get(&path).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(!overview.shows("Settings") && !overview.shows("Recent activity"), "{}", overview.body);
    let api = app.patch(&api_path, Some(&f.member.token), body.clone()).await;
    assert_same_refusal(api, &member.post(&settings, &fields).await);

    let outsider = Console::signed_in(&app, &f.outsider).await;
    let api = app.get(&api_path, Some(&f.outsider.token)).await;
    let page = outsider.get(&path).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.error().as_deref(), Some(str_of(&api.1, "message")));
    outsider.get("/console").await;
    let api = app.patch(&api_path, Some(&f.outsider.token), body).await;
    assert_same_refusal(api, &outsider.post(&settings, &fields).await);
    assert_eq!(
        outsider.get("/console/organizations/not-an-id").await.status,
        StatusCode::NOT_FOUND
    );

    for manager in [&f.admin, &f.owner] {
        let console = Console::signed_in(&app, manager).await;
        let page = console.get(&path).await;
        assert!(page.shows("Settings"), "{}", page.body);
        let slug = format!("renamed-by-{}", &manager.id[manager.id.len() - 8..]);
        let saved = console.post(&settings, &[("name", "Renamed"), ("slug", &slug)]).await;
        assert_eq!(saved.assert_redirect(&path), "done=saved");
        let (_, org) = app.get(&api_path, Some(&f.owner.token)).await;
        assert_eq!(org["slug"], json!(slug));
    }
    let events = app.events(&f.org, &f.owner).await;
    assert_eq!(events[0]["event"], json!("organization.updated"));
    assert_eq!(events[0]["data"]["actor"]["id"], json!(f.owner.id), "{events:?}");
    app.stop().await;
}

on_both_backends!(
    people_see_their_organizations_and_create_one,
    a_refused_create_shows_the_apis_error_and_keeps_the_form,
    forms_without_the_sign_ins_token_change_nothing,
    only_managers_rename_and_only_members_see_the_organization,
);
