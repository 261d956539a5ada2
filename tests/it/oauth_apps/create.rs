//! Creating an app: its client secret shown once, validation in class-validator wording.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    BAD_REDIRECT, BAD_SCOPE, NAME_EMPTY, NAME_NOT_STRING, NAME_TOO_LONG, SCOPES_EMPTY,
    SCOPES_NOT_ARRAY, URIS_EMPTY, URIS_NOT_ARRAY, app_path, apps_path, assert_app_view,
    assert_app_with_secret, assert_no_secret, assert_secret_works, create_raw, events_of,
};
use crate::common::oauth::ALL_SCOPES;
use crate::common::{Backend, TestApp, assert_error, assert_validation, str_of};

const URIS_TOO_MANY: &str = "redirectUris must contain no more than 10 elements";

async fn create_returns_the_app_with_its_secret_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;

    let uris = ["https://app.example.com/callback", "http://localhost:8080/cb"];
    // Scopes come back in the catalog's order whatever the request's.
    let (status, body) = create_raw(
        &app,
        &f.org,
        &f.owner,
        json!({
            "name": "Dashboard",
            "redirectUris": uris,
            "scopes": ["webhooks:read", "members:read", "organization:read"],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let scopes = ["organization:read", "members:read", "webhooks:read"];
    let secret = assert_app_with_secret(&body, &f.org, "Dashboard", &uris, &scopes);
    let id = str_of(&body, "id").to_owned();
    let client_id = str_of(&body, "clientId").to_owned();
    assert_eq!(body["createdAt"], body["updatedAt"], "a new app was never updated: {body}");

    // The secret works, and is never shown again.
    assert_secret_works(&app, &client_id, &secret).await;
    let (status, one) = app.get(&app_path(&f.org, &id), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_app_view(&one, &f.org, "Dashboard", &uris, &scopes, "active");
    let mut expected = body.clone();
    expected.as_object_mut().expect("object").remove("clientSecret");
    assert_eq!(one, expected, "GET shows what create did, minus the secret");
    assert_no_secret(&one, &[&secret]);
    let (status, list) = app.get(&apps_path(&f.org), Some(&f.admin.token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list, json!({"data": [expected], "nextCursor": null}));
    assert_no_secret(&list, &[&secret]);

    // An ADMIN registers apps too; every documented scope, and native-app redirect URIs.
    let native = [
        "http://localhost:8080/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:7/cb",
        "http://localhost/cb?x=1",
        "https://x.example/cb?a=b&c=d",
    ];
    let (status, body) = create_raw(
        &app,
        &f.org,
        &f.admin,
        json!({"name": "CLI", "redirectUris": native, "scopes": ALL_SCOPES}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let cli_secret = assert_app_with_secret(&body, &f.org, "CLI", &native, &ALL_SCOPES);
    assert_ne!(cli_secret, secret, "every app has its own secret");
    assert_ne!(body["clientId"], json!(client_id), "every app has its own client ID");
    assert_ne!(body["id"], json!(id));

    // The limits themselves are allowed: 100-character names, 10 URIs, 2048-character URIs.
    let longest =
        format!("https://example.com/{}", "a".repeat(2048 - "https://example.com/".len()));
    assert_eq!(longest.len(), 2048);
    let mut ten: Vec<String> = (1..10).map(|i| format!("https://example.com/cb{i}")).collect();
    ten.push(longest);
    let name = "n".repeat(100);
    let (status, body) = create_raw(
        &app,
        &f.org,
        &f.owner,
        json!({"name": name, "redirectUris": ten, "scopes": ["members:write"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
    assert_app_with_secret(&body, &f.org, &name, &ten, &["members:write"]);

    let (status, list) = app.get(&apps_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["data"].as_array().expect("data").len(), 3, "{list}");
    assert_no_secret(&list, &[&secret, &cli_secret]);
}

async fn create_validates_in_class_validator_wording(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let path = apps_path(&f.org);
    let token = Some(f.owner.token.as_str());
    let uris = json!(["https://app.example.com/cb"]);
    let scopes = json!(["members:read"]);

    // name
    let (status, body) =
        app.post(&path, token, json!({"redirectUris": uris, "scopes": scopes})).await;
    assert_validation(status, &body, &[NAME_EMPTY, NAME_NOT_STRING]);
    for name in [json!(""), json!("   ")] {
        let (status, body) = app
            .post(&path, token, json!({"name": name, "redirectUris": uris, "scopes": scopes}))
            .await;
        assert_validation(status, &body, &[NAME_EMPTY]);
    }
    for name in [json!(42), json!(["Dashboard"]), json!({"a": 1}), json!(true)] {
        let (status, body) = app
            .post(&path, token, json!({"name": name, "redirectUris": uris, "scopes": scopes}))
            .await;
        assert_validation(status, &body, &[NAME_NOT_STRING]);
    }
    let (status, body) = app
        .post(
            &path,
            token,
            json!({"name": "n".repeat(101), "redirectUris": uris, "scopes": scopes}),
        )
        .await;
    assert_validation(status, &body, &[NAME_TOO_LONG]);

    // redirectUris
    for bad in [json!("https://app.example.com/cb"), json!(null), json!(7), json!({"a": "b"})] {
        let (status, body) = app
            .post(&path, token, json!({"name": "A", "redirectUris": bad, "scopes": scopes}))
            .await;
        assert_validation(status, &body, &[URIS_NOT_ARRAY]);
    }
    let (status, body) = app.post(&path, token, json!({"name": "A", "scopes": scopes})).await;
    assert_validation(status, &body, &[URIS_NOT_ARRAY]);
    let (status, body) =
        app.post(&path, token, json!({"name": "A", "redirectUris": [], "scopes": scopes})).await;
    assert_validation(status, &body, &[URIS_EMPTY]);
    for bad in [
        json!("http://example.com/cb"),
        json!("ftp://example.com/cb"),
        json!("/cb"),
        json!("cb"),
        json!("https://x.example/cb#frag"),
        json!("https://x.example/cb#"),
        json!("not a url"),
        json!(""),
        json!("https://"),
        json!("javascript:alert(1)"),
        json!("http://localhost.example.com/cb"),
        json!("http://192.168.1.1/cb"),
        // Control characters the URL parser would encode or strip.
        json!("https://app.example.com/c\u{7}b"),
        json!(7),
        json!(null),
    ] {
        let (status, body) = app
            .post(&path, token, json!({"name": "A", "redirectUris": [bad], "scopes": scopes}))
            .await;
        assert_validation(status, &body, &[BAD_REDIRECT]);
    }
    // NUL, which PostgreSQL cannot store, is refused wherever it is in a body.
    let nul =
        json!({"name": "A", "redirectUris": ["https://app.example.com/cb\u{0}"], "scopes": scopes});
    let (status, body) = app.post(&path, token, nul).await;
    assert_validation(status, &body, &["redirectUris must not contain null characters"]);
    // One bad entry among good ones is one message.
    let (status, body) = app
        .post(
            &path,
            token,
            json!({
                "name": "A",
                "redirectUris": ["https://ok.example/cb", "http://example.com/cb", "/cb"],
                "scopes": scopes,
            }),
        )
        .await;
    assert_validation(status, &body, &[BAD_REDIRECT]);
    let eleven: Vec<String> = (0..11).map(|i| format!("https://example.com/cb{i}")).collect();
    let (status, body) = app
        .post(&path, token, json!({"name": "A", "redirectUris": eleven, "scopes": scopes}))
        .await;
    assert_validation(status, &body, &[URIS_TOO_MANY]);
    let too_long =
        format!("https://example.com/{}", "a".repeat(2049 - "https://example.com/".len()));
    assert_eq!(too_long.len(), 2049);
    let (status, body) = app
        .post(&path, token, json!({"name": "A", "redirectUris": [too_long], "scopes": scopes}))
        .await;
    assert_validation(
        status,
        &body,
        &["each value in redirectUris must be shorter than or equal to 2048 characters"],
    );

    // scopes
    for bad in [json!("members:read"), json!(null), json!(1), json!({"members:read": true})] {
        let (status, body) =
            app.post(&path, token, json!({"name": "A", "redirectUris": uris, "scopes": bad})).await;
        assert_validation(status, &body, &[SCOPES_NOT_ARRAY]);
    }
    let (status, body) = app.post(&path, token, json!({"name": "A", "redirectUris": uris})).await;
    assert_validation(status, &body, &[SCOPES_NOT_ARRAY]);
    let (status, body) =
        app.post(&path, token, json!({"name": "A", "redirectUris": uris, "scopes": []})).await;
    assert_validation(status, &body, &[SCOPES_EMPTY]);
    for bad in [
        json!(["members:read", "members:delete"]),
        json!(["MEMBERS:READ"]),
        json!(["members"]),
        json!(["openid"]),
        json!(["members:read members:write"]),
        json!([""]),
        json!([7]),
        json!([null]),
    ] {
        let (status, body) =
            app.post(&path, token, json!({"name": "A", "redirectUris": uris, "scopes": bad})).await;
        assert_validation(status, &body, &[BAD_SCOPE]);
    }

    // Unknown properties, including the ones the server sets itself.
    for field in ["foo", "clientSecret", "clientId", "status", "organizationId"] {
        let mut body = json!({"name": "A", "redirectUris": uris, "scopes": scopes});
        body[field] = json!("x");
        let (status, res) = app.post(&path, token, body).await;
        let message = format!("property {field} should not exist");
        assert_validation(status, &res, &[message.as_str()]);
    }

    // Every violation at once.
    let (status, body) = app
        .post(&path, token, json!({"foo": 1, "name": "", "redirectUris": [], "scopes": "x"}))
        .await;
    assert_validation(
        status,
        &body,
        &["property foo should not exist", NAME_EMPTY, URIS_EMPTY, SCOPES_NOT_ARRAY],
    );
    let (status, body) = app.post(&path, token, json!({})).await;
    assert_validation(
        status,
        &body,
        &[NAME_EMPTY, NAME_NOT_STRING, URIS_NOT_ARRAY, SCOPES_NOT_ARRAY],
    );

    // A body that is not JSON, or not an object.
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&f.owner.token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .expect("request sent");
    let status = res.status();
    let body: Value = res.json().await.expect("JSON error body");
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");
    let (status, body) = app.post(&path, token, json!(["name"])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["statusCode"], 400, "{body}");

    // Nothing was created by any of it.
    let (status, body) = app.get(&path, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"data": [], "nextCursor": null}));
    assert!(events_of(&app, &f.org, &f.owner, "oauth_app.created").await.is_empty());
}

on_both_backends!(
    create_returns_the_app_with_its_secret_once,
    create_validates_in_class_validator_wording
);
