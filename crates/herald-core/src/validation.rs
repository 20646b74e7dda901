//! Validation of event data against the event's JSON Schema (feature `validation`).
//! Validators are compiled once per event type and version, then shared.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use serde_json::Value;

use crate::{DecodeError, Event};

type Cache = RwLock<HashMap<(&'static str, u32), Arc<jsonschema::Validator>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

fn validator<E: Event>(version: u32) -> Result<Arc<jsonschema::Validator>, DecodeError> {
    let key = (E::NAME, version);
    if let Some(v) = cache().read().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(v.clone());
    }
    let schema = E::schema_of_version(version).ok_or_else(|| DecodeError::UnknownVersion {
        event: E::NAME,
        found: version,
        known: E::known_versions(),
    })?;
    let compiled = jsonschema::validator_for(&schema).map_err(|e| DecodeError::Invalid {
        event: E::NAME,
        version,
        errors: vec![format!("the event's own schema does not compile: {e}")],
    })?;
    let compiled = Arc::new(compiled);
    cache()
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, compiled.clone());
    Ok(compiled)
}

/// Checks `data`, written with schema `version` of `E`, against that version's schema.
pub fn validate_data<E: Event>(data: &Value, version: u32) -> Result<(), DecodeError> {
    let validator = validator::<E>(version)?;
    let errors: Vec<String> = validator
        .iter_errors(data)
        .map(|e| {
            let path = e.instance_path().to_string();
            let at = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            format!("at {at}: {e}")
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::Invalid {
            event: E::NAME,
            version,
            errors,
        })
    }
}

/// Validates the raw JSON `data` of an envelope.
pub fn validate_raw<E: Event>(data: &str, version: u32) -> Result<(), DecodeError> {
    let value: Value = serde_json::from_str(data).map_err(|source| DecodeError::Data {
        event: E::NAME,
        version,
        source,
    })?;
    validate_data::<E>(&value, version)
}
