//! The scope × route matrix, and the routes that refuse OAuth tokens whatever their scopes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Expect, oauth_app_routes, scoped_routes};
use crate::common::messages::OAUTH_REFUSED;
use crate::common::oauth::{ALL_SCOPES, assert_insufficient_scope, org_path};
use crate::common::receiver::Receiver;
use crate::common::{Backend, PASSWORD, TestApp, assert_error, random_id};

/// Every scope but `scope`, space-separated, as the token endpoint takes them.
fn all_but(scope: &str) -> String {
    ALL_SCOPES.iter().filter(|s| **s != scope).copied().collect::<Vec<_>>().join(" ")
}

async fn every_scoped_route_needs_its_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let receiver = Receiver::start().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let routes = scoped_routes(&app, &f, &receiver).await;

    for scope in ALL_SCOPES {
        assert!(routes.iter().any(|r| r.scope == scope), "the table covers {scope}");
    }
    let mut without = std::collections::HashMap::new();
    let mut only = std::collections::HashMap::new();
    for scope in ALL_SCOPES {
        without.insert(scope, app.client_credentials_token(&oauth, Some(&all_but(scope))).await);
        // Subscribing to `webhook.created` also takes reading webhooks (docs/oauth.md): the
        // webhooks:write routes here create or change webhooks subscribed to it.
        let granted =
            if scope == "webhooks:write" { "webhooks:write webhooks:read" } else { scope };
        only.insert(scope, app.client_credentials_token(&oauth, Some(granted)).await);
    }

    for r in &routes {
        let what = r.what();
        // Without the scope: refused before anything happens, with the challenge.
        let token = without.get(r.scope).expect("token without the scope");
        let (status, headers, body) =
            app.send(r.method.clone(), &r.path, Some(token), r.body.clone()).await;
        assert_insufficient_scope(&what, status, &headers, &body, r.scope);

        // A token of another scope only is refused alike.
        let other = ALL_SCOPES.iter().find(|s| **s != r.scope).expect("another scope");
        let token = only.get(other).expect("token with one scope");
        let (status, headers, body) =
            app.send(r.method.clone(), &r.path, Some(token), r.body.clone()).await;
        assert_insufficient_scope(
            &format!("{what} with only {other}"),
            status,
            &headers,
            &body,
            r.scope,
        );

        // With only that scope: served (or refused by the role rules, never by the scope).
        let token = only.get(r.scope).expect("token with the scope");
        let (status, _, body) =
            app.send(r.method.clone(), &r.path, Some(token), r.body.clone()).await;
        match &r.expect {
            Expect::Ok(ok) => assert_eq!(status, *ok, "{what} with only {}: {body}", r.scope),
            Expect::Refused(code, message) => {
                assert_eq!(status, *code, "{what} with only {}: {body}", r.scope);
                assert_error(status, &body, *code, message);
            }
        }
    }

    // The successful calls did what they say: the organization still exists, renamed.
    let (status, body) = app.get(&org_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Renamed Corp", "{body}");
    let members = app.list_all(&format!("{}/members", org_path(&f.org)), &f.owner.token).await;
    let emails: Vec<&str> = members.iter().map(|m| m["email"].as_str().expect("email")).collect();
    assert!(emails.contains(&"newbie@example.com"), "{emails:?}");
    assert!(!emails.contains(&"leaver@example.com"), "{emails:?}");
    let demoted = members.iter().find(|m| m["email"] == "demoted@example.com").expect("demoted");
    assert_eq!(demoted["role"], "MEMBER");
}

/// The routes about people and OAuth apps refuse OAuth tokens, whatever their scopes.
async fn personal_routes_refuse_oauth_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let oauth = app.create_oauth_app(&f.org, &f.owner, &ALL_SCOPES).await;
    let token = app.client_credentials_token(&oauth, None).await;
    let (status, body) = app
        .post(
            &format!("{}/invites", org_path(&f.org)),
            Some(&f.owner.token),
            json!({"email": f.outsider.email, "role": "MEMBER"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let invite_token = body["token"].as_str().expect("invite token").to_owned();

    let mut routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/users/me".to_owned(), None),
        (
            Method::POST,
            "/api/users/me/tokens".to_owned(),
            Some(json!({"name": "ci", "currentPassword": PASSWORD})),
        ),
        (Method::GET, "/api/users/me/tokens".to_owned(), None),
        (Method::DELETE, format!("/api/users/me/tokens/{}", random_id()), None),
        (Method::PATCH, "/api/users/me".to_owned(), Some(json!({"name": "Sneaky"}))),
        (Method::DELETE, "/api/users/me".to_owned(), Some(json!({"currentPassword": PASSWORD}))),
        (
            Method::POST,
            "/api/users/me/password".to_owned(),
            Some(json!({"currentPassword": PASSWORD, "newPassword": "sneaky password"})),
        ),
        (Method::GET, "/api/users/me/sessions".to_owned(), None),
        (Method::DELETE, "/api/users/me/sessions".to_owned(), None),
        (Method::DELETE, format!("/api/users/me/sessions/{}", random_id()), None),
        (Method::POST, "/api/organizations".to_owned(), Some(json!({"name": "Sneaky Corp"}))),
        (Method::POST, "/api/invites/accept".to_owned(), Some(json!({"token": invite_token}))),
        (Method::POST, "/api/auth/logout".to_owned(), Some(json!({}))),
    ];
    routes.extend(oauth_app_routes(&f.org, &oauth.id));
    for (method, path, body) in &routes {
        let (status, res) = app.call(method.clone(), path, Some(&token), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {res}");
        assert_error(status, &res, StatusCode::FORBIDDEN, OAUTH_REFUSED);
    }

    // None of it happened: the token was not logged out, no organization was created, the
    // invite is still pending and the app is untouched.
    let (status, body) = app.get("/api/organizations", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "the token still works: {body}");
    assert_eq!(body["data"].as_array().expect("data").len(), 1, "{body}");
    let (status, body) =
        app.get(&format!("{}/invites", org_path(&f.org)), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"][0]["status"], "pending", "{body}");
    let (status, body) = app
        .get(&format!("{}/oauth-apps/{}", org_path(&f.org), oauth.id), Some(&f.owner.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "active", "{body}");
    assert_eq!(body["name"], "Test app", "{body}");
    for person in [&f.owner, &f.admin, &f.member, &f.outsider] {
        let (status, body) = app.get("/api/organizations", Some(&person.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(!body.to_string().contains("Sneaky Corp"), "no organization was created: {body}");
    }
    let (status, body) = app.get("/api/users/me/tokens", Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!([]), "no personal token was created: {body}");
    let types = app.event_types(&f.org, &f.owner).await;
    assert!(!types.contains(&"invite.accepted".to_owned()), "{types:?}");
    assert!(!types.contains(&"oauth_app.revoked".to_owned()), "{types:?}");
}

on_both_backends!(every_scoped_route_needs_its_scope, personal_routes_refuse_oauth_tokens);
