//! The checks of an app's `redirectUris` and `scopes`.

use serde_json::Value;

use crate::domain::scope::{Scope, Scopes};
use crate::http::body::{self, Prop, Rule};
use crate::http::validate::Fields;

pub const NAME_MAX: usize = 100;
pub const REDIRECT_URIS_MAX: usize = 10;
pub const REDIRECT_URI_MAX_LEN: usize = 2048;

/// An `https://` URL on a host name, or an `http://` one on the loopback host, with an
/// optional port, path and query: what [`is_allowed_redirect_uri`] accepts, without the
/// literal addresses it also takes.
fn redirect_uri_pattern() -> String {
    let loopback = "localhost|127\\.0\\.0\\.1|\\[::1\\]";
    body::url_pattern(&format!("https://{}|http://(?:{loopback})", body::HOST_NAME))
}

fn scope_names() -> Vec<&'static str> {
    Scope::ALL.iter().map(|s| s.as_str()).collect()
}

pub const NAME: Prop = Prop::required("name", Rule::Text { max: NAME_MAX });
pub const REDIRECT_URIS: Prop = Prop::required(
    "redirectUris",
    Rule::List {
        item: &Rule::Matching {
            pattern: redirect_uri_pattern,
            format: Some("uri"),
            min: 1,
            max: REDIRECT_URI_MAX_LEN,
        },
        max: Some(REDIRECT_URIS_MAX),
    },
)
.about(
    "Absolute URLs: `https://…`, or `http://localhost…`/`http://127.0.0.1…`/`http://[::1]…` \
     for native apps; no fragment, no user info, no whitespace or control characters. Matched \
     exactly.",
);
pub const SCOPES: Prop =
    Prop::required("scopes", Rule::List { item: &Rule::OneOf(scope_names), max: None });

/// Whether `uri` may be registered: an absolute `https` URL, or an `http` one on the loopback
/// host (RFC 8252 §7.3), with no fragment (RFC 6749 §3.1.2) and no user info.
pub fn is_allowed_redirect_uri(uri: &str) -> bool {
    let Ok(parsed) = url::Url::parse(uri) else { return false };
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    let scheme_ok = match parsed.scheme() {
        "https" => crate::domain::uri::has_real_host(&parsed),
        "http" => loopback,
        _ => false,
    };
    scheme_ok
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none()
        // Stored as given: refuse what the parser would silently strip or encode (PostgreSQL
        // text cannot even hold NUL).
        && !uri.chars().any(|c| c.is_whitespace() || c.is_control())
        && crate::domain::uri::is_uri(uri)
}

pub fn redirect_uris(f: &mut Fields, value: Option<Value>) -> Vec<String> {
    let Some(Value::Array(items)) = value else {
        f.error("redirectUris must be an array");
        return Vec::new();
    };
    if items.is_empty() {
        f.error("redirectUris should not be empty");
        return Vec::new();
    }
    if items.len() > REDIRECT_URIS_MAX {
        f.error(format!("redirectUris must contain no more than {REDIRECT_URIS_MAX} elements"));
        return Vec::new();
    }
    let mut uris: Vec<String> = Vec::new();
    for item in items {
        match item {
            Value::String(uri) if uri.chars().count() > REDIRECT_URI_MAX_LEN => {
                f.error(format!(
                    "each value in redirectUris must be shorter than or equal to \
                     {REDIRECT_URI_MAX_LEN} characters"
                ));
                return Vec::new();
            }
            Value::String(uri) if is_allowed_redirect_uri(&uri) => {
                if !uris.contains(&uri) {
                    uris.push(uri);
                }
            }
            _ => {
                f.error(
                    "each value in redirectUris must be an https URL, or an http URL on \
                     localhost or 127.0.0.1",
                );
                return Vec::new();
            }
        }
    }
    uris
}

pub fn scopes(f: &mut Fields, value: Option<Value>) -> Scopes {
    let Some(Value::Array(items)) = value else {
        f.error("scopes must be an array");
        return Scopes::default();
    };
    if items.is_empty() {
        f.error("scopes should not be empty");
        return Scopes::default();
    }
    let parsed: Option<Vec<Scope>> =
        items.iter().map(|v| v.as_str().and_then(Scope::parse)).collect();
    parsed.map(Scopes::new).unwrap_or_else(|| {
        f.error(format!(
            "each value in scopes must be one of the following values: {}",
            Scope::catalog()
        ));
        Scopes::default()
    })
}

#[cfg(test)]
mod tests {
    use super::is_allowed_redirect_uri as allowed;

    #[test]
    fn redirect_uris_are_https_or_loopback() {
        assert!(allowed("https://app.example.com/callback?x=1"));
        assert!(allowed("http://localhost:8080/cb"));
        assert!(allowed("http://127.0.0.1/cb"));
        assert!(allowed("http://[::1]:7/cb"));
        assert!(!allowed("http://app.example.com/cb"));
        assert!(!allowed("https://app.example.com/cb#fragment"));
        assert!(!allowed("https://user:pw@app.example.com/cb"));
        assert!(!allowed("/relative"));
        assert!(!allowed("ftp://app.example.com/cb"));
        assert!(!allowed("myapp://callback"));
    }
}
