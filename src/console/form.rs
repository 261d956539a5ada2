//! What a console form posts: its fields, checked to come from a page of this sign-in.
//!
//! Two defences, so that neither alone has to be perfect: a form must carry its sign-in's
//! CSRF token ([`Posted`]), and a browser that says a request is cross-site is refused before
//! any handler runs ([`same_origin_only`]).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::render;
use super::session::{SignInFirst, Viewer};
use crate::state::AppState;

/// Largest form body the console reads.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
pub const CSRF_FIELD: &str = "csrf_token";

/// A form's fields in the order sent.
#[derive(Debug, Default, Clone)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// Whether nothing was sent: the form of an action that has no fields to show again.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or nothing: what a form shown again holds.
    pub fn value(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }

    /// Every value of `name` (checkboxes, multiple selects).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// Every value of `name`, owned, for a page that shows the form again.
    pub fn values(&self, name: &str) -> Vec<String> {
        self.all(name).into_iter().map(str::to_owned).collect()
    }

    /// The field as the API takes it: absent stays absent, so the API says what is missing.
    pub fn text(&self, name: &str) -> Option<serde_json::Value> {
        self.get(name).map(|v| serde_json::Value::String(v.to_owned()))
    }
}

impl Form {
    /// A number field as the API takes it: absent when left empty; text that is not a number
    /// is passed on as typed, for the API to refuse in its words.
    pub fn number(&self, name: &str) -> Option<serde_json::Value> {
        let raw = self.get(name).map(str::trim).filter(|raw| !raw.is_empty())?;
        Some(raw.parse::<i64>().map_or_else(|_| raw.into(), serde_json::Value::from))
    }
}

/// A signed-in person's form, its CSRF token checked.
pub struct Posted {
    pub viewer: Viewer,
    pub form: Form,
}

pub enum Refused {
    SignIn(SignInFirst),
    Forged,
    Unreadable,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Self::SignIn(redirect) => redirect.into_response(),
            Self::Forged => forged(),
            Self::Unreadable => {
                render::problem(StatusCode::PAYLOAD_TOO_LARGE, "That form was too large to read.")
            }
        }
    }
}

impl FromRequest<AppState> for Posted {
    type Rejection = Refused;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Refused> {
        let (mut parts, body) = req.into_parts();
        let viewer =
            Viewer::from_request_parts(&mut parts, state).await.map_err(Refused::SignIn)?;
        let req = Request::from_parts(parts, body);
        let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|_| Refused::Unreadable)?;
        let form = Form::parse(&body);
        if !viewer.accepts(form.get(CSRF_FIELD)) {
            return Err(Refused::Forged);
        }
        Ok(Self { viewer, form })
    }
}

/// Why a form that did not come from this sign-in's pages is refused.
pub const FORGED: &str =
    "This form has expired or came from another site. Go back, reload the page and try again.";

/// The answer to a form that did not come from this sign-in's pages.
pub fn forged() -> Response {
    render::problem(StatusCode::FORBIDDEN, FORGED)
}

/// Refuses a state-changing request that the browser marks as cross-site (`Sec-Fetch-Site`),
/// or whose `Origin` is not this server's `Host`.
pub async fn same_origin_only(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) || is_same_origin(req.headers()) {
        return next.run(req).await;
    }
    forged()
}

fn is_same_origin(headers: &axum::http::HeaderMap) -> bool {
    let value = |name| headers.get(name).and_then(|v: &header::HeaderValue| v.to_str().ok());
    if let Some(site) = value(header::HeaderName::from_static("sec-fetch-site")) {
        return matches!(site, "same-origin" | "none");
    }
    match (value(header::ORIGIN), value(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://")) == Some(host)
        }
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (header::HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn only_requests_from_this_origin_pass() {
        assert!(is_same_origin(&headers(&[])));
        assert!(is_same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!is_same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!is_same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(is_same_origin(&headers(&[
            ("origin", "http://a.test:3000"),
            ("host", "a.test:3000")
        ])));
        assert!(!is_same_origin(&headers(&[("origin", "http://evil.test"), ("host", "a.test")])));
        assert!(!is_same_origin(&headers(&[("origin", "null"), ("host", "a.test")])));
    }

    #[test]
    fn forms_keep_repeated_fields_in_order() {
        let form = Form::parse(b"events=a.b&name=x%20y&events=c.d");
        assert_eq!(form.all("events"), ["a.b", "c.d"]);
        assert_eq!(form.get("name"), Some("x y"));
        assert_eq!(form.get("missing"), None);
    }

    #[test]
    fn number_fields_are_numbers_when_they_can_be() {
        let form = Form::parse(b"a=+30+&b=&c=soon");
        assert_eq!(form.number("a"), Some(serde_json::json!(30)));
        assert_eq!(form.number("b"), None);
        assert_eq!(form.number("c"), Some(serde_json::json!("soon")));
        assert_eq!(form.number("missing"), None);
    }
}
