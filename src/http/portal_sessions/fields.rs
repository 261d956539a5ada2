//! What a portal session is made with: the event types it offers, whether it only reads,
//! the origins that may frame it, and its theme.

use serde_json::Value;

use crate::http::body::{Prop, Rule};
use crate::http::validate::Fields;
use crate::http::webhooks::fields as webhook_fields;

pub const FRAME_ANCESTORS_MAX: usize = 10;
const ORIGIN_MAX: usize = 256;
const LOGO_URL_MAX: usize = 2048;

fn origin_pattern() -> String {
    r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$".to_owned()
}

fn color_pattern() -> String {
    "^#[0-9a-fA-F]{6}$".to_owned()
}

fn logo_pattern() -> String {
    r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$".to_owned()
}

pub const EVENTS: Prop = Prop { required: false, ..webhook_fields::EVENTS }.about(
    "The only event types the portal offers, and the only webhooks it shows are those \
     subscribed to nothing else. All types when absent.",
);
pub const READ_ONLY: Prop = Prop::optional("readOnly", Rule::Bool)
    .about("Show the webhooks and their deliveries, change nothing. False when absent.");
pub const FRAME_ANCESTORS: Prop = Prop::optional(
    "frameAncestors",
    Rule::List {
        item: &Rule::Matching { pattern: origin_pattern, format: None, min: 1, max: ORIGIN_MAX },
        max: Some(FRAME_ANCESTORS_MAX),
    },
)
.about(
    "Origins (`https://app.example.com`, no path) whose pages may show the portal in an \
     iframe. None when absent: the portal then opens only as a page of its own.",
);
const COLOR: Rule = Rule::Matching { pattern: color_pattern, format: None, min: 7, max: 7 };
pub const PRIMARY_COLOR: Prop =
    Prop::optional("primaryColor", COLOR).about("Buttons and links, as `#rrggbb`.");
pub const BACKGROUND_COLOR: Prop =
    Prop::optional("backgroundColor", COLOR).about("The page's background, as `#rrggbb`.");
pub const LOGO_URL: Prop = Prop::optional(
    "logoUrl",
    Rule::Matching { pattern: logo_pattern, format: Some("uri"), min: 9, max: LOGO_URL_MAX },
)
.about("An `https://` image shown at the top of the page.");

/// `frameAncestors`: each an `http(s)` origin, kept as its scheme, host and port.
pub fn frame_ancestors(f: &mut Fields, value: Option<Value>) -> Vec<String> {
    let Some(value) = value else { return Vec::new() };
    let Value::Array(items) = value else {
        f.error("frameAncestors must be an array");
        return Vec::new();
    };
    if items.len() > FRAME_ANCESTORS_MAX {
        f.error(format!("frameAncestors must contain no more than {FRAME_ANCESTORS_MAX} elements"));
        return Vec::new();
    }
    let mut origins = Vec::new();
    for item in items {
        match item.as_str().and_then(origin) {
            Some(origin) if !origins.contains(&origin) => origins.push(origin),
            Some(_) => {}
            None => {
                f.error("each value in frameAncestors must be an origin such as https://app.example.com");
                return Vec::new();
            }
        }
    }
    origins
}

/// `scheme://host[:port]` of an origin given with nothing else (exactly what the pattern the
/// document states allows), with its host in lower case.
fn origin(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    if !matches!(scheme, "https" | "http") || text.len() > ORIGIN_MAX {
        return None;
    }
    is_host_and_port(rest).then(|| format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// `host[:port]` as the patterns allow: letters, digits, dots and hyphens, and 1-5 digits.
fn is_host_and_port(text: &str) -> bool {
    let (host, port) = text.split_once(':').unwrap_or((text, "1"));
    !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && (1..=5).contains(&port.len())
        && port.bytes().all(|b| b.is_ascii_digit())
}

/// The origin of a logo URL the pattern allowed, for the page's `img-src`.
pub fn logo_origin(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let host = rest.split('/').next()?;
    is_host_and_port(host).then(|| format!("https://{}", host.to_ascii_lowercase()))
}

/// A `#rrggbb` colour, lower-cased.
pub fn color(f: &mut Fields, prop: &Prop) -> Option<String> {
    let value = f.take(prop)?;
    match value.as_str() {
        Some(c)
            if c.len() == 7
                && c.starts_with('#')
                && c[1..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Some(c.to_ascii_lowercase())
        }
        _ => {
            f.error(format!("{} must be a colour such as #1d4ed8", prop.name));
            None
        }
    }
}

/// An `https://` URL of an image, as the pattern allows it.
pub fn logo_url(f: &mut Fields) -> Option<String> {
    let value = f.take(&LOGO_URL)?;
    match value.as_str() {
        Some(url) if url.len() <= LOGO_URL_MAX && is_logo_url(url) => Some(url.to_owned()),
        _ => {
            f.error("logoUrl must be an https:// URL");
            None
        }
    }
}

fn is_logo_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else { return false };
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    is_host_and_port(host)
        && path.chars().all(|c| c.is_ascii_alphanumeric() || "._~%!$&'()*+,;=:@/-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn only_bare_origins_are_taken() {
        assert_eq!(origin("https://app.example.com").as_deref(), Some("https://app.example.com"));
        assert_eq!(origin("http://127.0.0.1:8080").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(
            origin("https://APP.example.com:8443").as_deref(),
            Some("https://app.example.com:8443")
        );
        for bad in [
            "https://app.example.com/",
            "https://a.test/path",
            "ftp://a.test",
            "https://u@a.test",
            "*",
            "https://a.test?x",
            "https://:80",
        ] {
            assert_eq!(origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn logos_are_https_urls_whose_origin_the_page_allows() {
        assert!(super::is_logo_url("https://cdn.example.com/logo.svg"));
        assert!(!super::is_logo_url("http://cdn.example.com/logo.svg"));
        assert!(!super::is_logo_url("https://cdn.example.com/a b.svg"));
        assert!(!super::is_logo_url("https://cdn.example.com/x\"'"));
        assert_eq!(
            super::logo_origin("https://CDN.example.com:8443/logo.svg").as_deref(),
            Some("https://cdn.example.com:8443")
        );
    }
}
