//! `/console/organizations/{id}/events`: the event log with its actor and data, filtered by
//! type, paged with the filter kept; the API's refusals for every role and a bad filter.

use reqwest::StatusCode;

use serde_json::json;

use super::assert_same_refusal;
use crate::common::console::Console;
use crate::common::keys::{full_key, put_type};
use crate::common::{Backend, TestApp};

fn events_path(org: &str) -> String {
    format!("/console/organizations/{org}/events")
}

async fn the_log_shows_each_events_actor_and_data(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let admin = Console::signed_in(&app, &f.admin).await;
    let overview = admin.get(&format!("/console/organizations/{}", f.org)).await;
    assert!(overview.shows(">Event log<"), "managers get the tab: {}", overview.body);

    let page = admin.get(&events_path(&f.org)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for event in ["organization.created", "member.added"] {
        assert!(page.shows(&format!("<code>{event}</code>")), "{event}: {}", page.body);
    }
    // The actor, and the data as pretty JSON, as the API has them.
    let logged = app.events(&f.org, &f.owner).await;
    assert!(page.shows(&format!("User <code>{}</code>", f.owner.id)), "{}", page.body);
    let data = serde_json::to_string_pretty(&logged[0]["data"]).expect("json");
    assert!(page.shows(&data), "{data}\n{}", page.body);
    assert!(!page.shows(">Older<"), "one page");
    // The filter offers every type the log holds, log-only ones and the application's too.
    assert!(page.body.contains("<option value=\"webhook.secret_rotated\">"), "{}", page.body);
    let key = full_key(&app).await;
    let (status, body) = put_type(&app, &key, "invoice.paid", json!({"type": "object"})).await;
    assert!(status.is_success(), "{body}");
    let page = admin.get(&format!("{}?event=invoice.paid", events_path(&f.org))).await;
    assert!(page.body.contains("<option value=\"invoice.paid\" selected>"), "{}", page.body);
    assert!(page.shows("No <code>invoice.paid</code> events in the log"), "{}", page.body);

    let filtered = admin.get(&format!("{}?event=organization.created", events_path(&f.org))).await;
    assert!(filtered.shows("<code>organization.created</code>"));
    assert!(!filtered.shows("<code>member.added</code>"), "{}", filtered.body);
    assert!(filtered.body.contains("<option value=\"organization.created\" selected>"));

    let empty = admin.get(&format!("{}?event=webhook.deleted", events_path(&f.org))).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.shows("No <code>webhook.deleted</code> events in the log"), "{}", empty.body);
    app.stop().await;
}

async fn older_events_keep_the_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    for n in 0..22 {
        app.invite(&f.org, &f.owner, &format!("p{n}@example.com"), "MEMBER").await;
    }
    let owner = Console::signed_in(&app, &f.owner).await;
    let path = format!("{}?event=invite.created", events_path(&f.org));
    let first = owner.get(&path).await;
    assert_eq!(first.body.matches("<code>invite.created</code>").count(), 20, "{}", first.body);
    let href = first.link("Older").expect("an Older link");
    assert!(href.starts_with(&format!("{}?event=invite.created&cursor=", events_path(&f.org))));
    let second = owner.get(&href).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.body.matches("<code>invite.created</code>").count(), 2, "{}", second.body);
    assert!(!second.shows("<code>member.added</code>") && !second.shows(">Older<"));
    app.stop().await;
}

async fn the_log_is_for_owners_and_admins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = events_path(&f.org);
    let api_path = format!("/api/organizations/{}/events", f.org);

    let member = Console::signed_in(&app, &f.member).await;
    let overview = member.get(&format!("/console/organizations/{}", f.org)).await;
    assert!(!overview.shows(">Event log<"), "{}", overview.body);
    assert_same_refusal(app.get(&api_path, Some(&f.member.token)).await, &member.get(&path).await);

    let outsider = Console::signed_in(&app, &f.outsider).await;
    let page = outsider.get(&path).await;
    page.assert_refused(StatusCode::NOT_FOUND, "Organization not found");
    assert_same_refusal(app.get(&api_path, Some(&f.outsider.token)).await, &page);

    // A type the log does not hold, and a cursor that is not one: the API's 400s.
    let owner = Console::signed_in(&app, &f.owner).await;
    for query in ["?event=nope", "?cursor=nope"] {
        let api = app.get(&format!("{api_path}{query}"), Some(&f.owner.token)).await;
        assert_eq!(api.0, StatusCode::BAD_REQUEST, "{query}: {}", api.1);
        assert_same_refusal(api, &owner.get(&format!("{path}{query}")).await);
    }
    // Nobody signed in is sent to sign in, and back here afterwards.
    let stranger = Console::new(&app.base);
    let page = stranger.get(&path).await;
    let back = page.assert_redirect("/console/sign-in");
    assert!(back.contains("events"), "{back}");
    app.stop().await;
}

on_both_backends!(
    the_log_shows_each_events_actor_and_data,
    older_events_keep_the_filter,
    the_log_is_for_owners_and_admins,
);
