//! URI syntax as RFC 3986 writes it: ASCII only, each `%` followed by two hex digits, and
//! no character the grammar leaves out (space, `<`, `"`, `{`, `\`, `^`, `` ` ``, `|` …).
//! URL parsers quietly repair such text; a URL that Roster stores and shows back is kept as
//! written, so it must already be a URI.

/// Whether `text` is written in URI syntax, with brackets only around an IPv6 host.
pub fn is_uri(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Brackets belong to the authority, which ends at the first `/`, `?` or `#` after `//`.
    let authority_end = text
        .find("//")
        .map(|start| {
            let rest = &text[start + 2..];
            start + 2 + rest.find(['/', '?', '#']).unwrap_or(rest.len())
        })
        .unwrap_or(0);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'%' => {
                let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
                if !(hex(i + 1) && hex(i + 2)) {
                    return false;
                }
                i += 2;
            }
            b'[' | b']' if i >= authority_end => return false,
            b if b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b) => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// Whether `url` names an address, or a host DNS can look up: a request to anything else
/// could never be made.
pub fn has_real_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => is_host_name(name),
        Some(_) => true,
        None => false,
    }
}

/// Whether `host` is a name DNS can look up: dot-separated labels of letters, digits and
/// inner hyphens, the last not all digits (that would be an address).
pub fn is_host_name(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    }) && labels.last().is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::{is_host_name, is_uri};

    #[test]
    fn host_names() {
        for ok in ["example.com", "a-b.EXAMPLE.org", "intranet", "xn--mnchen-3ya.de"] {
            assert!(is_host_name(ok), "{ok}");
        }
        for bad in ["8iq.org*", "a..b", "-a.com", "a_b.com", "1.2", "example.com."] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }

    #[test]
    fn uri_syntax() {
        for ok in ["https://a.example/p%20q?x=1", "http://[::1]:8/cb", "https://a.b/~x"] {
            assert!(is_uri(ok), "{ok}");
        }
        assert!(!is_uri("https://a.example/?y=["), "brackets only around a host");
        for bad in [
            "https://a.b/%",
            "https://a.b/%zz",
            "https://a.b/ü",
            "https://a.b/a<b",
            "https://a.b/ x",
        ] {
            assert!(!is_uri(bad), "{bad}");
        }
    }
}
