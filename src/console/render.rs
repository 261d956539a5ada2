//! Turning a page's values into HTML, with the headers every console page carries.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value, context};

use super::assets;
use super::session::Viewer;
use crate::error::ApiError;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("templates/layout.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("problem.html", include_str!("templates/problem.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    ("link.html", include_str!("templates/link.html")),
    ("organizations.html", include_str!("templates/organizations.html")),
    ("overview.html", include_str!("templates/overview.html")),
    ("members.html", include_str!("templates/members.html")),
    ("invites.html", include_str!("templates/invites.html")),
    ("webhooks.html", include_str!("templates/webhooks.html")),
    ("webhook.html", include_str!("templates/webhook.html")),
    ("deliveries.html", include_str!("templates/deliveries.html")),
    ("events.html", include_str!("templates/events.html")),
    ("oauth_apps.html", include_str!("templates/oauth_apps.html")),
    ("oauth_app.html", include_str!("templates/oauth_app.html")),
    ("account.html", include_str!("templates/account.html")),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // A misspelt variable is an error in tests, not an empty space on a page.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    for (name, source) in TEMPLATES {
        if let Err(err) = env.add_template(name, source) {
            tracing::error!(template = name, error = %err, "console template does not compile");
        }
    }
    env
});

/// A value of the API (a view, a page of views) as a template sees it: its JSON form.
pub fn of<T: serde::Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// Where the page sits: shown in the navigation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Organizations,
    Overview,
    Members,
    Invites,
    Webhooks,
    Events,
    OauthApps,
    Account,
}

impl Section {
    fn name(self) -> &'static str {
        match self {
            Self::Organizations => "organizations",
            Self::Overview => "overview",
            Self::Members => "members",
            Self::Invites => "invites",
            Self::Webhooks => "webhooks",
            Self::Events => "events",
            Self::OauthApps => "oauth-apps",
            Self::Account => "account",
        }
    }
}

/// A page for the signed-in `viewer`: `values` and what the layout needs.
pub fn page(
    status: StatusCode,
    template: &str,
    viewer: &Viewer,
    section: Section,
    values: Value,
) -> Response {
    let viewer_values = context! {
        name => viewer.user.name.clone(),
        email => viewer.user.email.clone(),
    };
    let values = context! {
        ..values,
        ..context! {
            viewer => viewer_values,
            csrf => viewer.csrf.clone(),
            section => section.name(),
            assets => assets::urls(),
        }
    };
    html(status, template, values)
}

/// A webhooks page, in the console or in a portal: the same values, the seat's layout.
pub fn seated(
    status: StatusCode,
    template: &str,
    seat: &super::seat::Seat,
    values: Value,
) -> Response {
    use super::seat::Place;
    let values =
        context! { ..values, ..context! { home => seat.home.clone(), csrf => seat.csrf.clone() } };
    match &seat.place {
        Place::Console(viewer) => {
            let values = context! { ..values, ..context! { portal => false, read_only => false } };
            page(status, template, viewer, Section::Webhooks, values)
        }
        Place::Portal(portal) => {
            let values = context! {
                ..values,
                ..context! {
                    portal => true,
                    read_only => portal.read_only,
                    logo_url => portal.theme.logo_url.clone(),
                    theme_css => portal.theme_css.clone(),
                    assets => assets::urls(),
                }
            };
            let mut response = html(status, template, values);
            super::portal::page_headers(portal, response.headers_mut());
            response
        }
    }
}

/// A page with nobody signed in (signing in, a problem).
pub fn public(status: StatusCode, template: &str, values: Value) -> Response {
    let values = context! { ..values, ..context! { assets => assets::urls() } };
    html(status, template, values)
}

/// A page saying what went wrong, in the API's words, with a way back to the console.
pub fn problem(status: StatusCode, message: &str) -> Response {
    let values = context! {
        status => status.as_u16(),
        message => message,
        back => context! { href => "/console", label => "Back to the console" },
    };
    public(status, "problem.html", values)
}

/// The page for an API error; internal errors are logged and shown without their cause.
pub fn api_error(error: ApiError) -> Response {
    let (status, message) = describe(error);
    problem(status, &message)
}

/// An API error as a status and one sentence a person can read.
pub fn describe(error: ApiError) -> (StatusCode, String) {
    let status = error.status();
    let message = match error {
        ApiError::Validation(problems) => problems.join("; "),
        ApiError::Status(_, message) => message,
        ApiError::RateLimited { retry_after_secs } => {
            format!("Too many attempts. Try again in {retry_after_secs} seconds.")
        }
        ApiError::Unauthenticated { .. } => "Sign in again to continue.".to_owned(),
        ApiError::Unavailable { message, .. } => message.to_owned(),
        ApiError::InsufficientScope(scope) => {
            format!("Access denied. This token lacks the {} scope.", scope.as_str())
        }
        ApiError::Internal(cause) => {
            tracing::error!(error = ?cause, "console request failed");
            "Something went wrong on our side. Try again shortly.".to_owned()
        }
    };
    (status, message)
}

fn render(template: &str, values: Value) -> Result<String, minijinja::Error> {
    ENV.get_template(template)?.render(values)
}

fn html(status: StatusCode, template: &str, values: Value) -> Response {
    let (status, body) = match render(template, values) {
        Ok(body) => (status, body),
        Err(err) => {
            tracing::error!(template, error = ?err, "console page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error".to_owned())
        }
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    secure_headers(headers);
    response
}

/// Scripts and styles from this server only, no framing, nothing cached: a page shows one
/// person's organization.
pub fn secure_headers(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(ENV.get_template(name).is_ok(), "{name} does not compile");
        }
    }

    #[test]
    fn what_a_page_shows_is_escaped() {
        let back = context! { href => "/console", label => "Back" };
        let values = context! {
            status => 404, message => "<script>x</script>", back => back, assets => assets::urls(),
        };
        let html = render("problem.html", values).expect("renders");
        assert!(html.contains("&lt;script&gt;x"), "{html}");
        assert!(!html.contains("<script>x"));
    }

    #[test]
    fn an_event_without_a_person_behind_it_renders() {
        let event = context! {
            event => "webhook.disabled",
            timestamp => "2026-12-01T09:30:00.000Z",
            actor => of(&serde_json::json!({"type": "system"})),
            data => "{}",
        };
        let values = context! {
            events => vec![event],
            next_cursor => None::<String>,
            retained_since => "2026-11-01T00:00:00Z",
            event_types => vec!["webhook.disabled"],
            chosen => "",
            org => context! { id => "o", name => "Acme", role => "OWNER" },
            viewer => context! { name => "Ann", email => "ann@example.com" },
            csrf => "t",
            section => "events",
            assets => assets::urls(),
        };
        let html = render("events.html", values).expect("renders");
        assert!(html.contains("<td>System</td>"), "{html}");
    }
}
