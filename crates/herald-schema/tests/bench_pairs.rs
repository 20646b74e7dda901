//! The benchmark pairs (tests/support/generated_pairs.rs) have the shapes the benches and the
//! Karapace baseline are described with, counted here by walking the schemas, and come out the
//! same on every run.

use herald_schema::{CompatibilityLevel as L, NoReferences, Policy, check};
use serde_json::Value;

#[path = "support/generated_pairs.rs"]
mod generated_pairs;

use generated_pairs::{SIZES, generate, generated_pair};

/// Entries of every `properties` map, and the deepest object level (the root is 1).
fn count(schema: &Value, depth: usize, props: &mut usize, deepest: &mut usize) {
    let Some(object) = schema.as_object() else {
        return;
    };
    let mut here = depth;
    if object.get("type").and_then(Value::as_str) == Some("object") {
        *deepest = (*deepest).max(depth);
        here = depth + 1;
    }
    if let Some(Value::Object(properties)) = object.get("properties") {
        *props += properties.len();
        for p in properties.values() {
            count(p, here, props, deepest);
        }
    }
    if let Some(items) = object.get("items") {
        count(items, here, props, deepest);
    }
    if let Some(Value::Object(defs)) = object.get("definitions") {
        for d in defs.values() {
            // A definition is its own root; only its properties count here.
            count(d, 1, props, &mut 0);
        }
    }
}

fn shape(schema: &Value) -> (usize, usize) {
    let (mut props, mut deepest) = (0, 0);
    count(schema, 1, &mut props, &mut deepest);
    (props, deepest)
}

fn occurrences(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn each_size_has_its_properties_depth_refs_and_combinators() {
    for (size, properties, depth) in [("small", 10, 1), ("medium", 200, 3), ("large", 5000, 10)] {
        let pair = generate(size);
        assert_eq!(
            shape(&pair.old),
            (properties, depth),
            "{size}: (properties, depth)"
        );
        assert_eq!(
            pair.properties, properties,
            "{size}: the generator's own count"
        );
        assert_eq!(pair.max_object_depth, depth, "{size}");
        let text = pair.old.to_string();
        let (refs, combinators) = (
            occurrences(&text, "\"$ref\""),
            occurrences(&text, "\"anyOf\"") + occurrences(&text, "\"oneOf\""),
        );
        assert_eq!((refs, combinators), (pair.refs, pair.combinators), "{size}");
        if size == "large" {
            assert!(
                refs > 0 && combinators > 0,
                "large: {refs} $refs, {combinators} combinators"
            );
            assert!(pair.old.get("definitions").is_some());
        } else {
            assert_eq!((refs, combinators), (0, 0), "{size}");
        }
    }
}

#[test]
fn the_four_changes_are_where_the_generator_says() {
    for size in SIZES {
        let pair = generate(size);
        let kinds: Vec<&str> = pair.changes.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(kinds.len(), 4, "{size}: {kinds:?}");
        for (what, at) in &pair.changes {
            let new = pair
                .new
                .pointer(at)
                .unwrap_or_else(|| panic!("{size}: no {at}"));
            match pair.old.pointer(at) {
                None => {
                    assert_eq!(what, "optional property added to closed object");
                    let parent = &at[..at.rfind("/properties/").expect("a property")];
                    let parent = pair.old.pointer(parent).expect("the object");
                    assert_eq!(parent["additionalProperties"], false, "{size}: {at}");
                }
                Some(old) => {
                    assert_ne!(old, new, "{size}: {what} at {at}");
                    if what.starts_with("type") {
                        assert_eq!(
                            (old["type"].as_str(), new["type"].as_str()),
                            (Some("integer"), Some("string"))
                        );
                    }
                }
            }
        }
        // Nothing else differs: undoing the four changes gives the old schema back.
        let mut undone = pair.new.clone();
        for (_, at) in &pair.changes {
            match pair.old.pointer(at) {
                Some(old) => *undone.pointer_mut(at).expect("present") = old.clone(),
                None => {
                    let (parent, name) = at.rsplit_once('/').expect("a pointer");
                    undone
                        .pointer_mut(parent)
                        .and_then(Value::as_object_mut)
                        .expect("the properties")
                        .remove(name);
                }
            }
        }
        assert_eq!(undone, pair.old, "{size}");
    }
}

#[test]
fn pairs_are_incompatible_both_ways_and_the_same_every_time() {
    for size in SIZES {
        let first = generated_pair(size);
        assert_eq!(first, generated_pair(size), "{size}: not deterministic");
        let pair = generate(size);
        for level in [L::Backward, L::Forward] {
            let report = check(
                level,
                Policy::Strict,
                &pair.new,
                std::slice::from_ref(&pair.old),
                &NoReferences,
            )
            .unwrap_or_else(|e| panic!("{size} {level:?}: {e}"));
            assert!(!report.is_compatible, "{size} {level:?}");
        }
    }
}
