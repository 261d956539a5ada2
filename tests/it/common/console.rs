//! A browser-like client for the console: it keeps cookies, follows no redirects, and sends
//! each form with the CSRF token of the last page it loaded or was answered with, as a
//! browser submitting that page's form would.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use super::{TestApp, TestUser};

pub struct Console {
    base: String,
    client: reqwest::Client,
    cookies: Mutex<HashMap<String, String>>,
    csrf: Mutex<Option<String>>,
}

/// One answer: status, where it redirects, the page, and the cookies it set as sent.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
}

impl Console {
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self { base: base.to_owned(), client, cookies: Mutex::default(), csrf: Mutex::default() }
    }

    /// A console signed in as `user` through the sign-in page.
    pub async fn signed_in(app: &TestApp, user: &TestUser) -> Self {
        let console = Self::new(&app.base);
        let page = console.sign_in(&user.email, super::PASSWORD).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "signed in: {}", page.body);
        console
    }

    /// Loads the sign-in page and submits its form.
    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        self.get("/console/sign-in").await;
        self.post("/console/sign-in", &[("email", email), ("password", password)]).await
    }

    pub async fn get(&self, path: &str) -> Page {
        let page = self.send(self.client.get(self.url(path))).await;
        if let Some(csrf) = page.csrf() {
            *self.csrf.lock().expect("csrf") = Some(csrf);
        }
        page
    }

    /// Submits a form of the last page loaded, with its CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.lock().expect("csrf").clone().expect("a page with a form was loaded");
        let mut all = fields.to_vec();
        all.push(("csrf_token", &csrf));
        let page = self.post_exactly(path, &all, &[]).await;
        // A form shown again is the page a browser would submit next.
        if let Some(csrf) = page.csrf() {
            *self.csrf.lock().expect("csrf") = Some(csrf);
        }
        page
    }

    /// Posts exactly these fields and headers: no CSRF token is added.
    pub async fn post_exactly(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&'static str, &str)],
    ) -> Page {
        let mut req = self.client.post(self.url(path)).form(fields);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        self.send(req).await
    }

    /// The value of a cookie the console holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().expect("cookies").get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies.lock().expect("cookies").insert(name.to_owned(), value.to_owned());
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let cookie_header = {
            let cookies = self.cookies.lock().expect("cookies");
            cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
        };
        let req = if cookie_header.is_empty() { req } else { req.header(COOKIE, cookie_header) };
        let res = req.send().await.expect("the console answers");
        let status = res.status();
        let headers = res.headers().clone();
        let location = headers.get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let set_cookies: Vec<String> = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        {
            let mut cookies = self.cookies.lock().expect("cookies");
            for cookie in &set_cookies {
                let pair = cookie.split(';').next().unwrap_or_default();
                let Some((name, value)) = pair.split_once('=') else { continue };
                if value.is_empty() || cookie.contains("Max-Age=0") {
                    cookies.remove(name);
                } else {
                    cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let body = res.text().await.expect("a body");
        Page { status, location, body, set_cookies, headers }
    }
}

impl Page {
    /// The first CSRF token in the page's forms.
    pub fn csrf(&self) -> Option<String> {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self.body.find(marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_owned())
    }

    /// The text of the page's error banner, unescaped.
    pub fn error(&self) -> Option<String> {
        self.text_of("<p class=\"error\" role=\"alert\">")
    }

    /// The text of the page's notice.
    pub fn notice(&self) -> Option<String> {
        self.text_of("<p class=\"notice\" role=\"status\">")
    }

    /// Whether the page shows `text` (compared unescaped).
    pub fn shows(&self, text: &str) -> bool {
        unescape(&self.body).contains(text)
    }

    /// The value of the input with this id.
    pub fn input(&self, id: &str) -> Option<String> {
        let start = self.body.find(&format!("id=\"{id}\""))?;
        let tag_end = self.body[start..].find('>')? + start;
        let tag = &self.body[start..tag_end];
        let value_at = tag.find("value=\"")? + "value=\"".len();
        let value_end = tag[value_at..].find('"')? + value_at;
        Some(unescape(&tag[value_at..value_end]))
    }

    /// Where the link whose text is `text` goes, unescaped.
    pub fn link(&self, text: &str) -> Option<String> {
        let end = self.body.find(&format!("\">{text}</a>"))?;
        let start = self.body[..end].rfind("href=\"")? + "href=\"".len();
        Some(unescape(&self.body[start..end]))
    }

    fn text_of(&self, opening: &str) -> Option<String> {
        let start = self.body.find(opening)? + opening.len();
        let end = self.body[start..].find("</p>")? + start;
        Some(unescape(&self.body[start..end]))
    }

    /// Asserts a redirect to `path` (any query allowed) and returns the query.
    pub fn assert_redirect(&self, path: &str) -> String {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.body);
        let location = self.location.as_deref().expect("a Location");
        let (at, query) = location.split_once('?').unwrap_or((location, ""));
        assert_eq!(at, path, "{location}");
        query.to_owned()
    }

    /// Asserts the page's status and error banner.
    pub fn assert_refused(&self, status: StatusCode, message: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.error().as_deref(), Some(message), "{}", self.body);
    }
}

fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}
