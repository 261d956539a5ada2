//! JSON request bodies, each described once. A body is a list of [`Prop`]s; the same
//! descriptors drive validation ([`super::validate::Fields`] takes them) and the OpenAPI
//! schema ([`body_schema!`]), so what the document promises is what the server checks:
//! lengths, formats, enums, bounds, required properties and the refusal of unknown ones.

use serde_json::{Map, Value, json};

/// No NUL anywhere (see [`crate::domain::text`]).
pub const STORABLE: &str = "^[^\\u0000]*$";
/// Storable, with at least one character that is not white space: trimmed text is not empty.
/// The component of [`storable_value`], which free-form JSON (`Rule::Object`) refers to.
pub const STORABLE_VALUE: &str = "StorableValue";
const STORABLE_VALUE_REF: &str = "#/components/schemas/StorableValue";

/// Any JSON the databases can store: no text, key or value, holds a null character.
pub fn storable_value() -> Value {
    json!({"anyOf": [
        {"type": "string", "pattern": STORABLE},
        {"type": ["number", "boolean", "null"]},
        {"type": "array", "items": {"$ref": STORABLE_VALUE_REF}},
        {"type": "object", "propertyNames": {"type": "string", "pattern": STORABLE},
         "additionalProperties": {"$ref": STORABLE_VALUE_REF}},
    ]})
}

pub const NOT_BLANK: &str = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$";

/// A host name with a top-level domain of letters: never a literal address, never a label
/// the IDNA rules could refuse.
pub const HOST_NAME: &str = "(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\\.)+[A-Za-z]{2,63}";

/// An absolute URL at one of `origins` (a regular expression of scheme and host), with an
/// optional port, path and query, written only in characters no URL parser rewrites.
pub fn url_pattern(origins: &str) -> String {
    let chars = "A-Za-z0-9._~!$&'()*+,;=:@/-";
    let escape = "%[0-9A-Fa-f]{2}";
    format!(
        "^(?:{origins})(?::[1-9][0-9]{{0,3}})?(?:/(?:[{chars}]|{escape})*)?\
         (?:\\?(?:[{chars}?]|{escape})*)?$"
    )
}

/// One property of a body: its name, whether it must be present (and not null), its rule.
#[derive(Clone, Copy)]
pub struct Prop {
    pub name: &'static str,
    pub required: bool,
    pub rule: Rule,
    pub about: &'static str,
}

impl Prop {
    pub const fn required(name: &'static str, rule: Rule) -> Self {
        Self { name, required: true, rule, about: "" }
    }

    pub const fn optional(name: &'static str, rule: Rule) -> Self {
        Self { name, required: false, rule, about: "" }
    }

    pub const fn about(self, about: &'static str) -> Self {
        Self { about, ..self }
    }
}

/// What a property's value must be.
#[derive(Clone, Copy)]
pub enum Rule {
    /// Text of at most `max` characters that is not blank; stored trimmed.
    Text {
        max: usize,
    },
    /// A string taken exactly as given (passwords, tokens); `usize::MAX` for no limit.
    Raw {
        min: usize,
        max: usize,
    },
    /// An email address ([`super::validate::is_email`]).
    Email,
    /// One of a fixed set of strings.
    OneOf(fn() -> Vec<&'static str>),
    /// An integer (a JSON number with no fraction) within the bounds.
    Int {
        min: i64,
        max: i64,
    },
    /// An RFC 3339 date-time within years 0000–9999.
    DateTime,
    Bool,
    /// A string of `min..=max` characters matching the pattern, in the given format;
    /// `usize::MAX` for no limit.
    Matching {
        pattern: fn() -> String,
        format: Option<&'static str>,
        min: usize,
        max: usize,
    },
    /// Any JSON object.
    Object,
    /// A non-empty array of at most `max` items, each under `item`.
    List {
        item: &'static Rule,
        max: Option<usize>,
    },
    /// An object of at most `max` string properties: names matching `name` and not
    /// `refused`, values matching `value`, each of at most its length.
    StringMap {
        max: usize,
        name: fn() -> String,
        name_max: usize,
        refused: fn() -> String,
        value: fn() -> String,
        value_max: usize,
    },
}

impl Rule {
    pub fn schema(&self) -> Value {
        match *self {
            Rule::Text { max } => {
                json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": NOT_BLANK})
            }
            Rule::Raw { min, max } => string(STORABLE.to_owned(), min, max),
            Rule::Email => json!({"type": "string", "format": "email", "maxLength": 254}),
            Rule::OneOf(choices) => json!({"type": "string", "enum": choices()}),
            Rule::Int { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
            Rule::DateTime => json!({"type": "string", "format": "date-time"}),
            Rule::Bool => json!({"type": "boolean"}),
            Rule::Object => json!({"type": "object",
                "propertyNames": {"type": "string", "pattern": STORABLE},
                "additionalProperties": {"$ref": STORABLE_VALUE_REF}}),
            Rule::Matching { pattern, format, min, max } => {
                let mut schema = string(pattern(), min, max);
                if let Some(format) = format {
                    schema["format"] = json!(format);
                }
                schema
            }
            Rule::StringMap { max, name, name_max, refused, value, value_max } => json!({
                "type": "object",
                "maxProperties": max,
                "propertyNames": {"type": "string", "minLength": 1, "maxLength": name_max,
                                  "pattern": name(), "not": {"pattern": refused()}},
                "additionalProperties": string(value(), 0, value_max),
            }),
            Rule::List { item, max } => {
                let mut schema = json!({"type": "array", "minItems": 1, "items": item.schema()});
                if let Some(max) = max {
                    schema["maxItems"] = json!(max);
                }
                schema
            }
        }
    }
}

/// A string of `min..=max` characters matching `pattern`; `usize::MAX` for no limit.
fn string(pattern: String, min: usize, max: usize) -> Value {
    let mut schema = json!({"type": "string", "minLength": min, "pattern": pattern});
    if max < usize::MAX {
        schema["maxLength"] = json!(max);
    }
    schema
}

/// The schema of a body of `props`: an object with exactly those properties. An optional
/// property may also be `null`, which counts as absent.
pub fn object_schema(props: &[Prop]) -> Value {
    let mut properties = Map::new();
    for prop in props {
        let mut schema = prop.rule.schema();
        if !prop.required {
            nullable(&mut schema);
        }
        if !prop.about.is_empty() {
            schema["description"] = json!(prop.about);
        }
        properties.insert(prop.name.to_owned(), schema);
    }
    let required: Vec<&str> = props.iter().filter(|p| p.required).map(|p| p.name).collect();
    json!({"type": "object", "properties": properties, "required": required,
           "additionalProperties": false})
}

/// The schema of a form of `props` (`application/x-www-form-urlencoded`): parameters it does
/// not know are ignored, as RFC 6749 §3.1 wants, and an empty one counts as absent.
pub fn form_schema(props: &[Prop]) -> Value {
    let mut schema = object_schema(props);
    schema["additionalProperties"] = json!({"type": "string", "pattern": STORABLE});
    schema["propertyNames"] = json!({"type": "string", "pattern": STORABLE});
    for prop in props.iter().filter(|p| !p.required) {
        schema["properties"][prop.name] = prop.rule.schema();
        if !prop.about.is_empty() {
            schema["properties"][prop.name]["description"] = json!(prop.about);
        }
    }
    schema
}

fn nullable(schema: &mut Value) {
    if let Some(Value::Array(choices)) = schema.get_mut("enum") {
        choices.push(Value::Null);
    }
    if let Some(kind) = schema.get("type").cloned() {
        schema["type"] = json!([kind, "null"]);
    }
}

/// Declares `$name` as the OpenAPI schema of a body made of the `$props` slice: a JSON
/// object, or with `form` a form.
macro_rules! body_schema {
    ($(#[$doc:meta])* form $name:ident = $props:expr) => {
        $crate::http::body::body_schema!(@ $(#[$doc])* $name = form_schema($props));
    };
    (@ $(#[$doc:meta])* $name:ident = $shape:ident($props:expr)) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::http::body::to_schema($crate::http::body::$shape($props))
            }
        }

        impl utoipa::ToSchema for $name {}
    };
    ($(#[$doc:meta])* $name:ident = $props:expr) => {
        $crate::http::body::body_schema!(@ $(#[$doc])* $name = object_schema($props));
    };
}
pub(crate) use body_schema;

/// A schema written as JSON, as utoipa holds it.
pub fn to_schema(value: Value) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    // Only this module's own, tested JSON comes here.
    serde_json::from_value(value).expect("request schemas are valid OpenAPI")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_properties_may_be_null_and_unknown_ones_are_refused() {
        const PROPS: &[Prop] = &[
            Prop::required("name", Rule::Text { max: 5 }),
            Prop::optional("role", Rule::OneOf(|| vec!["A", "B"])),
        ];
        let schema = object_schema(PROPS);
        assert_eq!(schema["required"], json!(["name"]));
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(schema["properties"]["name"]["maxLength"], json!(5));
        assert_eq!(schema["properties"]["role"]["enum"], json!(["A", "B", null]));
        assert_eq!(schema["properties"]["role"]["type"], json!(["string", "null"]));
        let _ = to_schema(schema);
        let form = form_schema(PROPS);
        assert_eq!(form["properties"]["role"]["enum"], json!(["A", "B"]));
        let _ = to_schema(form);
    }
}
