//! A webhook written with an OAuth token belongs to the token's app and, for a token acting for
//! a person, to that person's authorization: it follows the app's revocation and narrowing and
//! the person's leaving, whoever made it, and comes back only with a url someone sets.
//!
//! Whether a webhook receives an event is read from its delivery log, which gets a row in the
//! event's own transaction for every active subscribed webhook.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{code_grant, get_webhook, post_webhook, revoke_app, set_app_scopes, webhooks_path};
use crate::common::oauth::TestOAuthApp;
use crate::common::{Backend, RoleFixture, TestApp, assert_error};

const REACTIVATION_REFUSED: &str =
    "Webhook was deactivated when its OAuth access ended; set its url to reactivate it";

fn hook_path(org: &str, hook: &str) -> String {
    format!("{}/{hook}", webhooks_path(org))
}

async fn patch_hook(app: &TestApp, org: &str, token: &str, hook: &str, change: Value) -> Value {
    let (status, body) = app.patch(&hook_path(org, hook), Some(token), change.clone()).await;
    assert_eq!(status, StatusCode::OK, "PATCH {change}: {body}");
    body
}

/// A webhook made with `token`; its ID.
async fn hook_of(app: &TestApp, org: &str, token: &str, url: &str, events: &[&str]) -> String {
    let (status, _, body) = post_webhook(app, org, token, url, events).await;
    assert_eq!(status, StatusCode::CREATED, "POST webhook: {body}");
    body["id"].as_str().expect("webhook id").to_owned()
}

/// The event types the webhook's delivery log holds, oldest first.
async fn delivered(app: &TestApp, f: &RoleFixture, hook: &str) -> Vec<String> {
    let mut types: Vec<String> = app
        .deliveries(&f.org, hook, &f.owner)
        .await
        .iter()
        .map(|d| d["event"].as_str().expect("event").to_owned())
        .collect();
    types.reverse();
    types
}

/// A new member joins: one `member.added`.
async fn someone_joins(app: &TestApp, f: &RoleFixture, name: &str) {
    let user = app.register(name).await;
    app.add_member(&f.org, &f.owner, &user, "MEMBER").await;
}

async fn is_active(app: &TestApp, f: &RoleFixture, hook: &str) -> bool {
    get_webhook(app, &f.org, &f.owner, hook).await["isActive"].as_bool().expect("isActive")
}

/// An app that reads members and writes webhooks.
async fn member_watcher(app: &TestApp, f: &RoleFixture) -> TestOAuthApp {
    app.create_oauth_app(&f.org, &f.owner, &["webhooks:write", "webhooks:read", "members:read"])
        .await
}

/// Repointing a person's webhook with an app's token makes it the app's: revoking the app
/// stops it.
async fn an_apps_change_makes_the_webhook_the_apps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = member_watcher(&app, &f).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let (repointed, _) = app
        .create_webhook(&f.org, &f.owner, "https://owner.example.com/a", &["member.added"])
        .await;
    let (toggled, _) = app
        .create_webhook(&f.org, &f.owner, "https://owner.example.com/b", &["member.added"])
        .await;
    let (untouched, _) = app
        .create_webhook(&f.org, &f.owner, "https://owner.example.com/c", &["member.added"])
        .await;
    patch_hook(&app, &f.org, &token, &repointed, json!({"url": "https://app.example.com/in"}))
        .await;
    patch_hook(&app, &f.org, &token, &toggled, json!({"isActive": true})).await;

    revoke_app(&app, &f.org, &f.owner, &oauth).await;
    assert!(!is_active(&app, &f, &repointed).await, "the app repointed it");
    assert!(!is_active(&app, &f, &toggled).await, "the app changed it");
    assert!(is_active(&app, &f, &untouched).await, "the owner's own stays");
    someone_joins(&app, &f, "after").await;
    assert_eq!(delivered(&app, &f, &repointed).await, Vec::<String>::new());
    assert_eq!(delivered(&app, &f, &untouched).await, ["member.added"]);
    app.stop().await;
}

/// Leaving ends the webhooks made or changed with the person's tokens, and only those.
async fn leaving_stops_webhooks_of_the_persons_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = member_watcher(&app, &f).await;
    let leaver = code_grant(&app, &oauth, &f.admin, None).await;
    let stayer = app.register("stayer").await;
    app.add_member(&f.org, &f.owner, &stayer, "ADMIN").await;
    let stayer_grant = code_grant(&app, &oauth, &stayer, None).await;
    let app_token = app.client_credentials_token(&oauth, None).await;

    let made =
        hook_of(&app, &f.org, &leaver.access, "https://a.example.com/m", &["member.added"]).await;
    let (changed, _) = app
        .create_webhook(&f.org, &f.owner, "https://owner.example.com/c", &["member.added"])
        .await;
    patch_hook(&app, &f.org, &leaver.access, &changed, json!({"url": "https://a.example.com/c"}))
        .await;
    let (own, _) = app
        .create_webhook(&f.org, &f.admin, "https://admin.example.com/o", &["member.added"])
        .await;
    let others =
        hook_of(&app, &f.org, &stayer_grant.access, "https://a.example.com/s", &["member.added"])
            .await;
    let apps =
        hook_of(&app, &f.org, &app_token, "https://a.example.com/x", &["member.added"]).await;

    app.remove_member(&f.org, &f.admin, &f.admin).await;
    for hook in [&made, &changed] {
        let view = get_webhook(&app, &f.org, &f.owner, hook).await;
        assert_eq!(view["isActive"], json!(false), "made or changed by the leaver's token: {view}");
    }
    for hook in [&own, &others, &apps] {
        assert!(is_active(&app, &f, hook).await, "not the leaver's token's: {hook}");
    }
    someone_joins(&app, &f, "after").await;
    assert_eq!(delivered(&app, &f, &made).await, Vec::<String>::new());
    assert_eq!(delivered(&app, &f, &others).await, ["member.added"]);

    // Coming back does not bring them back, any more than the grant.
    app.add_member(&f.org, &f.owner, &f.admin, "ADMIN").await;
    assert!(!is_active(&app, &f, &made).await);
    let (status, body) =
        app.patch(&hook_path(&f.org, &made), Some(&f.admin.token), json!({"isActive": true})).await;
    assert_error(status, &body, StatusCode::CONFLICT, REACTIVATION_REFUSED);
    app.stop().await;
}

/// Narrowing an app drops what it can no longer read from its webhooks; one left with nothing
/// is deactivated, keeping its subscription.
async fn narrowing_an_app_narrows_its_webhooks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let scopes = ["members:read", "invites:read", "webhooks:write"];
    let oauth = app.create_oauth_app(&f.org, &f.owner, &scopes).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let both = hook_of(
        &app,
        &f.org,
        &token,
        "https://a.example.com/b",
        &["member.added", "invite.created"],
    )
    .await;
    let invites =
        hook_of(&app, &f.org, &token, "https://a.example.com/i", &["invite.created"]).await;
    let (owners, _) = app
        .create_webhook(&f.org, &f.owner, "https://owner.example.com/i", &["invite.created"])
        .await;

    set_app_scopes(&app, &f.org, &f.owner, &oauth, &["members:read", "webhooks:write"]).await;
    let view = get_webhook(&app, &f.org, &f.owner, &both).await;
    assert_eq!(view["events"], json!(["member.added"]), "{view}");
    assert_eq!(view["isActive"], json!(true), "{view}");
    let view = get_webhook(&app, &f.org, &f.owner, &invites).await;
    assert_eq!(view["events"], json!(["invite.created"]), "kept as it was: {view}");
    assert_eq!(view["isActive"], json!(false), "nothing left to receive: {view}");
    let view = get_webhook(&app, &f.org, &f.owner, &owners).await;
    assert_eq!(view["events"], json!(["invite.created"]), "a person's is theirs: {view}");

    // Widening again gives nothing back.
    set_app_scopes(&app, &f.org, &f.owner, &oauth, &scopes).await;
    assert_eq!(get_webhook(&app, &f.org, &f.owner, &both).await["events"], json!(["member.added"]));
    set_app_scopes(&app, &f.org, &f.owner, &oauth, &["members:read", "webhooks:write"]).await;

    app.invite(&f.org, &f.owner, "carol@example.com", "MEMBER").await;
    someone_joins(&app, &f, "joiner").await;
    assert_eq!(delivered(&app, &f, &both).await, ["member.added"]);
    assert_eq!(delivered(&app, &f, &invites).await, Vec::<String>::new());
    assert_eq!(delivered(&app, &f, &owners).await, ["invite.created"]);

    // A person's change keeps an app's webhook within what the app reads.
    let lacks = "Access denied. This webhook belongs to an OAuth app that lacks the invites:read \
                 scope.";
    let people_only = "Access denied. This webhook belongs to an OAuth app, and OAuth apps \
                       cannot receive oauth_app events.";
    for (hook, change, message) in [
        (&invites, json!({"isActive": true}), lacks),
        (&both, json!({"events": ["member.added", "invite.created"]}), lacks),
        (&both, json!({"events": ["oauth_app.created"]}), people_only),
    ] {
        let (status, body) =
            app.patch(&hook_path(&f.org, hook), Some(&f.owner.token), change).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, message);
    }
    assert_eq!(get_webhook(&app, &f.org, &f.owner, &both).await["events"], json!(["member.added"]));

    // Setting its url, a person takes it over: any events, and it outlives the app.
    let taken = patch_hook(
        &app,
        &f.org,
        &f.owner.token,
        &invites,
        json!({"url": "https://owner.example.com/mine", "isActive": true,
               "events": ["invite.created", "oauth_app.revoked"]}),
    )
    .await;
    assert_eq!(taken["isActive"], json!(true), "{taken}");
    revoke_app(&app, &f.org, &f.owner, &oauth).await;
    assert!(is_active(&app, &f, &invites).await, "taken over by the owner");
    assert!(!is_active(&app, &f, &both).await, "still the app's");
    app.stop().await;
}

/// A webhook stopped with its app is reactivated only with a url someone sets: then it is
/// theirs.
async fn a_webhook_stopped_with_its_app_needs_a_new_url(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = member_watcher(&app, &f).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let hook = hook_of(&app, &f.org, &token, "https://a.example.com/in", &["member.added"]).await;
    // Paused by the app itself before the revocation: stopped with it all the same.
    let paused = hook_of(&app, &f.org, &token, "https://a.example.com/p", &["member.added"]).await;
    patch_hook(&app, &f.org, &token, &paused, json!({"isActive": false})).await;
    revoke_app(&app, &f.org, &f.owner, &oauth).await;

    for (who, person) in [("owner", &f.owner), ("admin", &f.admin)] {
        for hook in [&hook, &paused] {
            let change = json!({"isActive": true, "events": ["member.added", "member.removed"]});
            let (status, body) =
                app.patch(&hook_path(&f.org, hook), Some(&person.token), change).await;
            assert_error(status, &body, StatusCode::CONFLICT, REACTIVATION_REFUSED);
            assert!(!is_active(&app, &f, hook).await, "{who} could not reactivate it");
        }
    }
    someone_joins(&app, &f, "meanwhile").await;
    assert_eq!(delivered(&app, &f, &hook).await, Vec::<String>::new());

    // Other changes are allowed; it stays inactive.
    let view =
        patch_hook(&app, &f.org, &f.admin.token, &hook, json!({"events": ["member.removed"]}))
            .await;
    assert_eq!(view["isActive"], json!(false), "{view}");

    let url = "https://admin.example.com/now-mine";
    let view =
        patch_hook(&app, &f.org, &f.admin.token, &hook, json!({"url": url, "isActive": true}))
            .await;
    assert_eq!((view["url"].clone(), view["isActive"].clone()), (json!(url), json!(true)));
    app.remove_member(&f.org, &f.owner, &f.member).await;
    assert_eq!(delivered(&app, &f, &hook).await, ["member.removed"]);
    app.stop().await;
}

on_both_backends!(
    an_apps_change_makes_the_webhook_the_apps,
    leaving_stops_webhooks_of_the_persons_tokens,
    narrowing_an_app_narrows_its_webhooks,
    a_webhook_stopped_with_its_app_needs_a_new_url
);
