//! What every operation of the document shares, added in one place from the code that gives
//! those answers: hyper's own refusals (`crate::server::shaped_errors`: 400, 414, 431), the
//! body deadline's 408 (`crate::server::body_deadline`), the router's 405, the 429 of an
//! organization's full write queue (`super::org_writes`),
//! the `Idempotency-Key` header of every POST with its 409 and 422 (`super::idempotency`),
//! and for bodies the extractors' 413 and 415 ([`super::extract::JsonObject`],
//! [`super::oauth::form::OAuthForm`]). A body with no required property is optional, since an
//! empty body counts as `{}`.

use serde_json::{Map, Value, json};
use utoipa::openapi::OpenApi;

const ERROR_BODY: &str = "#/components/schemas/ErrorBody";
const OAUTH_ERROR_BODY: &str = "#/components/schemas/OAuthErrorBody";
const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";
const HTML: &str = "text/html";
const TURNED_AWAY: &str = "Too many writes to this organization are waiting their turn; \
     retry after `Retry-After` seconds";

/// The document with the shared answers added to every operation.
pub fn finish(doc: OpenApi) -> OpenApi {
    let Ok(mut value) = serde_json::to_value(&doc) else { return doc };
    // Free-form JSON in bodies (`Rule::Object`) refers to it.
    value["components"]["schemas"][super::body::STORABLE_VALUE] = super::body::storable_value();
    let schemas = value["components"]["schemas"].clone();
    if let Some(paths) = value["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, operation) in item.iter_mut() {
                let Some(operation) = operation.as_object_mut() else { continue };
                finish_operation(path, operation, &schemas);
                if method == "post" {
                    idempotent(path, operation);
                }
                if method != "get" && path.starts_with("/api/organizations/{organizationId}") {
                    let responses = operation.entry("responses").or_insert_with(|| json!({}));
                    if let Some(responses) = responses.as_object_mut() {
                        add(responses, "429", TURNED_AWAY, JSON, ERROR_BODY);
                    }
                }
            }
        }
    }
    // Only this module's changes to a valid document come here.
    serde_json::from_value(value).unwrap_or(doc)
}

fn finish_operation(path: &str, operation: &mut Map<String, Value>, schemas: &Value) {
    let oauth = path.starts_with("/api/oauth/");
    let own_error = if oauth { OAUTH_ERROR_BODY } else { ERROR_BODY };
    let body_types: Vec<String> = operation
        .get("requestBody")
        .and_then(|b| b["content"].as_object())
        .map(|content| content.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(body) = operation.get_mut("requestBody") {
        let optional = body["content"]
            .as_object()
            .into_iter()
            .flat_map(|content| content.values())
            .filter_map(|media| media["schema"]["$ref"].as_str())
            .filter_map(|r| r.rsplit('/').next())
            .any(|name| schemas[name]["required"].as_array().is_none_or(Vec::is_empty));
        body["required"] = json!(!optional);
    }
    let responses = operation.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else { return };
    add(responses, "400", "Malformed request", JSON, ERROR_BODY);
    add(responses, "405", "Method not allowed", JSON, ERROR_BODY);
    add(responses, "414", "URI is too long", JSON, ERROR_BODY);
    add(responses, "431", "Request header fields are too large", JSON, ERROR_BODY);
    add(responses, "408", "The request body did not arrive in time", JSON, ERROR_BODY);
    if body_types.iter().any(|t| t == JSON) {
        add(responses, "413", "Request body over 1 MiB", JSON, own_error);
        add(responses, "415", "Content-Type is not JSON", JSON, own_error);
    }
    if body_types.iter().any(|t| t == FORM) {
        if path == "/api/oauth/authorize/consent" {
            add_page(responses, "413", "Request body over 1 MiB");
        } else {
            add(responses, "413", "Request body over 1 MiB", JSON, OAUTH_ERROR_BODY);
        }
    }
}

/// The optional `Idempotency-Key` header, by the rules `key::from_headers` enforces, and the
/// answers it adds.
fn idempotent(path: &str, operation: &mut Map<String, Value>) {
    use super::idempotency::key::{self, INVALID};
    use super::idempotency::{IN_PROGRESS, OTHER_REQUEST};
    let header = json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "Retrying with the same key and the same request within 24 hours \
            replays the first answer (with `Idempotent-Replayed: true`) instead of doing the \
            work again. Keys belong to the request's credential; without an `Authorization` \
            header the key is ignored.",
        "schema": {"type": "string", "minLength": 1, "maxLength": key::MAX_LENGTH,
                   "pattern": key::PATTERN},
    });
    let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
    if let Some(parameters) = parameters.as_array_mut() {
        parameters.push(header);
    }
    let responses = operation.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else { return };
    let error = if path.starts_with("/api/oauth/") { OAUTH_ERROR_BODY } else { ERROR_BODY };
    add(responses, "400", INVALID, JSON, error);
    add(responses, "409", IN_PROGRESS, JSON, error);
    add(responses, "422", OTHER_REQUEST, JSON, error);
}

/// Adds `schema` as a possible `content_type` answer with `status`, beside any the
/// operation already has.
fn add(
    responses: &mut Map<String, Value>,
    status: &str,
    about: &str,
    content_type: &str,
    schema: &str,
) {
    let response = responses.entry(status).or_insert_with(|| json!({"description": about}));
    let reference = json!({"$ref": schema});
    let media = &mut response["content"][content_type];
    match media.get("schema").cloned() {
        None => media["schema"] = reference,
        Some(existing) if existing == reference => {}
        Some(existing) => match existing.get("oneOf").and_then(Value::as_array) {
            Some(choices) if choices.contains(&reference) => {}
            Some(choices) => {
                let mut choices = choices.clone();
                choices.push(reference);
                media["schema"] = json!({"oneOf": choices});
            }
            None => media["schema"] = json!({"oneOf": [existing, reference]}),
        },
    }
}

/// Adds an HTML page answer with `status`.
fn add_page(responses: &mut Map<String, Value>, status: &str, about: &str) {
    let response = responses.entry(status).or_insert_with(|| json!({"description": about}));
    response["content"][HTML] = json!({"schema": {"type": "string"}});
}
