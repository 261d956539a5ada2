//! Compiled schemas of the application's event types, kept per instance. Each publish reads
//! its type's row anyway (it may have changed on any instance); the compiled schema is
//! reused while the row's schema is the text it was compiled from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::event::data_schema::DataSchema;
use crate::store::event_types::CustomType;

/// More types than this and the cache starts over: it only saves compile time.
const MAX_ENTRIES: usize = 1024;

/// Each type's schema, with the text it was compiled from.
type Entries = HashMap<String, (String, Arc<DataSchema>)>;

#[derive(Default)]
pub struct CompiledSchemas {
    entries: Mutex<Entries>,
}

impl CompiledSchemas {
    /// `custom`'s schema, compiled; the error lines say why a stored schema no longer
    /// compiles (it did when registered).
    pub fn get(&self, custom: &CustomType) -> Result<Arc<DataSchema>, Vec<String>> {
        if let Some((text, schema)) = self.lock().get(&custom.name)
            && *text == custom.schema
        {
            return Ok(schema.clone());
        }
        let value = serde_json::from_str(&custom.schema).map_err(|e| vec![e.to_string()])?;
        let schema = Arc::new(DataSchema::compile(&value)?);
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(custom.name.clone(), (custom.schema.clone(), schema.clone()));
        Ok(schema)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A map of finished compilations: a poisoned lock holds nothing half-done.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
