//! The benchmark pairs: deterministic JSON Schema (draft-07) pairs for the compatibility
//! benches, tests and the Karapace baseline (`examples/bench_pairs.rs` writes them to a
//! directory). Included with `#[path]` by the tests, benches and that example.
//!
//! - small: 10 properties, flat, closed root object;
//! - medium: 200 properties, objects nested 3 levels, arrays, enums, string constraints;
//! - large: 5,000 properties, objects nested 10 levels, `definitions` with a few `$ref`s, some
//!   `anyOf` / `oneOf`.
//!
//! "Properties" counts every entry of every `properties` map (under `definitions` and array
//! `items` too); depth counts object levels, the root being 1. The new schema is the old one
//! with four changes: an optional property added to a closed object, a string `maxLength`
//! doubled, a string `enum` extended by one value, and an integer leaf of the deepest object
//! turned into a string. The last makes the pair incompatible both ways.
//!
//! Same shapes as the generator the first benchmark figures were measured on (a Python
//! script outside the repository), not the same bytes. The random stream is ChaCha8 from a
//! fixed seed, so a given Cargo.lock always yields the same texts.
#![allow(dead_code)] // each includer uses part of it

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

/// The sizes, smallest first.
pub const SIZES: [&str; 3] = ["small", "medium", "large"];

/// (old, new) texts, indented by two spaces, for `size` (small, medium or large).
pub fn generated_pair(size: &str) -> (String, String) {
    texts(&generate(size))
}

/// The (old, new) texts of `pair`, indented by two spaces.
pub fn texts(pair: &Pair) -> (String, String) {
    let text = |v: &Value| serde_json::to_string_pretty(v).expect("a Value serialises") + "\n";
    (text(&pair.old), text(&pair.new))
}

/// One generated pair and what went into it.
pub struct Pair {
    pub old: Value,
    pub new: Value,
    /// Entries of every `properties` map of the old schema.
    pub properties: usize,
    /// Deepest object level of the old schema (the root is 1).
    pub max_object_depth: usize,
    pub refs: usize,
    pub combinators: usize,
    /// The four changes: (what, JSON pointer in the new schema).
    pub changes: Vec<(String, String)>,
}

struct Shape {
    total: usize,
    depth: usize,
    /// Most leaf properties of one object.
    cap: usize,
    /// Child objects per object.
    branch: usize,
    refs: usize,
    combinators: usize,
}

fn shape(size: &str) -> Shape {
    match size {
        "small" => Shape {
            total: 10,
            depth: 1,
            cap: 10,
            branch: 0,
            refs: 0,
            combinators: 0,
        },
        "medium" => Shape {
            total: 200,
            depth: 3,
            cap: 24,
            branch: 3,
            refs: 0,
            combinators: 0,
        },
        "large" => Shape {
            total: 5000,
            depth: 10,
            cap: 14,
            branch: 2,
            refs: 6,
            combinators: 40,
        },
        other => panic!("unknown benchmark size {other:?} (small, medium or large)"),
    }
}

const SEED: u64 = 20240601;

const WORDS: &[&str] = &[
    "id",
    "name",
    "email",
    "status",
    "created_at",
    "updated_at",
    "amount",
    "currency",
    "country",
    "city",
    "street",
    "postal_code",
    "phone",
    "quantity",
    "price",
    "sku",
    "title",
    "description",
    "category",
    "priority",
    "owner",
    "region",
    "version",
    "score",
    "rating",
    "note",
    "label",
    "kind",
    "source",
    "target",
    "tag",
    "code",
    "reference",
    "count",
    "total",
    "weight",
    "height",
    "width",
    "color",
    "size",
    "language",
    "timezone",
    "channel",
    "device",
    "session",
    "account",
    "customer",
    "order",
    "invoice",
    "payment",
    "shipment",
    "warehouse",
    "carrier",
    "discount",
    "tax",
    "balance",
    "limit",
    "offset",
    "level",
    "flag",
    "active",
    "verified",
    "locked",
    // Names of nested objects.
    "address",
    "customer",
    "order",
    "item",
    "payment",
    "shipping",
    "billing",
    "profile",
    "settings",
    "metadata",
    "audit",
    "contact",
    "location",
    "product",
    "inventory",
    "pricing",
    "discount",
    "review",
    "session",
    "device",
    "account",
    "subscription",
    "invoice",
    "line",
];
const ENUM_POOLS: &[&[&str]] = &[
    &[
        "NEW",
        "PENDING",
        "ACTIVE",
        "SUSPENDED",
        "CLOSED",
        "ARCHIVED",
    ],
    &["LOW", "MEDIUM", "HIGH", "CRITICAL", "BLOCKER"],
    &["EUR", "USD", "GBP", "JPY", "CHF", "SEK", "NOK"],
    &["WEB", "IOS", "ANDROID", "API", "BATCH", "PARTNER"],
    &["RED", "GREEN", "BLUE", "BLACK", "WHITE", "SILVER"],
];
const PATTERNS: &[&str] = &[
    "^[A-Z]{2}$",
    "^[0-9]{5}(-[0-9]{4})?$",
    "^[a-z0-9_]+$",
    "^\\+?[0-9 ]{6,20}$",
];
const FORMATS: &[&str] = &["date-time", "email", "uri", "uuid", "date"];
const DEFINITION_NAMES: &[&str] = &["Address", "Identifier", "Money", "Timestamp"];

fn definitions() -> Value {
    json!({
        "Money": {
            "type": "object",
            "properties": {
                "amount": {"type": "number", "minimum": 0},
                "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]}
            },
            "required": ["amount", "currency"],
            "additionalProperties": false
        },
        "Address": {
            "type": "object",
            "properties": {
                "street": {"type": "string", "maxLength": 120},
                "city": {"type": "string", "maxLength": 80},
                "postal_code": {"type": "string", "pattern": "^[0-9]{5}$"},
                "country": {"type": "string", "minLength": 2, "maxLength": 2}
            },
            "required": ["street", "city"]
        },
        "Timestamp": {"type": "string", "format": "date-time"},
        "Identifier": {"type": "string", "pattern": "^[a-z0-9-]{8,64}$", "maxLength": 64}
    })
}

/// A JSON pointer and the object level it lies at.
type Spot = (usize, String);

struct Generator {
    shape: Shape,
    rng: ChaCha8Rng,
    properties: usize,
    max_depth: usize,
    refs_left: usize,
    combinators_left: usize,
    // Where each change may go.
    closed_objects: Vec<Spot>,
    max_length_leaves: Vec<Spot>,
    enum_leaves: Vec<Spot>,
    integer_leaves: Vec<Spot>,
}

impl Generator {
    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.rng.random_range(0..from.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    fn names(&mut self, n: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(n);
        for i in 0..n {
            let base = *self.pick(WORDS);
            let name = if out.iter().any(|taken| taken == base) {
                format!("{base}_{i}")
            } else {
                base.to_owned()
            };
            out.push(name);
        }
        out
    }

    fn leaf(&mut self, pointer: String, depth: usize) -> Value {
        let r = self.rng.random::<f64>();
        if self.refs_left > 0 && r < 0.03 {
            self.refs_left -= 1;
            return json!({"$ref": format!("#/definitions/{}", self.pick(DEFINITION_NAMES))});
        }
        if self.combinators_left > 0 && r < 0.09 {
            self.combinators_left -= 1;
            if self.chance(0.5) {
                return json!({"anyOf": [{"type": "string", "maxLength": 64}, {"type": "null"}]});
            }
            let pattern = *self.pick(PATTERNS);
            return json!({"oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": pattern}
            ]});
        }
        let r = self.rng.random::<f64>();
        if r < 0.30 {
            let mut s = json!({"type": "string", "maxLength": *self.pick(&[16, 32, 64, 128, 255])});
            if self.chance(0.3) {
                s["minLength"] = json!(1);
            }
            if self.chance(0.2) {
                s["pattern"] = json!(*self.pick(PATTERNS));
            }
            self.max_length_leaves.push((depth, pointer));
            s
        } else if r < 0.40 {
            json!({"type": "string", "format": *self.pick(FORMATS)})
        } else if r < 0.58 {
            let mut s = json!({"type": "integer", "minimum": 0});
            if self.chance(0.5) {
                s["maximum"] = json!(*self.pick(&[100i64, 1000, 65535, 2147483647]));
            }
            self.integer_leaves.push((depth, pointer));
            s
        } else if r < 0.66 {
            json!({"type": "number", "minimum": 0, "exclusiveMaximum": 1e9})
        } else if r < 0.74 {
            json!({"type": "boolean"})
        } else if r < 0.88 {
            let pool = *self.pick(ENUM_POOLS);
            let k = self.rng.random_range(2..pool.len());
            self.enum_leaves.push((depth, pointer));
            json!({"type": "string", "enum": pool[..k]})
        } else {
            json!({
                "type": "array",
                "items": {"type": "string", "maxLength": 64},
                "maxItems": *self.pick(&[10, 50, 100]),
                "uniqueItems": true
            })
        }
    }

    /// An object schema whose subtree holds `n` property entries.
    fn object(&mut self, n: usize, depth: usize, pointer: &str) -> Value {
        self.max_depth = self.max_depth.max(depth);
        let (cap, branch) = (self.shape.cap, self.shape.branch);
        let (leaves, children) = if depth >= self.shape.depth || n <= cap || branch == 0 {
            (n, Vec::new())
        } else {
            let leaves = self.rng.random_range((cap / 2).max(2)..=cap);
            let rest = n - leaves;
            let count = branch.min(rest);
            // Uneven: the first child takes the largest share, so one spine goes deep.
            let mut weights = vec![2.0];
            for _ in 1..count {
                weights.push(self.rng.random_range(0.6..1.2));
            }
            let sum: f64 = weights.iter().sum();
            let mut children: Vec<usize> = weights
                .iter()
                .map(|w| ((rest as f64 * w / sum) as usize).max(1))
                .collect();
            let given: usize = children.iter().sum();
            children[0] = children[0] + rest - given;
            (leaves, children)
        };
        let names = self.names(leaves + children.len());
        let mut properties = Map::new();
        for name in &names[..leaves] {
            let leaf = self.leaf(format!("{pointer}/properties/{name}"), depth);
            properties.insert(name.clone(), leaf);
        }
        for (name, k) in names[leaves..].iter().zip(children) {
            let at = format!("{pointer}/properties/{name}");
            let child = if self.chance(0.25) {
                let items = self.object(k - 1, depth + 1, &format!("{at}/items"));
                json!({"type": "array", "maxItems": 500, "items": items})
            } else {
                self.object(k - 1, depth + 1, &at)
            };
            properties.insert(name.clone(), child);
        }
        self.properties += properties.len();
        let mut required = Vec::new();
        for name in &names[..leaves] {
            if self.chance(0.4) {
                required.push(name.clone());
            }
        }
        let mut schema = json!({"type": "object", "properties": properties});
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        if depth == 1 || self.chance(0.5) {
            schema["additionalProperties"] = json!(false);
            self.closed_objects.push((depth, pointer.to_owned()));
        }
        schema
    }
}

/// A spot at the deepest level (`deep`) or the middle one of those present.
fn choose(rng: &mut ChaCha8Rng, spots: &[Spot], deep: bool) -> String {
    let mut depths: Vec<usize> = spots.iter().map(|s| s.0).collect();
    depths.sort_unstable();
    depths.dedup();
    let want = if deep {
        depths[depths.len() - 1]
    } else {
        depths[depths.len() / 2]
    };
    let pool: Vec<&String> = spots.iter().filter(|s| s.0 == want).map(|s| &s.1).collect();
    pool[rng.random_range(0..pool.len())].clone()
}

/// The pair for `size`, with what went into it. Panics on an unknown size.
pub fn generate(size: &str) -> Pair {
    let shape = shape(size);
    let mut g = Generator {
        rng: ChaCha8Rng::seed_from_u64(SEED ^ seed_of(size)),
        properties: 0,
        max_depth: 0,
        refs_left: shape.refs,
        combinators_left: shape.combinators,
        closed_objects: Vec::new(),
        max_length_leaves: Vec::new(),
        enum_leaves: Vec::new(),
        integer_leaves: Vec::new(),
        shape,
    };
    let mut total = g.shape.total;
    let defs = (g.shape.refs > 0).then(definitions);
    if let Some(defs) = &defs {
        let declared: usize = defs
            .as_object()
            .expect("definitions are an object")
            .values()
            .map(|d| {
                d.get("properties")
                    .and_then(Value::as_object)
                    .map_or(0, Map::len)
            })
            .sum();
        total -= declared;
        g.properties += declared;
    }
    let root = g.object(total, 1, "");
    let mut old = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": format!("https://example.com/bench/{size}.json"),
        "title": format!("bench_{size}"),
    });
    old.as_object_mut()
        .expect("an object")
        .extend(root.as_object().expect("an object").clone());
    if let Some(defs) = defs {
        old["definitions"] = defs;
    }

    let mut new = old.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ seed_of(&format!("{size}:changes")));
    let mut changes = Vec::new();
    let p = choose(&mut rng, &g.closed_objects, false);
    let object = new
        .pointer_mut(&format!("{p}/properties"))
        .expect("a closed object");
    let name = if object.get("added_note").is_none() {
        "added_note"
    } else {
        "added_note_2"
    };
    object[name] = json!({"type": "string", "maxLength": 200});
    changes.push((
        "optional property added to closed object".into(),
        format!("{p}/properties/{name}"),
    ));

    let p = choose(&mut rng, &g.max_length_leaves, false);
    let leaf = new.pointer_mut(&p).expect("a maxLength leaf");
    let before = leaf["maxLength"].as_u64().expect("maxLength is an integer");
    leaf["maxLength"] = json!(before * 2);
    changes.push((format!("maxLength {before} -> {}", before * 2), p));

    let p = choose(&mut rng, &g.enum_leaves, false);
    let leaf = new.pointer_mut(&p).expect("an enum leaf");
    leaf["enum"]
        .as_array_mut()
        .expect("enum is an array")
        .push(json!("OTHER"));
    changes.push(("enum extended with OTHER".into(), p));

    let p = choose(&mut rng, &g.integer_leaves, true);
    *new.pointer_mut(&p).expect("an integer leaf") = json!({"type": "string", "maxLength": 32});
    changes.push(("type integer -> string".into(), p));

    Pair {
        old,
        new,
        properties: g.properties,
        max_object_depth: g.max_depth,
        refs: g.shape.refs - g.refs_left,
        combinators: g.shape.combinators - g.combinators_left,
        changes,
    }
}

/// Each size draws its own stream, so growing one size leaves the others as they were.
fn seed_of(size: &str) -> u64 {
    size.bytes()
        .fold(0, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
}
