//! Field-by-field validation of a JSON object body that collects every violation, worded as
//! class-validator words them (the API's error messages are part of its contract).
//!
//! Required fields come back as plain values, with a placeholder when invalid: the
//! placeholder never escapes, because [`Fields::finish`] fails whenever one was recorded.

use serde_json::{Map, Value};

use super::body::{Prop, Rule};
use crate::error::ApiError;

pub struct Fields {
    body: Map<String, Value>,
    errors: Vec<String>,
}

/// A property checked under a rule it was not declared with: a mistake in this crate, caught by
/// the tests in debug builds; in release the property is simply refused.
fn misdeclared(prop: &Prop) {
    debug_assert!(false, "{} is not declared for this check", prop.name);
}

impl Fields {
    /// Starts validating `body` as a body of `props`, rejecting every other property.
    pub fn new(body: Map<String, Value>, props: &[Prop]) -> Self {
        let errors = body
            .keys()
            .filter(|key| !props.iter().any(|p| p.name == key.as_str()))
            .map(|key| format!("property {key} should not exist"))
            .collect();
        Self { body, errors }
    }

    pub fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    /// The property's value, for checks of its own; `null` counts as absent.
    pub fn take(&mut self, prop: &Prop) -> Option<Value> {
        self.body.remove(prop.name).filter(|v| !v.is_null())
    }

    /// Whether the property is given as `null`: for properties where that means "none".
    pub fn is_null(&self, prop: &Prop) -> bool {
        self.body.get(prop.name).is_some_and(Value::is_null)
    }

    /// A required [`Rule::Text`], trimmed.
    pub fn text(&mut self, prop: &Prop) -> String {
        debug_assert!(prop.required, "{} is optional", prop.name);
        let Some(value) = self.take(prop) else {
            self.error(format!("{} should not be empty", prop.name));
            self.error(format!("{} must be a string", prop.name));
            return String::new();
        };
        self.text_value(prop, value).unwrap_or_default()
    }

    /// Like [`Self::text`], but absent is fine.
    pub fn optional_text(&mut self, prop: &Prop) -> Option<String> {
        let value = self.take(prop)?;
        self.text_value(prop, value)
    }

    fn text_value(&mut self, prop: &Prop, value: Value) -> Option<String> {
        let Rule::Text { max } = prop.rule else {
            misdeclared(prop);
            return None;
        };
        let name = prop.name;
        let Value::String(s) = value else {
            self.error(format!("{name} must be a string"));
            return None;
        };
        // The limit applies to the text as sent, as the document's maxLength says.
        if s.chars().count() > max {
            self.error(format!("{name} must be shorter than or equal to {max} characters"));
            return None;
        }
        let s = s.trim().to_owned();
        if s.is_empty() {
            self.error(format!("{name} should not be empty"));
            return None;
        }
        Some(s)
    }

    /// A required [`Rule::Raw`] string, taken exactly as given (passwords, tokens).
    pub fn raw_string(&mut self, prop: &Prop) -> String {
        let Rule::Raw { min, max } = prop.rule else {
            misdeclared(prop);
            return String::new();
        };
        let name = prop.name;
        let Some(Value::String(s)) = self.take(prop) else {
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

    /// A required [`Rule::Email`], taken as given.
    pub fn email(&mut self, prop: &Prop) -> String {
        debug_assert!(matches!(prop.rule, Rule::Email), "{} is not an email", prop.name);
        match self.take(prop) {
            Some(Value::String(s)) if is_email(&s) => s,
            _ => {
                self.error(format!("{} must be an email", prop.name));
                String::new()
            }
        }
    }

    /// A required [`Rule::OneOf`], turned into its value by `parse`.
    pub fn one_of<T: Default>(&mut self, prop: &Prop, parse: impl Fn(&str) -> Option<T>) -> T {
        let Rule::OneOf(choices) = prop.rule else {
            misdeclared(prop);
            return T::default();
        };
        let found = match self.take(prop) {
            Some(Value::String(s)) if choices().contains(&s.as_str()) => parse(&s),
            _ => None,
        };
        found.unwrap_or_else(|| {
            let names = choices().join(", ");
            self.error(format!("{} must be one of the following values: {names}", prop.name));
            T::default()
        })
    }

    /// An optional [`Rule::Int`].
    pub fn optional_int(&mut self, prop: &Prop) -> Option<i64> {
        let Rule::Int { min, max } = prop.rule else {
            misdeclared(prop);
            return None;
        };
        let name = prop.name;
        let value = self.take(prop)?;
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

    /// An optional [`Rule::Bool`].
    pub fn optional_bool(&mut self, prop: &Prop) -> Option<bool> {
        debug_assert!(matches!(prop.rule, Rule::Bool), "{} is not a boolean", prop.name);
        let value = self.take(prop)?;
        let flag = value.as_bool();
        if flag.is_none() {
            self.error(format!("{} must be a boolean value", prop.name));
        }
        flag
    }

    /// A required [`Rule::Object`].
    pub fn object(&mut self, prop: &Prop) -> Map<String, Value> {
        debug_assert!(matches!(prop.rule, Rule::Object), "{} is not an object", prop.name);
        match self.take(prop) {
            Some(Value::Object(map)) => map,
            _ => {
                self.error(format!("{} must be an object", prop.name));
                Map::new()
            }
        }
    }

    /// A required [`Rule::DateTime`], exactly as RFC 3339 writes it.
    pub fn timestamp(&mut self, prop: &Prop) -> chrono::DateTime<chrono::Utc> {
        debug_assert!(matches!(prop.rule, Rule::DateTime), "{} is not a time", prop.name);
        let parsed = match self.take(prop) {
            Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(&s)
                .ok()
                .map(|t| t.to_utc())
                .filter(|t| crate::domain::time::is_storable(*t)),
            _ => None,
        };
        parsed.unwrap_or_else(|| {
            self.error(format!("{} must be a valid ISO 8601 date string", prop.name));
            chrono::DateTime::default()
        })
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

    const NAME: Prop = Prop::required("name", Rule::Text { max: 100 });
    const EMAIL: Prop = Prop::required("email", Rule::Email);
    const PASSWORD: Prop = Prop::required("password", Rule::Raw { min: 8, max: 128 });

    #[test]
    fn collects_every_violation() {
        let mut f = Fields::new(
            object(json!({"name": 3, "foo": 1, "password": "short"})),
            &[NAME, EMAIL, PASSWORD],
        );
        f.text(&NAME);
        f.email(&EMAIL);
        f.raw_string(&PASSWORD);
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
        let int = |name| Prop::optional(name, Rule::Int { min: 1, max: 5000 });
        let (a, b, c) = (int("a"), int("b"), int("c"));
        let mut f = Fields::new(object(json!({"a": 1e3, "b": 2.5, "c": "3"})), &[a, b, c]);
        assert_eq!(f.optional_int(&a), Some(1000));
        assert_eq!(f.optional_int(&b), None);
        assert_eq!(f.optional_int(&c), None);
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
