//! The browser-facing endpoints as a browser sees them: pages, their tags and attributes.

use oauth2::url::Url;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION, SET_COOKIE};

use crate::common::TestApp;
use crate::common::oauth::header;

/// An answer of the browser-facing endpoints, body as text.
pub(super) struct Page {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: String,
}

impl Page {
    pub(super) async fn read(res: reqwest::Response) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.text().await.expect("body");
        Self { status, headers, body }
    }

    pub(super) fn location(&self) -> Option<Url> {
        header(&self.headers, LOCATION)
            .map(|l| Url::parse(&l).unwrap_or_else(|e| panic!("Location {l} is absolute: {e}")))
    }

    /// Every cookie the page set, as a `Cookie` request header value.
    pub(super) fn cookie_header(&self) -> Option<String> {
        let pairs: Vec<String> = self
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| {
                let v = v.to_str().expect("ASCII Set-Cookie");
                v.split(';').next().expect("name=value").trim().to_owned()
            })
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    pub(super) fn hidden_inputs(&self) -> Vec<(String, String)> {
        tags(&self.body, "input")
            .into_iter()
            .filter(|attrs| attr(attrs, "type").is_some_and(|t| t.eq_ignore_ascii_case("hidden")))
            .map(|attrs| {
                let name = attr(&attrs, "name").expect("hidden input has a name").to_owned();
                let value = attr(&attrs, "value").unwrap_or_default().to_owned();
                (name, value)
            })
            .collect()
    }

    pub(super) fn hidden(&self, name: &str) -> Option<String> {
        self.hidden_inputs().into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The consent form's target, resolved against the server.
    pub(super) fn form_action(&self, app: &TestApp) -> Url {
        let forms = tags(&self.body, "form");
        let form = forms.first().unwrap_or_else(|| panic!("page has a form: {}", self.body));
        let method = attr(form, "method").unwrap_or("get");
        assert!(method.eq_ignore_ascii_case("post"), "form method is POST, got {method}");
        let action = attr(form, "action").expect("form has an action");
        Url::parse(&app.base).expect("base URL").join(action).expect("action resolves")
    }

    /// The name of the hidden field carrying the CSRF token: one named like it, else the one
    /// whose value is the cookie's.
    pub(super) fn csrf_field(&self) -> String {
        let hidden = self.hidden_inputs();
        if let Some((name, _)) =
            hidden.iter().find(|(n, _)| n.to_ascii_lowercase().contains("csrf"))
        {
            return name.clone();
        }
        let cookie = self.cookie_header().unwrap_or_default();
        let values: Vec<&str> =
            cookie.split("; ").filter_map(|p| p.split_once('=')).map(|(_, v)| v).collect();
        hidden
            .iter()
            .find(|(_, v)| values.contains(&v.as_str()))
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| panic!("no CSRF field among {hidden:?} (cookie {cookie})"))
    }
}

/// Every start tag `<name …>` of `html`, as its attributes (names lowercased, values unescaped).
fn tags(html: &str, name: &str) -> Vec<Vec<(String, String)>> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{name}");
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&open) {
        let start = from + i + open.len();
        let boundary = lower.as_bytes().get(start).copied();
        if !matches!(boundary, Some(b) if b.is_ascii_whitespace() || b == b'>' || b == b'/') {
            from = start;
            continue;
        }
        let (attrs, end) = parse_attributes(html, start);
        found.push(attrs);
        from = end.min(html.len());
    }
    found
}

/// The attributes of a tag starting at byte `i` (just after its name), and where it ends.
fn parse_attributes(html: &str, mut i: usize) -> (Vec<(String, String)>, usize) {
    let b = html.as_bytes();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return (attrs, b.len());
        }
        if b[i] == b'>' {
            return (attrs, i + 1);
        }
        let name_start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let quote = b[i];
                i += 1;
                let start = i;
                while i < b.len() && b[i] != quote {
                    i += 1;
                }
                value = unescape(&html[start..i]);
                i = (i + 1).min(b.len());
            } else {
                let start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = unescape(&html[start..i]);
            }
        }
        attrs.push((name, value));
    }
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Decodes HTML character references (`&amp;`, `&quot;`, `&#39;`, `&#x27;`, …).
pub(super) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').filter(|&end| end <= 12).and_then(|end| {
            let entity = &rest[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "apos" => Some('\''),
                _ => {
                    if let Some(hex) =
                        entity.strip_prefix("#x").or_else(|| entity.strip_prefix("#X"))
                    {
                        u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                    } else if let Some(dec) = entity.strip_prefix('#') {
                        dec.parse().ok().and_then(char::from_u32)
                    } else {
                        None
                    }
                }
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// No scripts and nothing loaded from elsewhere.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "page has a script: {html}");
    for attrs in ["img", "link", "iframe", "frame", "object", "embed", "source", "audio", "video"]
        .iter()
        .flat_map(|t| tags(html, t))
        .chain(tags(html, "input"))
    {
        for key in ["src", "srcset", "href", "data"] {
            if let Some(v) = attr(&attrs, key) {
                let v = v.trim().to_ascii_lowercase();
                assert!(
                    !(v.starts_with("http:") || v.starts_with("https:") || v.starts_with("//")),
                    "external asset {key}={v} in {html}"
                );
            }
        }
    }
    for bad in ["url(http", "url('http", "url(\"http", "url(//", "@import", "javascript:"] {
        assert!(!lower.contains(bad), "external or active content `{bad}` in {html}");
    }
}

/// An HTML page, never a redirect.
pub(super) fn assert_html_page(page: &Page, status: StatusCode) {
    assert_eq!(page.status, status, "{}", page.body);
    assert!(page.location().is_none(), "no redirect expected: {:?}", page.location());
    let content_type = header(&page.headers, CONTENT_TYPE).unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "Content-Type {content_type}");
    assert_self_contained(&page.body);
}

pub(super) async fn fetch(http: &reqwest::Client, url: &str) -> Page {
    let res = http.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    Page::read(res).await
}
