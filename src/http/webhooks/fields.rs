//! The checks of a webhook's `url` and `events`, worded as the original API page words them.
//! Where a URL may point is the product's rule, [`crate::domain::webhook_url::check`]; here
//! it is only put into the API's words.

use serde_json::Value;

use super::super::body::{self, Prop, Rule};
use super::super::validate::Fields;
use crate::domain::event::EventType;
use crate::domain::webhook_url::{self, Refusal};

pub const URL_MAX: usize = 2048;

/// `https://` and a host name, with an optional port, path and query: what every server
/// accepts. [`url`] is the whole rule (a literal address, or `http://` where private delivery
/// is allowed, passes it but not this pattern).
pub fn url_pattern() -> String {
    body::url_pattern(&format!("https://{}", body::HOST_NAME))
}

fn event_names() -> Vec<&'static str> {
    EventType::ALL.iter().map(|e| e.as_str()).collect()
}

pub const URL: Prop = Prop::required(
    "url",
    Rule::Matching { pattern: url_pattern, format: Some("uri"), min: 1, max: URL_MAX },
)
.about(
    "An absolute `https://` URL with no credentials (`user:pass@`) and no control characters; \
     `http://` and private addresses only when the server allows private delivery.",
);
pub const EVENTS: Prop =
    Prop::required("events", Rule::List { item: &Rule::OneOf(event_names), max: None })
        .about("Event types to subscribe to; duplicates collapse.");
pub const IS_ACTIVE: Prop = Prop::optional("isActive", Rule::Bool);

/// Validates `url`; empty when invalid (and recorded).
pub fn url(f: &mut Fields, value: Option<Value>, allow_private: bool) -> String {
    checked_url(f, value, allow_private).unwrap_or_default()
}

fn checked_url(f: &mut Fields, value: Option<Value>, allow_private: bool) -> Option<String> {
    let Some(Value::String(raw)) = value else {
        f.error("url must be a valid URL");
        return None;
    };
    if raw.chars().count() > URL_MAX {
        f.error(format!("url must be shorter than or equal to {URL_MAX} characters"));
        return None;
    }
    let raw = raw.trim();
    // The URL is stored as given, so refuse what the parser would silently strip or encode:
    // control characters, and anything else outside URI syntax.
    if raw.chars().any(char::is_control) || !crate::domain::uri::is_uri(raw) {
        f.error("url must be a valid URL");
        return None;
    }
    let parsed = match url::Url::parse(raw) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https") && crate::domain::uri::has_real_host(&u) =>
        {
            u
        }
        _ => {
            f.error("url must be a valid URL");
            return None;
        }
    };
    // Credentials in a URL would be sent as Basic auth and shown back in clear in every read
    // of the webhook and in its `webhook.created` event.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        f.error("url must not contain credentials");
        return None;
    }
    match webhook_url::check(&parsed, allow_private) {
        Ok(()) => {}
        Err(Refusal::Insecure) => {
            f.error("url must be a valid HTTPS URL");
            return None;
        }
        Err(Refusal::ForbiddenAddress) => {
            f.error("url must not point to a private, loopback or link-local address");
            return None;
        }
    }
    // Stored as given: the URL a user reads back is the one they wrote.
    Some(raw.to_owned())
}

/// Validates `events`: a non-empty array of catalog event types, duplicates collapsed, in
/// catalog order; empty when invalid (and recorded).
pub fn events(f: &mut Fields, value: Option<Value>) -> Vec<EventType> {
    checked_events(f, value).unwrap_or_default()
}

fn checked_events(f: &mut Fields, value: Option<Value>) -> Option<Vec<EventType>> {
    let Some(Value::Array(items)) = value else {
        f.error("events must be an array");
        return None;
    };
    if items.is_empty() {
        f.error("events should not be empty");
        return None;
    }
    let mut events = Vec::new();
    for item in &items {
        match item.as_str().and_then(EventType::parse) {
            Some(e) if !events.contains(&e) => events.push(e),
            Some(_) => {}
            None => {
                f.error(format!(
                    "each value in events must be one of the following values: {}",
                    EventType::catalog()
                ));
                return None;
            }
        }
    }
    events.sort_by_key(|e| EventType::ALL.iter().position(|x| x == e));
    Some(events)
}
