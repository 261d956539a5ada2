//! A webhook's delivery settings: custom `headers` sent with every delivery, and a
//! `rateLimit` in deliveries per second. Header values are sealed like the signing secret,
//! since they often carry credentials, and are never shown again: reads give their names.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::body::{Prop, Rule};
use super::super::validate::Fields;
use crate::crypto::SecretBox;
use crate::error::ApiResult;
use crate::store::webhooks::DeliverySettings;

pub const MAX_HEADERS: usize = 20;
pub const HEADER_NAME_MAX: usize = 64;
pub const HEADER_VALUE_MAX: usize = 1024;
pub const RATE_LIMIT_MAX: i64 = 10_000;

/// Headers Roster sets itself, and those that describe the connection or the body rather
/// than the message; matched whatever the case.
const RESERVED: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "user-agent",
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "expect",
];
/// Prefixes of Roster's signature and delivery headers.
const RESERVED_PREFIXES: &[&str] = &["x-webhook-", "webhook-"];

/// An HTTP token (RFC 9110 §5.6.2).
fn name_pattern() -> String {
    "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$".into()
}

/// Visible ASCII with inner spaces: what every server reads back unchanged.
fn value_pattern() -> String {
    "^(?:[!-~](?:[ -~]*[!-~])?)?$".into()
}

/// The reserved names, whatever their case, as one pattern.
fn refused_pattern() -> String {
    let any_case = |word: &str| -> String {
        word.chars()
            .map(|c| {
                // The names hold letters and hyphens only; a hyphen is itself outside a class.
                if c.is_ascii_alphabetic() {
                    format!("[{}{}]", c.to_ascii_uppercase(), c)
                } else {
                    c.to_string()
                }
            })
            .collect()
    };
    let exact: Vec<String> = RESERVED.iter().map(|w| any_case(w)).collect();
    let prefixes: Vec<String> = RESERVED_PREFIXES.iter().map(|w| any_case(w)).collect();
    format!("^(?:(?:{})$|(?:{}))", exact.join("|"), prefixes.join("|"))
}

pub const HEADERS: Prop = Prop::optional(
    "headers",
    Rule::StringMap {
        max: MAX_HEADERS,
        name: name_pattern,
        name_max: HEADER_NAME_MAX,
        refused: refused_pattern,
        value: value_pattern,
        value_max: HEADER_VALUE_MAX,
    },
)
.about(
    "Headers sent with every delivery, name to value (at most 20; names are HTTP tokens of at \
     most 64 characters, values visible ASCII of at most 1024). Roster's own headers cannot be \
     set: Content-Type, Content-Length, Content-Encoding, Transfer-Encoding, User-Agent, Host, \
     Connection, Keep-Alive, Proxy-Connection, Proxy-Authorization, TE, Trailer, Upgrade, \
     Expect, and any X-Webhook-* or webhook-*. Values are stored encrypted and never shown \
     again; reads list `headerNames`. On update the object replaces every header; `null` or \
     `{}` removes them all.",
);

pub const RATE_LIMIT: Prop = Prop::optional("rateLimit", Rule::Int { min: 1, max: RATE_LIMIT_MAX })
    .about(
        "Deliveries per second at most, across every instance; deliveries above it wait their \
     turn and are never dropped. `null` (or absent on create) for no limit.",
    );

/// Validates `headers`: the map, or `None` when invalid (and recorded).
fn checked_headers(f: &mut Fields, value: Value) -> Option<BTreeMap<String, String>> {
    let Value::Object(entries) = value else {
        f.error("headers must be an object");
        return None;
    };
    if entries.len() > MAX_HEADERS {
        f.error(format!("headers must have at most {MAX_HEADERS} entries"));
        return None;
    }
    let mut headers = BTreeMap::new();
    let mut refusals = Vec::new();
    for (name, value) in entries {
        let lower = name.to_ascii_lowercase();
        if name.is_empty() || name.len() > HEADER_NAME_MAX || !is_token(&name) {
            refusals.push(format!(
                "header name {name:?} must be an HTTP token of at most {HEADER_NAME_MAX} characters"
            ));
        } else if RESERVED.contains(&lower.as_str())
            || RESERVED_PREFIXES.iter().any(|p| lower.starts_with(p))
        {
            refusals.push(format!("header {name} is set by Roster and cannot be set"));
        } else if let Some(text) = value.as_str().filter(|v| is_header_value(v)) {
            // Names differing only in case are one header, sent with both values.
            headers.insert(name, text.to_owned());
        } else {
            refusals.push(format!(
                "header {name} must be a string of at most {HEADER_VALUE_MAX} visible ASCII \
                 characters, with no space at either end"
            ));
        }
    }
    let valid = refusals.is_empty();
    for refusal in refusals {
        f.error(refusal);
    }
    valid.then_some(headers)
}

/// What [`name_pattern`] accepts.
fn is_token(name: &str) -> bool {
    name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+.^_`|~-".contains(&b))
}

fn is_header_value(v: &str) -> bool {
    v.len() <= HEADER_VALUE_MAX
        && v.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !v.starts_with(' ')
        && !v.ends_with(' ')
}

/// A new webhook's `headers`, if given and valid.
pub fn for_create(f: &mut Fields) -> Option<BTreeMap<String, String>> {
    let value = f.take(&HEADERS)?;
    checked_headers(f, value)
}

/// What an update does to a setting: `Some(None)` removes, `Some(Some(…))` sets, `None` keeps.
pub type Edit<T> = Option<Option<T>>;

/// The update's `headers`: `null` and `{}` remove them all.
pub fn headers_change(f: &mut Fields) -> Edit<BTreeMap<String, String>> {
    if f.is_null(&HEADERS) {
        f.take(&HEADERS);
        return Some(None);
    }
    let value = f.take(&HEADERS)?;
    Some(checked_headers(f, value).filter(|h| !h.is_empty()))
}

/// The update's `rateLimit`: `null` removes it.
pub fn rate_limit_change(f: &mut Fields) -> Edit<i32> {
    if f.is_null(&RATE_LIMIT) {
        f.take(&RATE_LIMIT);
        return Some(None);
    }
    f.optional_int(&RATE_LIMIT).map(|n| i32::try_from(n).ok())
}

/// The stored form of `headers`: names in clear, the map sealed.
pub fn seal(
    secrets: &SecretBox,
    headers: Option<&BTreeMap<String, String>>,
    rate_limit: Option<i32>,
) -> ApiResult<DeliverySettings> {
    let Some(headers) = headers.filter(|h| !h.is_empty()) else {
        return Ok(DeliverySettings { rate_limit, ..DeliverySettings::default() });
    };
    let json = serde_json::to_string(headers).map_err(anyhow::Error::from)?;
    Ok(DeliverySettings {
        header_names: headers.keys().cloned().collect(),
        headers_sealed: Some(secrets.seal(&json)?),
        rate_limit,
    })
}

/// Replaces the headers of `settings` with `headers` (`None`: none); whether they differ.
pub fn replace_headers(
    secrets: &SecretBox,
    settings: &mut DeliverySettings,
    headers: Option<BTreeMap<String, String>>,
) -> ApiResult<bool> {
    let current: BTreeMap<String, String> = match &settings.headers_sealed {
        Some(sealed) => {
            serde_json::from_str(&secrets.open(sealed)?).map_err(anyhow::Error::from)?
        }
        None => BTreeMap::new(),
    };
    let headers = headers.unwrap_or_default();
    if current == headers {
        return Ok(false);
    }
    *settings = seal(secrets, Some(&headers), settings.rate_limit)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refused_pattern_matches_reserved_names_in_any_case() {
        let pattern = refused_pattern();
        assert!(pattern.contains("[Hh][Oo][Ss][Tt]"), "{pattern}");
        assert!(pattern.contains("[Xx]-[Ww]"), "{pattern}");
        assert!(is_header_value("Bearer abc"));
        assert!(!is_header_value(" padded"));
        assert!(!is_header_value("caf\u{e9}"));
        assert!(is_header_value(""));
    }
}
