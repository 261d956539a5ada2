//! Revocation, leaving and narrowing racing token issuance leave nothing alive.

use std::time::Instant;

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{
    app_with_webhook, assert_inactive, assert_invalid_grant, code_grant, get_webhook, grant_of,
    introspect, post_webhook, refresh, set_app_scopes,
};
use crate::common::oauth::{ALL_SCOPES, assert_insufficient_scope, creds, members_path, org_path};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error};

async fn revocation_racing_refresh_leaves_nothing_alive(backend: Backend) {
    const ROUNDS: usize = 30;
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let started = Instant::now();
    let mut refresh_won = 0;
    for round in 0..ROUNDS {
        let grant = code_grant(&app, &oauth, &f.member, None).await;
        let refresh_form =
            [("grant_type", "refresh_token"), ("refresh_token", grant.refresh.as_str())];
        let revoke_form = [("token", grant.refresh.as_str())];
        let refreshing = app.oauth_form("/api/oauth/token", creds(&oauth), &refresh_form);
        let revoking = app.oauth_form("/api/oauth/revoke", creds(&oauth), &revoke_form);
        let ((refresh_status, _, refresh_body), (revoke_status, _, revoke_body)) = if round % 2 == 0
        {
            tokio::join!(refreshing, revoking)
        } else {
            let (b, a) = tokio::join!(revoking, refreshing);
            (a, b)
        };
        assert_eq!(revoke_status, StatusCode::OK, "round {round}: revoke: {revoke_body}");

        let mut access_tokens = vec![grant.access.clone()];
        let mut refresh_tokens = vec![grant.refresh.clone()];
        if refresh_status == StatusCode::OK {
            refresh_won += 1;
            let new = grant_of(&refresh_body);
            access_tokens.push(new.access);
            refresh_tokens.push(new.refresh);
        } else {
            assert_eq!(
                refresh_status,
                StatusCode::BAD_REQUEST,
                "round {round}: refresh lost the race: {refresh_body}"
            );
            assert_eq!(refresh_body["error"], json!("invalid_grant"), "round {round}");
        }
        for token in &access_tokens {
            let (status, body) = app.get(&members_path(&f.org), Some(token)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "round {round}: an access token survived the revocation \
                 (refresh answered {refresh_status}): {body}"
            );
            let info = introspect(&app, &oauth, token).await;
            assert_eq!(info, json!({"active": false}), "round {round}: access token introspection");
        }
        for token in &refresh_tokens {
            let info = introspect(&app, &oauth, token).await;
            assert_eq!(
                info,
                json!({"active": false}),
                "round {round}: refresh token introspection"
            );
            let (status, _, body) = refresh(&app, &oauth, token).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "round {round}: a refresh token survived the revocation \
                 (refresh answered {refresh_status}): {body}"
            );
            assert_eq!(body["error"], json!("invalid_grant"), "round {round}: {body}");
        }
    }
    eprintln!(
        "{backend:?}: {ROUNDS} rounds in {:?}, the refresh was answered 200 in {refresh_won}",
        started.elapsed()
    );
    app.stop().await;
}

/// Removing a member while their grant is refreshed and a code of theirs is exchanged: once
/// they are back, nothing handed out during the race works.
async fn leaving_racing_token_issuance_leaves_nothing_alive(backend: Backend) {
    const ROUNDS: usize = 25;
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &["members:read"]).await;
    let removal = format!("{}/{}", members_path(&f.org), f.member.id);
    let mut issued_during_race = 0;
    for round in 0..ROUNDS {
        let grant = code_grant(&app, &oauth, &f.member, None).await;
        let (code, verifier) = app.authorize_code(&oauth, &f.member, None).await;
        let (removed, refreshed, exchanged) = tokio::join!(
            app.delete(&removal, Some(&f.owner.token)),
            refresh(&app, &oauth, &grant.refresh),
            app.exchange_code(&oauth, &code, &verifier),
        );
        assert_eq!(removed.0, StatusCode::NO_CONTENT, "round {round}: remove: {}", removed.1);
        app.add_member(&f.org, &f.owner, &f.member, "MEMBER").await;

        let mut access_tokens = vec![("the grant's first", grant.access.clone())];
        let mut refresh_tokens = vec![("the grant's first", grant.refresh.clone())];
        for (what, (status, _, body)) in [("refresh", refreshed), ("code exchange", exchanged)] {
            if status == StatusCode::OK {
                issued_during_race += 1;
                let new = grant_of(&body);
                access_tokens.push((what, new.access));
                refresh_tokens.push((what, new.refresh));
            } else {
                assert_eq!(status, StatusCode::BAD_REQUEST, "round {round}: {what}: {body}");
                assert_eq!(body["error"], json!("invalid_grant"), "round {round}: {what}");
            }
        }
        for (what, token) in &access_tokens {
            let (status, body) = app.get(&members_path(&f.org), Some(token)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "round {round}: the {what} access token, issued around the removal, works after \
                 the user came back: {body}"
            );
            assert_inactive(&app, &oauth, token).await;
        }
        for (_, token) in &refresh_tokens {
            assert_invalid_grant(&app, &oauth, token).await;
        }
    }
    eprintln!("{backend:?}: {issued_during_race} token responses issued during {ROUNDS} races");
    app.stop().await;
}

/// Narrowing the app while tokens are being issued (refresh, code exchange,
/// client_credentials): once the scope is given back, none of them has it.
async fn narrowing_racing_token_issuance_cannot_keep_dropped_scope(backend: Backend) {
    const ROUNDS: usize = 20;
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let narrowed: Vec<&str> = ALL_SCOPES.iter().copied().filter(|s| *s != "members:read").collect();
    let app_path = format!("{}/oauth-apps/{}", org_path(&f.org), oauth.id);
    let members = members_path(&f.org);
    for round in 0..ROUNDS {
        let grant = code_grant(&app, &oauth, &f.admin, None).await;
        let (code, verifier) = app.authorize_code(&oauth, &f.admin, None).await;
        let cc_form = [("grant_type", "client_credentials")];
        let (narrowing, refreshed, exchanged, cc) = tokio::join!(
            app.patch(&app_path, Some(&f.owner.token), json!({"scopes": narrowed})),
            refresh(&app, &oauth, &grant.refresh),
            app.exchange_code(&oauth, &code, &verifier),
            app.oauth_form("/api/oauth/token", creds(&oauth), &cc_form),
        );
        assert_eq!(narrowing.0, StatusCode::OK, "round {round}: narrow: {}", narrowing.1);
        set_app_scopes(&app, &f.org, &f.owner, &oauth, &ALL_SCOPES).await;

        let mut access_tokens = vec![("issued before", grant.access.clone())];
        for (what, (status, _, body)) in
            [("refresh", refreshed), ("code exchange", exchanged), ("client_credentials", cc)]
        {
            assert_eq!(status, StatusCode::OK, "round {round}: {what}: {body}");
            let token = body["access_token"].as_str().expect("access_token").to_owned();
            access_tokens.push((what, token));
        }
        for (what, token) in &access_tokens {
            let (status, headers, body) = app.send(Method::GET, &members, Some(token), None).await;
            assert_insufficient_scope(
                &format!(
                    "round {round}: {what} token after narrowing raced it and the scope came back"
                ),
                status,
                &headers,
                &body,
                "members:read",
            );
        }
    }
    app.stop().await;
}

/// Revoking an app while its token creates a webhook: the webhook ends up inactive, or was
/// never created.
async fn revoking_racing_webhook_creation_leaves_no_active_app_webhook(backend: Backend) {
    const ROUNDS: usize = 25;
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let mut created = 0;
    for round in 0..ROUNDS {
        let oauth =
            app.create_oauth_app(&f.org, &f.owner, &["webhooks:write", "members:read"]).await;
        let token = app.client_credentials_token(&oauth, None).await;
        let revoke_path = format!("{}/oauth-apps/{}/revoke", org_path(&f.org), oauth.id);
        let (made, revoked) = tokio::join!(
            post_webhook(&app, &f.org, &token, "https://race.example.com/h", &["member.added"]),
            app.post(&revoke_path, Some(&f.owner.token), json!({})),
        );
        assert_eq!(revoked.0, StatusCode::OK, "round {round}: revoke: {}", revoked.1);
        let (status, _, body) = made;
        if status == StatusCode::CREATED {
            created += 1;
            let id = body["id"].as_str().expect("webhook id");
            let hook = get_webhook(&app, &f.org, &f.owner, id).await;
            assert_eq!(
                hook["isActive"],
                json!(false),
                "round {round}: a webhook the app created while being revoked is active: {hook}"
            );
        } else {
            assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        }
    }
    eprintln!("{backend:?}: {created} of {ROUNDS} webhooks created during the revocation");
    app.stop().await;
}

/// Revoking an app while its token re-points the webhook it created: no deadlock (app and
/// webhook are locked in one order), and the webhook ends up inactive.
async fn revoking_racing_webhook_update_deadlocks_nothing(backend: Backend) {
    const ROUNDS: usize = 20;
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    for round in 0..ROUNDS {
        let (oauth, token, patch_path) =
            app_with_webhook(&app, &f.org, &f.owner, &["webhooks:write", "members:read"]).await;
        let revoke_path = format!("{}/oauth-apps/{}/revoke", org_path(&f.org), oauth.id);
        let (patched, revoked) = tokio::join!(
            app.patch(&patch_path, Some(&token), json!({"url": "https://moved.example.com/h"})),
            app.post(&revoke_path, Some(&f.owner.token), json!({})),
        );
        assert_eq!(revoked.0, StatusCode::OK, "round {round}: revoke: {}", revoked.1);
        if patched.0 != StatusCode::OK {
            assert_error(patched.0, &patched.1, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
        }
        let (_, hook) = app.get(&patch_path, Some(&f.owner.token)).await;
        assert_eq!(hook["isActive"], json!(false), "round {round}: {hook}");
    }
    app.stop().await;
}

on_both_backends!(
    revoking_racing_webhook_update_deadlocks_nothing,
    revocation_racing_refresh_leaves_nothing_alive,
    leaving_racing_token_issuance_leaves_nothing_alive,
    narrowing_racing_token_issuance_cannot_keep_dropped_scope,
    revoking_racing_webhook_creation_leaves_no_active_app_webhook
);
