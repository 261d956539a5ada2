//! The event catalogue: Roster's types beside the application's, registered, replaced and
//! deprecated with a server key, read with any credential.

use reqwest::{Method, StatusCode};
use roster::domain::key_scope::KeyScope;
use serde_json::{Value, json};

use super::{full_key, invoice_schema, put_type, server_key};
use crate::common::{AUTH_REQUIRED, Backend, TestApp, assert_error, assert_validation};

const BAD_NAME: &str = "name must be noun.verb: two words of lowercase letters, digits and _, \
     each starting with a letter, at most 64 characters";
const RESERVED: &str = "name must not be one of Roster's event types nor start with their nouns \
     (organization, member, invite, oauth_app, webhook, delivery, user, roster)";

async fn types_are_registered_replaced_and_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = full_key(&app).await;
    let (status, made) = put_type(&app, &key, "invoice.paid", invoice_schema()).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["name"], "invoice.paid");
    assert_eq!(made["description"], "invoice.paid happened");
    assert_eq!(made["schema"], invoice_schema());
    assert_eq!((made["builtIn"].clone(), made["deprecated"].clone()), (json!(false), json!(false)));

    let replaced_schema = json!({"type": "object", "required": ["invoiceId"]});
    let (status, replaced) = put_type(&app, &key, "invoice.paid", replaced_schema.clone()).await;
    assert_eq!(status, StatusCode::OK, "the same name again replaces it: {replaced}");
    assert_eq!(replaced["schema"], replaced_schema);
    assert_eq!(replaced["createdAt"], made["createdAt"]);

    let user = app.register("reader").await;
    let (status, one) = app.get("/api/event-types/invoice.paid", Some(&user.token)).await;
    assert_eq!((status, one["schema"].clone()), (StatusCode::OK, replaced_schema), "{one}");
    let (status, built_in) = app.get("/api/event-types/member.added", Some(&user.token)).await;
    assert_eq!(status, StatusCode::OK, "{built_in}");
    assert_eq!(built_in["builtIn"], true);
    assert_eq!(built_in["schema"]["required"], json!(["userId", "email", "role", "actor"]));
    let (status, body) = app.get("/api/event-types/invoice.void", Some(&user.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Event type not found");

    put_type(&app, &key, "project.archived", json!({"type": "object"})).await;
    // Compared byte by byte on both backends: `.` before `_`, whatever the database's locale.
    put_type(&app, &key, "invoice_line.added", json!({"type": "object"})).await;
    let all = app.list_all("/api/event-types", &user.token).await;
    let names: Vec<&str> = all.iter().map(|t| t["name"].as_str().expect("name")).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "by name");
    assert_eq!(names.len(), 17, "Roster's fourteen and the application's three: {names:?}");
    assert!(names.contains(&"invoice.paid") && names.contains(&"webhook.created"));
    let at = |name: &str| names.iter().position(|n| *n == name).expect(name);
    assert!(at("invoice.paid") < at("invoice_line.added"), "{names:?}");
    // Pages of three meet in the middle of Roster's types and the application's.
    let (mut seen, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let path = match &cursor {
            None => "/api/event-types?limit=3".to_owned(),
            Some(c) => format!("/api/event-types?limit=3&cursor={c}"),
        };
        let (status, page) = app.get(&path, Some(&user.token)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(page["data"].as_array().expect("data").iter().map(|t| t["name"].clone()));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, names.iter().map(|n| json!(n)).collect::<Vec<Value>>());
}

async fn names_and_schemas_are_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = full_key(&app).await;
    for name in ["invoice", "Invoice.paid", "invoice.paid.late", "invoice-x.paid", "2fa.on"] {
        let (status, body) = put_type(&app, &key, name, json!({})).await;
        assert_validation(status, &body, &[BAD_NAME]);
    }
    for name in ["member.added", "member.promoted", "webhook.paused", "delivery.late"] {
        let (status, body) = put_type(&app, &key, name, json!({})).await;
        assert_validation(status, &body, &[RESERVED]);
    }
    let put = |body: Value| {
        let app = &app;
        let key = key.clone();
        async move {
            app.call(Method::PUT, "/api/event-types/invoice.paid", Some(&key), Some(body)).await
        }
    };
    let (status, body) = put(json!({"schema": {}, "extra": 1})).await;
    assert_validation(
        status,
        &body,
        &[
            "property extra should not exist",
            "description should not be empty",
            "description must be a string",
        ],
    );
    let (status, body) = put(json!({"description": "Paid", "schema": [1]})).await;
    assert_validation(status, &body, &["schema must be an object"]);
    let (status, body) = put(json!({"description": "Paid", "schema": {"type": "objekt"}})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"][0].as_str().expect("message").starts_with("schema/type: "), "{body}");
    let remote = json!({"description": "Paid", "schema": {"$ref": "https://example.com/s.json"}});
    let (status, body) = put(remote).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "nothing is fetched: {body}");
    let draft7 = json!({"$schema": "http://json-schema.org/draft-07/schema#"});
    let (status, body) = put(json!({"description": "Paid", "schema": draft7})).await;
    assert_validation(
        status,
        &body,
        &["schema must be a JSON Schema of draft https://json-schema.org/draft/2020-12/schema"],
    );
    let (status, _) = app.get("/api/event-types/invoice.paid", Some(&key)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing refused was stored");
}

async fn only_keys_that_may_change_the_catalogue_change_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let org = app.create_org(&owner, "Acme").await;
    let oauth = app.create_oauth_app(&org, &owner, &["organization:read", "events:publish"]).await;
    let oauth_token = app.client_credentials_token(&oauth, None).await;
    let publisher = server_key(&app, &[KeyScope::EventsPublish]).await;
    let writers_only =
        "Access denied. Only server keys with the event-types:write scope can do this.";
    for token in [&owner.token, &oauth_token] {
        let (status, body) = put_type(&app, token, "invoice.paid", invoice_schema()).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, writers_only);
        let (status, body) =
            app.post("/api/event-types/invoice.paid/deprecate", Some(token), json!({})).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, writers_only);
        let (status, _) = app.get("/api/event-types", Some(token)).await;
        assert_eq!(status, StatusCode::OK, "anyone signed in reads it");
    }
    let (status, body) = put_type(&app, &publisher, "invoice.paid", invoice_schema()).await;
    assert_error(
        status,
        &body,
        StatusCode::FORBIDDEN,
        "Access denied. This server key lacks the event-types:write scope.",
    );
    let (status, body) = put_type(&app, "", "invoice.paid", invoice_schema()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = app.get("/api/event-types", None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, AUTH_REQUIRED);
}

async fn deprecation_is_recorded_and_undone_by_registering_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = full_key(&app).await;
    put_type(&app, &key, "invoice.paid", invoice_schema()).await;
    let deprecate = |name: &str| format!("/api/event-types/{name}/deprecate");
    let (status, body) = app.post(&deprecate("invoice.paid"), Some(&key), json!({})).await;
    assert_eq!((status, body["deprecated"].clone()), (StatusCode::OK, json!(true)), "{body}");
    let at = body["deprecatedAt"].clone();
    crate::common::assert_timestamp(&at);
    let (_, again) = app.post(&deprecate("invoice.paid"), Some(&key), json!({})).await;
    assert_eq!(again["deprecatedAt"], at, "deprecating twice keeps the first time");
    let (status, body) = app.post(&deprecate("member.added"), Some(&key), json!({})).await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        "Roster's own event types cannot be deprecated",
    );
    let (status, body) = app.post(&deprecate("invoice.void"), Some(&key), json!({})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "Event type not found");
    let (status, body) = put_type(&app, &key, "invoice.paid", invoice_schema()).await;
    assert_eq!((status, body["deprecated"].clone()), (StatusCode::OK, json!(false)), "{body}");
}

on_both_backends!(
    types_are_registered_replaced_and_read,
    names_and_schemas_are_checked,
    only_keys_that_may_change_the_catalogue_change_it,
    deprecation_is_recorded_and_undone_by_registering_again
);
