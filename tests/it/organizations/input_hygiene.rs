//! Malformed input on every route.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{SLUG_RULE, is_valid_slug, org_path, raw};
use crate::common::{Backend, TestApp, assert_error, assert_validation};

/// Like [`raw`], with the body parsed as JSON.
async fn raw_json(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> (StatusCode, Value) {
    let (status, _, text) = raw(app, method, path, token, content_type, Some(body.to_vec())).await;
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body: {text}"));
    (status, body)
}

async fn input_hygiene_across_routes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let token = Some(f.owner.token.as_str());
    let json_ct = Some("application/json");
    let org = org_path(&f.org);

    // Routes that take a JSON body.
    let bodied: Vec<(Method, String)> = vec![
        (Method::POST, "/api/organizations".into()),
        (Method::PATCH, org.clone()),
        (Method::POST, format!("{org}/members")),
        (Method::PATCH, format!("{org}/members/{}", f.member.id)),
        (Method::POST, "/api/users/me/tokens".into()),
        (Method::PATCH, "/api/users/me".into()),
        (Method::POST, "/api/users/me/password".into()),
        (Method::DELETE, "/api/users/me".into()),
    ];
    for (method, path) in &bodied {
        let (status, body) =
            raw_json(&app, method.clone(), path, token, json_ct, b"{\"name\": ").await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");
        let (status, body) = raw_json(&app, method.clone(), path, token, json_ct, b"name=x").await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");
        for not_object in [&b"[1, 2]"[..], b"\"text\"", b"42", b"null"] {
            let (status, body) =
                raw_json(&app, method.clone(), path, token, json_ct, not_object).await;
            assert_error(
                status,
                &body,
                StatusCode::BAD_REQUEST,
                "Request body must be a JSON object",
            );
        }
        let (status, body) =
            raw_json(&app, method.clone(), path, token, Some("text/plain"), b"{\"name\":\"x\"}")
                .await;
        assert_error(
            status,
            &body,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
        let (status, body) = raw_json(
            &app,
            method.clone(),
            path,
            token,
            Some("application/x-www-form-urlencoded"),
            b"name=x",
        )
        .await;
        assert_error(
            status,
            &body,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        );
    }
    // Register takes no token but the same body rules.
    let (status, body) =
        raw_json(&app, Method::POST, "/api/auth/register", None, json_ct, b"{oops}").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");

    // A charset parameter and a +json type are still JSON.
    let (status, body) = raw_json(
        &app,
        Method::POST,
        "/api/organizations",
        token,
        Some("application/json; charset=utf-8"),
        br#"{"name": "Charset Co"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Bodies over 1 MiB.
    let mut big = br#"{"name": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    big.extend(br#""}"#);
    for (method, path) in
        [(Method::POST, "/api/organizations".to_owned()), (Method::PATCH, org.clone())]
    {
        let (status, body) = raw_json(&app, method, &path, token, json_ct, &big).await;
        assert_error(
            status,
            &body,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request body must not exceed 1 MiB",
        );
    }
    // Just under the limit is read, and then refused by validation, not by size.
    let mut near = br#"{"name": ""#.to_vec();
    near.extend(std::iter::repeat_n(b'a', 1024 * 1024 - 20));
    near.extend(br#""}"#);
    let (status, body) =
        raw_json(&app, Method::POST, "/api/organizations", token, json_ct, &near).await;
    assert_validation(status, &body, &["name must be shorter than or equal to 100 characters"]);

    // Unknown routes and wrong methods.
    for (method, path) in [
        (Method::GET, "/api/nope"),
        (Method::POST, "/api/nope"),
        (Method::GET, "/nope"),
        (Method::GET, "/api/organizations/x/y/z/w"),
    ] {
        let (status, body) = raw_json(&app, method.clone(), path, token, None, b"").await;
        assert_eq!(
            (status, body),
            (
                StatusCode::NOT_FOUND,
                json!({"statusCode": 404, "message": format!("Cannot {method} {path}")})
            )
        );
    }
    for (method, path) in [
        (Method::PUT, "/api/organizations".to_owned()),
        (Method::DELETE, "/api/organizations".to_owned()),
        (Method::POST, org.clone()),
        (Method::PUT, format!("{org}/events")),
        (Method::DELETE, "/api/health".to_owned()),
    ] {
        let (status, body) = raw_json(&app, method.clone(), &path, token, None, b"").await;
        assert_eq!(
            (status, body),
            (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"statusCode": 405, "message": format!("Cannot {method} {path}")})
            )
        );
    }

    // Odd but well-formed input is a 4xx or a success, never a 5xx.
    // PostgreSQL cannot store NUL in text: both backends refuse it up front.
    let (status, body) =
        app.post("/api/organizations", token, json!({"name": "nul\u{0}byte"})).await;
    assert_validation(status, &body, &["name must not contain null characters"]);
    let (status, body) = app.patch(&org, token, json!({"name": "a\u{0}"})).await;
    assert_validation(status, &body, &["name must not contain null characters"]);
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({"email": "nul@example.com", "password": "correct horse battery", "name": "a\u{0}b"}),
        )
        .await;
    assert_validation(status, &body, &["name must not contain null characters"]);
    let odd_names =
        ["emoji 🚀 org", "'; DROP TABLE organizations; --", "\u{202e}rtl", "tab\tand\nnewline"];
    for name in odd_names {
        let (status, body) = app.post("/api/organizations", token, json!({"name": name})).await;
        assert!(
            status == StatusCode::CREATED || status == StatusCode::BAD_REQUEST,
            "{name:?}: {status} {body}"
        );
        if status == StatusCode::CREATED {
            let (status, read) = app.get(&org_path(body["id"].as_str().expect("id")), token).await;
            assert_eq!(status, StatusCode::OK, "{read}");
            assert_eq!(read["name"], name.trim());
            assert!(is_valid_slug(read["slug"].as_str().expect("slug")), "{read}");
        }
    }
    let (status, body) =
        app.post("/api/organizations", token, json!({"name": "S", "slug": "nul\u{0}slug"})).await;
    assert_validation(status, &body, &["slug must not contain null characters"]);
    // Anywhere in a body, and in a query string.
    let hook = json!({"url": "https://example.com/hook", "events": ["member.added\u{0}"]});
    let (status, body) = app.post(&format!("{org}/webhooks"), token, hook).await;
    assert_validation(status, &body, &["events must not contain null characters"]);
    let (status, body) = app.get(&format!("{org}/events?event=a%00"), token).await;
    assert_validation(status, &body, &["event must not contain null characters"]);
    for slug in ["ünïcode", "a--b-", "UPPER-case"] {
        let (status, body) =
            app.post("/api/organizations", token, json!({"name": "S", "slug": slug})).await;
        assert_validation(status, &body, &[SLUG_RULE]);
    }
    let long_query = format!("/api/organizations?cursor={}", "A".repeat(4000));
    let (status, body) = app.get(&long_query, token).await;
    assert_validation(status, &body, &["cursor must be a cursor returned by a previous page"]);
    // Deeply nested JSON is refused cleanly.
    let deep = format!("{{\"name\": {}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let (status, body) =
        raw_json(&app, Method::POST, "/api/organizations", token, json_ct, deep.as_bytes()).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "Request body must be valid JSON");

    // The server is still healthy after all of it.
    let (status, _) = app.get("/api/ready", None).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

on_both_backends!(input_hygiene_across_routes);
