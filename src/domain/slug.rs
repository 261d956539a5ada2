//! Organization slugs: 3–48 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`.

pub const MIN_LEN: usize = 3;
pub const MAX_LEN: usize = 48;

pub fn is_valid(slug: &str) -> bool {
    (MIN_LEN..=MAX_LEN).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

/// [`is_valid`] as a regular expression, for documents that describe slugs.
pub fn pattern() -> String {
    format!("^[a-z0-9](?:[a-z0-9-]{{{},{}}}[a-z0-9])$", MIN_LEN - 2, MAX_LEN - 2)
}

/// Derives a slug from a display name: lowercase ASCII words joined by `-`. Names with too few
/// usable characters are padded with `org` so that every name yields a valid slug.
pub fn derive(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(MAX_LEN);
    let mut slug = slug.trim_end_matches('-').to_owned();
    if slug.len() < MIN_LEN {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str("org");
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates() {
        assert!(is_valid("acme-corp"));
        assert!(is_valid("a1b"));
        assert!(!is_valid("ab"));
        assert!(!is_valid("-acme"));
        assert!(!is_valid("acme-"));
        assert!(!is_valid("Acme"));
        assert!(!is_valid("acme_corp"));
        assert!(!is_valid(&"a".repeat(49)));
    }

    #[test]
    fn derives_valid_slugs() {
        assert_eq!(derive("Acme Corp"), "acme-corp");
        assert_eq!(derive("  Hello,  World!! "), "hello-world");
        assert_eq!(derive("Ünïcode Ltd"), "n-code-ltd");
        assert_eq!(derive("X"), "x-org");
        assert_eq!(derive("日本"), "org");
        let long = derive(&"word ".repeat(30));
        assert!(is_valid(&long), "{long}");
        for name in ["X", "日本", "a--b", "-a-", "Acme Corp", "ab"] {
            assert!(is_valid(&derive(name)), "{name}");
        }
    }
}
