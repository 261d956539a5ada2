//! Field-by-field validation of a JSON object body that collects every violation, worded as
//! class-validator words them (the API's error messages are part of its contract).
//!
//! Required fields come back as plain values, with a placeholder when invalid: the
//! placeholder never escapes, because [`Fields::finish`] fails whenever one was recorded.

use serde_json::{Map, Value};

use crate::error::ApiError;

pub struct Fields {
    body: Map<String, Value>,
    errors: Vec<String>,
}

impl Fields {
    /// Starts validating `body`, rejecting every property not in `allowed`.
    pub fn new(body: Map<String, Value>, allowed: &[&str]) -> Self {
        let errors = body
            .keys()
            .filter(|key| !allowed.contains(&key.as_str()))
            .map(|key| format!("property {key} should not exist"))
            .collect();
        Self { body, errors }
    }

    pub fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    fn take(&mut self, name: &str) -> Option<Value> {
        self.body.remove(name).filter(|v| !v.is_null())
    }

    /// A required, non-blank string of at most `max` characters, trimmed.
    pub fn text(&mut self, name: &str, max: usize) -> String {
        let Some(value) = self.take(name) else {
            self.error(format!("{name} should not be empty"));
            self.error(format!("{name} must be a string"));
            return String::new();
        };
        self.text_value(name, value, max).unwrap_or_default()
    }

    /// Like [`Self::text`], but absent is fine.
    pub fn optional_text(&mut self, name: &str, max: usize) -> Option<String> {
        let value = self.take(name)?;
        self.text_value(name, value, max)
    }

    fn text_value(&mut self, name: &str, value: Value, max: usize) -> Option<String> {
        let Value::String(s) = value else {
            self.error(format!("{name} must be a string"));
            return None;
        };
        let s = s.trim().to_owned();
        if s.is_empty() {
            self.error(format!("{name} should not be empty"));
            return None;
        }
        if s.chars().count() > max {
            self.error(format!("{name} must be shorter than or equal to {max} characters"));
            return None;
        }
        Some(s)
    }

    /// A string taken exactly as given (passwords, tokens), between `min` and `max` characters.
    pub fn raw_string(&mut self, name: &str, min: usize, max: usize) -> String {
        let Some(Value::String(s)) = self.take(name) else {
            self.error(format!("{name} must be a string"));
            return String::new();
        };
        let len = s.chars().count();
        if len < min {
            self.error(if min == 1 {
                format!("{name} should not be empty")
            } else {
                format!("{name} must be longer than or equal to {min} characters")
            });
        } else if len > max {
            self.error(format!("{name} must be shorter than or equal to {max} characters"));
        }
        s
    }

    /// A required email address.
    pub fn email(&mut self, name: &str) -> String {
        match self.take(name) {
            Some(Value::String(s)) if is_email(s.trim()) => s.trim().to_owned(),
            _ => {
                self.error(format!("{name} must be an email"));
                String::new()
            }
        }
    }

    /// A required string out of a fixed, non-empty set.
    pub fn one_of<T>(&mut self, name: &str, choices: &[(&str, T)]) -> T
    where
        T: Copy + Default,
    {
        let found = match self.take(name) {
            Some(Value::String(s)) => choices.iter().find(|(c, _)| *c == s).map(|(_, v)| *v),
            _ => None,
        };
        if found.is_none() {
            let names: Vec<&str> = choices.iter().map(|(c, _)| *c).collect();
            self.error(format!("{name} must be one of the following values: {}", names.join(", ")));
        }
        found.unwrap_or_default()
    }

    /// An optional integer within `min..=max`.
    pub fn optional_int(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.take(name)?;
        // JSON has one number type: 1e3 and 1000.0 are the integer 1000, as in JavaScript.
        let integral = value.as_i64().or_else(|| {
            value.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64)
        });
        let Some(n) = integral else {
            self.error(format!("{name} must be an integer number"));
            return None;
        };
        if n < min {
            self.error(format!("{name} must not be less than {min}"));
            None
        } else if n > max {
            self.error(format!("{name} must not be greater than {max}"));
            None
        } else {
            Some(n)
        }
    }

    /// A required RFC 3339 date-time.
    pub fn timestamp(&mut self, name: &str) -> chrono::DateTime<chrono::Utc> {
        match self.take(name) {
            Some(Value::String(s)) => match chrono::DateTime::parse_from_rfc3339(s.trim()) {
                Ok(t) if crate::domain::time::is_storable(t.to_utc()) => t.to_utc(),
                _ => {
                    self.error(format!("{name} must be a valid ISO 8601 date string"));
                    chrono::DateTime::default()
                }
            },
            _ => {
                self.error(format!("{name} must be a valid ISO 8601 date string"));
                chrono::DateTime::default()
            }
        }
    }

    /// Ends validation: every violation found, or none.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.errors)) }
    }
}

/// A pragmatic address check: one `@`, a non-empty local part, a dotted domain of letters,
/// digits and hyphens, no spaces or control characters, at most 254 characters.
pub fn is_email(s: &str) -> bool {
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.rsplit_once('@') else { return false };
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test bodies are objects"),
        }
    }

    #[test]
    fn collects_every_violation() {
        let mut f = Fields::new(
            object(json!({"name": 3, "foo": 1, "password": "short"})),
            &["name", "email", "password"],
        );
        f.text("name", 100);
        f.email("email");
        f.raw_string("password", 8, 128);
        let Err(ApiError::Validation(errors)) = f.finish() else { panic!("expected errors") };
        assert_eq!(
            errors,
            vec![
                "property foo should not exist",
                "name must be a string",
                "email must be an email",
                "password must be longer than or equal to 8 characters",
            ]
        );
    }

    #[test]
    fn integers_may_be_written_as_floats() {
        let mut f = Fields::new(object(json!({"a": 1e3, "b": 2.5, "c": "3"})), &["a", "b", "c"]);
        assert_eq!(f.optional_int("a", 1, 5000), Some(1000));
        assert_eq!(f.optional_int("b", 1, 5000), None);
        assert_eq!(f.optional_int("c", 1, 5000), None);
        let Err(ApiError::Validation(errors)) = f.finish() else { panic!("expected errors") };
        assert_eq!(errors, ["b must be an integer number", "c must be an integer number"]);
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "ü@exämple.de"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.co", "a@b.c", "a b@c.co", "a@-b.co", "a@b..co", "a@1.2"] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
