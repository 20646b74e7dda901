//! The parser against serde_json on generated texts: both read the same value from a text
//! (compact, pretty, or with every non-ASCII character and `/` escaped), and refuse the same
//! broken texts.

use std::collections::HashSet;
use std::fmt::Write;

use bumpalo::Bump;
use proptest::prelude::*;
use serde_json::{Number, Value as Serde};

use super::{Value, parse};
use crate::json::{Json, Num, View};

/// How far apart two floats may be.
#[derive(Clone, Copy)]
enum Floats {
    Exact,
    /// serde_json's default float parsing (without its `float_roundtrip` feature) may read a
    /// decimal a few doubles away from the nearest one.
    Close,
}

/// The same class and value.
fn same_num(ours: Num, theirs: Num, floats: Floats) -> bool {
    match (ours, theirs, floats) {
        (Num::U(a), Num::U(b), _) => a == b,
        (Num::I(a), Num::I(b), _) => a == b,
        (Num::F(a), Num::F(b), Floats::Exact) => a.to_bits() == b.to_bits(),
        (Num::F(a), Num::F(b), Floats::Close) => {
            a.is_sign_negative() == b.is_sign_negative()
                && (a.to_bits().abs_diff(b.to_bits()) <= 16
                    || (a - b).abs() <= a.abs().max(b.abs()) * 1e-14)
        }
        _ => false,
    }
}

/// Structural equality: numbers by class and value, objects as maps (ours holding each key once).
fn same(ours: &Value<'_>, theirs: &Serde, floats: Floats) -> bool {
    match (ours.view(), theirs.view()) {
        (View::Null, View::Null) => true,
        (View::Bool(a), View::Bool(b)) => a == b,
        (View::Num(a), View::Num(b)) => same_num(a, b, floats),
        (View::Str(a), View::Str(b)) => a == b,
        (View::Arr(a), View::Arr(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y, floats))
        }
        (View::Obj, View::Obj) => {
            let keys: HashSet<&str> = ours.entries().map(|(k, _)| k).collect();
            keys.len() == ours.len()
                && ours.len() == theirs.len()
                && ours
                    .entries()
                    .all(|(k, v)| theirs.get(k).is_some_and(|w| same(v, w, floats)))
        }
        _ => false,
    }
}

/// Strings heavy in characters JSON escapes, and arbitrary ones.
fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z\"\\\\/\\x00-\\x1f\\x7f \u{e9}\u{20ac}\u{ffff}\u{1f600}]{0,24}",
        any::<String>(),
    ]
}

fn number() -> impl Strategy<Value = Serde> {
    prop_oneof![
        (0u64..1_000).prop_map(Serde::from),
        (-1_000i64..0).prop_map(Serde::from),
        any::<u64>().prop_map(Serde::from),
        any::<i64>().prop_map(Serde::from),
        (-1e6f64..1e6).prop_filter_map("finite", |f| Number::from_f64(f).map(Serde::Number)),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Serde::Number)),
    ]
}

fn json() -> impl Strategy<Value = Serde> {
    let leaf = prop_oneof![
        Just(Serde::Null),
        any::<bool>().prop_map(Serde::Bool),
        number(),
        string().prop_map(Serde::String),
    ];
    leaf.prop_recursive(6, 96, 10, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..10).prop_map(Serde::Array),
            prop::collection::btree_map(string(), inner, 0..10)
                .prop_map(|m| Serde::Object(m.into_iter().collect())),
        ]
    })
}

/// `text` with `/` and every non-ASCII character written as escapes (`\uXXXX`, surrogate
/// pairs above the BMP). Outside strings JSON text is ASCII without `/`, so this only
/// touches strings.
fn ascii_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    let _ = write!(out, "\\u{unit:04X}");
                }
            }
        }
    }
    out
}

/// Characters that make or break JSON, for mutations.
fn breaking_char() -> impl Strategy<Value = char> {
    prop::sample::select(vec![
        '{', '}', '[', ']', ',', ':', '"', '\\', '/', 'u', 'd', '8', '0', '1', '-', '+', '.', 'e',
        'E', ' ', '\n', '\t', '\r', '\u{b}', '\u{0}', '\u{1f}', 'x', 'n', 't', 'f', 'é',
    ])
}

/// A generated document's text with one to three characters removed, inserted or replaced.
fn mutated() -> impl Strategy<Value = String> {
    let edit = (any::<prop::sample::Index>(), 0u8..3, breaking_char());
    (json(), any::<bool>(), prop::collection::vec(edit, 1..4)).prop_map(|(v, pretty, edits)| {
        let text = if pretty {
            serde_json::to_string_pretty(&v)
        } else {
            serde_json::to_string(&v)
        };
        let mut chars: Vec<char> = text.expect("serialise").chars().collect();
        for (at, op, c) in edits {
            let i = at.index(chars.len() + 1);
            match op {
                0 if i < chars.len() => drop(chars.remove(i)),
                1 => chars.insert(i, c),
                _ if i < chars.len() => chars[i] = c,
                _ => chars.push(c),
            }
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn reads_what_serde_json_reads(v in json()) {
        let compact = serde_json::to_string(&v).expect("serialise");
        let pretty = serde_json::to_string_pretty(&v).expect("serialise");
        let escaped = ascii_escaped(&compact);
        for text in [compact, pretty, escaped] {
            let arena = Bump::new();
            let ours = parse(&text, &arena).map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
            let theirs: Serde = serde_json::from_str(&text).expect("serde_json reads its own text");
            prop_assert!(same(&ours, &theirs, Floats::Close), "{text}\nours: {ours:?}");
            // And exactly the generated value: shortest round-trip floats read back exactly.
            prop_assert!(same(&ours, &v, Floats::Exact), "{text}\nours: {ours:?}");
        }
    }

    #[test]
    fn numbers_read_like_serde_json(
        text in "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?"
    ) {
        let arena = Bump::new();
        let ours = parse(&text, &arena);
        match (&ours, serde_json::from_str::<Serde>(&text)) {
            (Ok(ours), Ok(theirs)) => prop_assert!(same(ours, &theirs, Floats::Close), "{text}: {ours:?}"),
            // Only a float beyond f64 is refused, by both.
            (Err(e), Err(_)) => prop_assert_eq!(e.reason, super::Reason::NumberOutOfRange),
            (ours, theirs) => prop_assert!(false, "{text}: ours {ours:?}, serde_json {theirs:?}"),
        }
        if let Ok(Value::Num(Num::F(f))) = ours {
            prop_assert_eq!(Some(f), text.parse::<f64>().ok());
        }
    }

    #[test]
    fn duplicate_keys_keep_the_last_value(
        members in prop::collection::vec((0usize..40, any::<i32>()), 0..80)
    ) {
        let body: Vec<String> = members.iter().map(|(k, v)| format!("\"k{k}\": {v}")).collect();
        let text = format!("{{{}}}", body.join(", "));
        let arena = Bump::new();
        let ours = parse(&text, &arena).expect("valid");
        let theirs: Serde = serde_json::from_str(&text).expect("valid");
        prop_assert!(same(&ours, &theirs, Floats::Exact), "{text}");
        // Each key once, where it first appeared.
        let mut first_seen: Vec<String> = Vec::new();
        for (k, _) in &members {
            let k = format!("k{k}");
            if !first_seen.contains(&k) {
                first_seen.push(k);
            }
        }
        let keys: Vec<&str> = ours.entries().map(|(k, _)| k).collect();
        prop_assert_eq!(keys, first_seen);
    }

    #[test]
    fn refuses_what_serde_json_refuses(text in mutated()) {
        let arena = Bump::new();
        let ours = parse(&text, &arena);
        let theirs = serde_json::from_str::<Serde>(&text);
        match (&ours, &theirs) {
            (Ok(ours), Ok(theirs)) => prop_assert!(same(ours, theirs, Floats::Close), "{text:?}"),
            (Err(e), Err(_)) => {
                // The position is inside the text (or just past it) and renders.
                prop_assert!(e.offset <= text.len());
                prop_assert!(!e.to_string().is_empty());
            }
            _ => prop_assert!(false, "{text:?}: ours {ours:?}, serde_json {theirs:?}"),
        }
    }
}
