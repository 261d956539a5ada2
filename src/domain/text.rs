//! The text Roster stores: any Unicode text but NUL, which PostgreSQL's `text` cannot hold
//! (SQLite can). Text from outside is checked against this once, where it enters the server
//! (JSON bodies, query strings, forms, credentials), so both backends refuse the same input
//! with the same 4xx instead of one of them failing at the database.

/// Whether both backends can store `text` as it is.
pub fn is_storable(text: &str) -> bool {
    !text.contains('\0')
}

/// The message for a field whose text cannot be stored.
pub fn unstorable(field: &str) -> String {
    format!("{field} must not contain null characters")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nul_is_unstorable() {
        assert!(is_storable("tab\tnewline\n\u{7f}\u{202e}🚀"));
        assert!(!is_storable("a\0b"));
    }
}
