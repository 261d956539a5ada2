//! The server-rendered sign-in and consent page: plain HTML, no scripts, no external assets,
//! never framed, never cached.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::scope::Scopes;

/// The cookie that must match the form's CSRF field (double submit).
pub const CSRF_COOKIE: &str = "roster_oauth_csrf";

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f5f5f7;color:#1d1d1f;\
margin:0;display:flex;justify-content:center}main{background:#fff;max-width:26rem;margin:3rem 1rem;\
padding:2rem;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.12)}h1{font-size:1.25rem}\
ul{padding-left:1.2rem}li{margin:.3rem 0}code{font-size:.85rem;color:#555}label{display:block;\
margin:.8rem 0 .2rem}input[type=email],input[type=password]{width:100%;box-sizing:border-box;\
padding:.5rem;border:1px solid #bbb;border-radius:6px}.error{background:#fde8e8;color:#9b1c1c;\
padding:.6rem;border-radius:6px}.actions{display:flex;gap:.6rem;margin-top:1.2rem}button{flex:1;\
padding:.6rem;border-radius:6px;border:1px solid #888;background:#fff;font-size:1rem}\
button[value=approve]{background:#1d4ed8;border-color:#1d4ed8;color:#fff}";

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

/// What the consent page shows and carries.
pub struct Consent<'a> {
    pub app_name: &'a str,
    pub org_name: &'a str,
    pub scopes: &'a Scopes,
    /// The authorization request, carried to the form's target unchanged.
    pub request: &'a [(&'a str, String)],
    pub csrf: &'a str,
    pub email: &'a str,
    pub error: Option<&'a str>,
}

pub fn consent(page: &Consent<'_>) -> String {
    let scopes: String = page
        .scopes
        .iter()
        .map(|s| format!("<li>{} <code>{}</code></li>", escape(s.about()), escape(s.as_str())))
        .collect();
    let hidden: String = page
        .request
        .iter()
        .chain(std::iter::once(&("csrf_token", page.csrf.to_owned())))
        .map(|(name, value)| {
            format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(name), escape(value))
        })
        .collect();
    let error = page
        .error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1><strong>{app}</strong> wants access to <strong>{org}</strong></h1>\
         <p>If you allow it, {app} will be able to:</p><ul>{scopes}</ul>{error}\
         <form method=\"post\" action=\"/api/oauth/authorize/consent\">{hidden}\
         <label for=\"email\">Email</label>\
         <input id=\"email\" type=\"email\" name=\"email\" value=\"{email}\" autocomplete=\"username\">\
         <label for=\"password\">Password</label>\
         <input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"current-password\">\
         <p>Sign in as a member of {org} to allow access. Denying needs no sign-in.</p>\
         <div class=\"actions\"><button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button></div></form>",
        app = escape(page.app_name),
        org = escape(page.org_name),
        email = escape(page.email),
    );
    document(&format!("Allow {} access to {}", page.app_name, page.org_name), &body)
}

/// A page for a request that cannot go back to the app.
pub fn problem(message: &str) -> String {
    document(
        "Authorization failed",
        &format!(
            "<h1>This authorization request cannot continue</h1><p class=\"error\">{}</p>",
            escape(message)
        ),
    )
}

/// An HTML answer with the page's security headers, and the CSRF cookie when given.
pub fn respond(status: StatusCode, html: String, csrf_cookie: Option<(&str, bool)>) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    super::error::no_store(headers);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    if let Some((value, secure)) = csrf_cookie {
        let secure = if secure { "; Secure" } else { "" };
        let cookie =
            format!("{CSRF_COOKIE}={value}; Path=/api/oauth; HttpOnly; SameSite=Strict{secure}");
        if let Ok(cookie) = HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, cookie);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_shown_is_escaped() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let scopes = Scopes::default();
        let html = consent(&Consent {
            app_name: "<script>alert(1)</script>",
            org_name: "Acme",
            scopes: &scopes,
            request: &[("state", "\"><script>".to_owned())],
            csrf: "c",
            email: "",
            error: None,
        });
        assert!(!html.contains("<script"));
    }
}
