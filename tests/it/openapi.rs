//! The served OpenAPI document says what the server does: error bodies as they are, the
//! request rules the server checks, the shared answers, and one name for each path parameter.
//! (`.ci/schemathesis.py` checks the document against the server at large.)

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Backend, TestApp};

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "{name} is in the document");
    schema
}

async fn document_matches_the_server(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (status, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);

    // A sentence, or every violation.
    assert_eq!(
        schema(&doc, "ErrorBody")["properties"]["message"],
        json!({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]})
    );

    // Request rules: unknown properties, lengths, formats, enums, non-empty arrays, bounds.
    let org = schema(&doc, "CreateOrganizationRequest");
    assert_eq!(org["additionalProperties"], json!(false));
    assert_eq!(org["required"], json!(["name"]));
    assert_eq!(org["properties"]["name"]["maxLength"], json!(100));
    assert_eq!(org["properties"]["slug"]["maxLength"], json!(48));
    let register = schema(&doc, "RegisterRequest");
    assert_eq!(register["properties"]["email"]["format"], json!("email"));
    assert_eq!(register["properties"]["password"]["minLength"], json!(8));
    let member = schema(&doc, "AddMemberRequest");
    assert_eq!(member["properties"]["role"]["enum"], json!(["OWNER", "ADMIN", "MEMBER"]));
    let webhook = schema(&doc, "CreateWebhookRequest");
    assert_eq!(webhook["properties"]["events"]["minItems"], json!(1));
    assert_eq!(webhook["properties"]["events"]["items"]["enum"].as_array().map(Vec::len), Some(14));
    assert_eq!(webhook["properties"]["headers"]["maxProperties"], json!(20));
    assert_eq!(webhook["properties"]["rateLimit"]["minimum"], json!(1));
    let view = schema(&doc, "Health");
    assert_eq!(schema(&doc, "DisabledReason")["enum"], json!(["gone", "failing"]));
    assert!(view["properties"]["failingSince"].is_object(), "{view}");
    let app_request = schema(&doc, "CreateOAuthAppRequest");
    assert_eq!(app_request["properties"]["redirectUris"]["maxItems"], json!(10));
    assert_eq!(
        app_request["properties"]["scopes"]["items"]["enum"].as_array().map(Vec::len),
        Some(9)
    );
    let token = schema(&doc, "CreateTokenRequest");
    assert_eq!(token["properties"]["expiresInDays"]["maximum"], json!(3650));

    let paths = &doc["paths"];
    let list = &paths["/api/users/me/tokens"]["get"];
    let limit = list["parameters"].as_array().and_then(|p| p.iter().find(|p| p["name"] == "limit"));
    let limit = limit.expect("limit is documented");
    assert_eq!(
        (&limit["schema"]["minimum"], &limit["schema"]["maximum"]),
        (&json!(1), &json!(100))
    );

    // One name for the organization's ID.
    for path in paths.as_object().expect("paths").keys() {
        assert!(!path.contains("{id}"), "{path}");
    }

    // Shared answers, and bodies that may be empty.
    let patch = &paths["/api/organizations/{organizationId}"]["patch"];
    assert_eq!(patch["requestBody"]["required"], json!(false));
    for status in ["400", "405", "413", "414", "415", "431"] {
        assert!(patch["responses"][status].is_object(), "PATCH answers {status}");
    }
    let test = &paths["/api/organizations/{organizationId}/webhooks/{webhookId}/test"]["post"];
    assert!(test["responses"]["409"].is_object(), "a test delivery answers 409");

    // Every POST takes an Idempotency-Key by the rules the server checks, and may answer
    // 409 (still in progress) and 422 (used with another request); nothing else takes one.
    for (path, item) in paths.as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let header = operation["parameters"].as_array().and_then(|p| {
                p.iter().find(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
            });
            if method != "post" {
                assert!(header.is_none(), "{method} {path}");
                continue;
            }
            let header = header.unwrap_or_else(|| panic!("POST {path} takes Idempotency-Key"));
            assert_eq!(header["required"], json!(false));
            assert_eq!(
                header["schema"],
                json!({"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"})
            );
            for status in ["409", "422"] {
                assert!(operation["responses"][status].is_object(), "POST {path} answers {status}");
            }
        }
    }
    let events = schema(&doc, "EventLogPage");
    assert_eq!(events["properties"]["retainedSince"]["format"], json!("date-time"));

    // The OAuth endpoints' forms, errors and client authentication.
    let token_endpoint = &paths["/api/oauth/token"]["post"];
    let form = &token_endpoint["requestBody"]["content"]["application/x-www-form-urlencoded"];
    assert_eq!(form["schema"]["$ref"], json!("#/components/schemas/TokenRequest"));
    assert_eq!(
        token_endpoint["responses"]["401"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/OAuthErrorBody"})
    );
    assert_eq!(token_endpoint["security"], json!([{"client_basic": []}, {}]));
    assert_eq!(
        doc["components"]["securitySchemes"]["client_basic"],
        json!({"type": "http", "scheme": "basic"})
    );
    app.stop().await;
}

on_both_backends!(document_matches_the_server);
