//! The JSON Schema (2020-12) an application registers for its event type's `data`, and the
//! check of each published event against it. Nothing is fetched: a `$ref` must point inside
//! the schema itself, so registering a schema can never make Roster call out.

use serde_json::Value;

/// The only draft a schema may name in `$schema` (or name none).
pub const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Largest schema accepted, as JSON text.
pub const MAX_BYTES: usize = 64 * 1024;

/// A schema that compiled.
pub struct DataSchema {
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for DataSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataSchema")
    }
}

impl DataSchema {
    /// Compiles `schema`, or says what is wrong with it, each line naming where.
    pub fn compile(schema: &Value) -> Result<Self, Vec<String>> {
        if !schema.is_object() {
            return Err(vec!["schema must be an object".into()]);
        }
        if schema.to_string().len() > MAX_BYTES {
            return Err(vec![format!("schema must not exceed {} KiB", MAX_BYTES / 1024)]);
        }
        match schema.get("$schema") {
            None => {}
            Some(Value::String(draft)) if draft.trim_end_matches('#') == DRAFT => {}
            Some(_) => return Err(vec![format!("schema must be a JSON Schema of draft {DRAFT}")]),
        }
        let meta = jsonschema::draft202012::meta::validator();
        let wrong: Vec<String> = meta
            .iter_errors(schema)
            .map(|e| format!("schema{}: {e}", e.instance_path().as_str()))
            .collect();
        if !wrong.is_empty() {
            return Err(wrong);
        }
        jsonschema::draft202012::new(schema)
            .map(|validator| Self { validator })
            .map_err(|e| vec![format!("schema{}: {e}", e.instance_path().as_str())])
    }

    /// Every way `data` fails the schema, each as `/data<JSON pointer>: <what>`.
    pub fn violations(&self, data: &Value) -> Vec<String> {
        self.validator
            .iter_errors(data)
            .map(|e| format!("/data{}: {e}", e.instance_path().as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_violation_is_named_by_its_pointer() {
        let schema = DataSchema::compile(&json!({
            "type": "object",
            "properties": {"amount": {"type": "integer", "minimum": 0},
                           "lines": {"type": "array", "items": {"type": "string"}}},
            "required": ["amount", "currency"],
        }))
        .expect("compiles");
        assert!(schema.violations(&json!({"amount": 1, "currency": "EUR"})).is_empty());
        let found = schema.violations(&json!({"amount": -1, "lines": ["a", 2]}));
        assert_eq!(found.len(), 3, "{found:?}");
        let at = |prefix: &str| found.iter().any(|f| f.starts_with(prefix));
        assert!(at("/data: \"currency\" is a required property"), "{found:?}");
        assert!(at("/data/amount: -1 is less than the minimum of 0"), "{found:?}");
        assert!(at("/data/lines/1: "), "{found:?}");
    }

    #[test]
    fn schemas_are_2020_12_objects_that_fetch_nothing() {
        assert!(DataSchema::compile(&json!(true)).is_err());
        assert!(DataSchema::compile(&json!({"$schema": DRAFT, "type": "object"})).is_ok());
        let old = json!({"$schema": "http://json-schema.org/draft-07/schema#"});
        assert!(DataSchema::compile(&old).is_err());
        let wrong = DataSchema::compile(&json!({"type": "objekt"})).expect_err("bad type");
        assert!(wrong[0].starts_with("schema/type: "), "{wrong:?}");
        let remote = json!({"$ref": "https://example.com/invoice.json"});
        assert!(DataSchema::compile(&remote).is_err());
        let local = json!({"$defs": {"id": {"type": "string"}}, "properties": {"id": {"$ref": "#/$defs/id"}}});
        assert!(DataSchema::compile(&local).is_ok());
        let huge = json!({"description": "x".repeat(MAX_BYTES)});
        assert!(DataSchema::compile(&huge).is_err());
    }
}
