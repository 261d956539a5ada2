//! The checks of a webhook's `url` and `events`, worded as the original API page words them.
//! Where a URL may point is the product's rule, [`crate::domain::webhook_url::check`]; here
//! it is only put into the API's words.

use serde_json::Value;

use super::super::body::{self, Prop, Rule};
use super::super::validate::Fields;
use crate::domain::event::{EventName, EventType};
use crate::domain::webhook_url::{self, Refusal};
use crate::store::{Db, event_types};

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

/// The application's registered event types, which webhooks may subscribe to beside
/// Roster's own.
#[derive(Debug, Default)]
pub struct Registered {
    live: Vec<String>,
    deprecated: Vec<String>,
}

impl Registered {
    /// The registered types, read only if `events` names a type that is not Roster's.
    pub async fn load_for(db: &Db, events: Option<&Value>) -> Result<Self, sqlx::Error> {
        let all_built_in = events.and_then(Value::as_array).is_none_or(|items| {
            items.iter().all(|item| item.as_str().and_then(EventType::parse).is_some())
        });
        if all_built_in {
            return Ok(Self::default());
        }
        let mut conn = db.acquire().await?;
        let mut registered = Self::default();
        for (name, deprecated) in event_types::names(&mut conn).await? {
            if deprecated {
                registered.deprecated.push(name);
            } else {
                registered.live.push(name);
            }
        }
        Ok(registered)
    }

    fn find(&self, name: &str) -> Option<EventName> {
        let known = self.live.iter().chain(&self.deprecated).any(|n| n == name);
        known.then(|| EventName::Custom(name.to_owned()))
    }

    /// Refuses subscriptions to deprecated types that `events` adds to `before`: a webhook
    /// keeps the ones it had, but none takes up a type being retired.
    pub fn check_new_subscriptions(
        &self,
        events: &[EventName],
        before: &[EventName],
    ) -> Result<(), Vec<String>> {
        let refused: Vec<String> = events
            .iter()
            .filter(|e| !before.contains(e) && self.deprecated.iter().any(|d| d == e.as_str()))
            .map(|e| format!("events must not subscribe to {e}: it is deprecated"))
            .collect();
        if refused.is_empty() { Ok(()) } else { Err(refused) }
    }
}

/// Validates `events`: a non-empty array of Roster's event types and the application's,
/// duplicates collapsed, in catalog order; empty when invalid (and recorded). The message for
/// an unknown type lists Roster's original types, as the original API page words it.
pub fn events(f: &mut Fields, value: Option<Value>, registered: &Registered) -> Vec<EventName> {
    checked_events(f, value, registered).unwrap_or_default()
}

fn checked_events(
    f: &mut Fields,
    value: Option<Value>,
    registered: &Registered,
) -> Option<Vec<EventName>> {
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
        let name = item.as_str().and_then(|s| {
            EventType::parse(s).map(EventName::BuiltIn).or_else(|| registered.find(s))
        });
        match name {
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
    events.sort_by(|a, b| a.order().cmp(&b.order()));
    Some(events)
}
