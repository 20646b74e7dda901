//! The parser on hand-picked texts: every error with its reason and position, duplicate keys,
//! escapes, numbers and the depth limit.

use bumpalo::Bump;

use super::{ParseError, Reason, Value, parse};
use crate::json::{Json, Num, View};
use crate::limits::MAX_JSON_DEPTH;

/// Parses `text` and hands the value to `check`.
fn with_parsed<R>(text: &str, check: impl FnOnce(Value<'_>) -> R) -> R {
    let arena = Bump::new();
    let value = parse(text, &arena).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    check(value)
}

fn error(text: &str) -> ParseError {
    let arena = Bump::new();
    match parse(text, &arena) {
        Ok(v) => panic!("{text:?} parsed as {v:?}"),
        Err(e) => e,
    }
}

/// `text` fails for `reason` at 1-based `line` and `column`.
#[track_caller]
fn fails(text: &str, reason: Reason, line: usize, column: usize) {
    let e = error(text);
    assert_eq!(
        (e.reason, e.line, e.column),
        (reason, line, column),
        "{text:?}: {e}"
    );
}

fn num(text: &str) -> Num {
    with_parsed(text, |v| match v {
        Value::Num(n) => n,
        other => panic!("{text:?} parsed as {other:?}"),
    })
}

#[test]
fn display_names_line_column_and_reason() {
    let e = error("{\n  \"a\": 1,\n  \"b\": 2 x\n}");
    assert_eq!(e.to_string(), "line 3 column 10: expected ',' or '}'");
    assert_eq!(e.offset, 21);
}

#[test]
fn columns_count_characters_not_bytes() {
    // "é" is two bytes, "😀" four: the column is the seventh character.
    let e = error("[\"é😀\" x]");
    assert_eq!((e.line, e.column, e.offset), (1, 7, 10));
}

#[test]
fn every_error_has_its_reason_and_position() {
    use Reason::*;
    fails("", EmptyInput, 1, 1);
    fails(" \n\t ", EmptyInput, 2, 3);
    fails("[1, 2", UnexpectedEnd, 1, 6);
    fails("{\"a\"", UnexpectedEnd, 1, 5);
    fails("{\"a\":", UnexpectedEnd, 1, 6);
    fails("{\"a\": 1", UnexpectedEnd, 1, 8);
    fails("{", UnexpectedEnd, 1, 2);
    fails("[", UnexpectedEnd, 1, 2);
    fails("[1, ?]", ExpectedValue, 1, 5);
    fails("+1", ExpectedValue, 1, 1);
    fails(".5", ExpectedValue, 1, 1);
    fails("NaN", ExpectedValue, 1, 1);
    fails("Infinity", ExpectedValue, 1, 1);
    fails("'a'", ExpectedValue, 1, 1);
    fails("[tru]", InvalidLiteral, 1, 2);
    fails("nul", InvalidLiteral, 1, 1);
    fails("[Null]", ExpectedValue, 1, 2);
    fails("-", InvalidNumber, 1, 2);
    fails("-a", InvalidNumber, 1, 2);
    fails("-Infinity", InvalidNumber, 1, 2);
    fails("01", InvalidNumber, 1, 2);
    fails("-00", InvalidNumber, 1, 3);
    fails("1.", InvalidNumber, 1, 3);
    fails("1.e5", InvalidNumber, 1, 3);
    fails("1e", InvalidNumber, 1, 3);
    fails("1e+", InvalidNumber, 1, 4);
    fails("[1E-x]", InvalidNumber, 1, 5);
    fails("[1, 1e400]", NumberOutOfRange, 1, 5);
    fails("-1e400", NumberOutOfRange, 1, 1);
    fails("{a: 1}", ExpectedKey, 1, 2);
    fails("{\"a\": 1, 2: 3}", ExpectedKey, 1, 10);
    fails("{\"a\" 1}", ExpectedColon, 1, 6);
    fails("{\"a\": 1 \"b\": 2}", ExpectedCommaOrBrace, 1, 9);
    fails("{\"a\": 1]", ExpectedCommaOrBrace, 1, 8);
    fails("[1 2]", ExpectedCommaOrBracket, 1, 4);
    fails("[1}", ExpectedCommaOrBracket, 1, 3);
    fails("[1, ]", TrailingComma, 1, 5);
    fails("{\"a\": 1,\n}", TrailingComma, 2, 1);
    fails("\"abc", UnterminatedString, 1, 1);
    fails("[\"a\\\"]", UnterminatedString, 1, 2);
    fails("\"a\\", UnterminatedString, 1, 1);
    fails("\"a\nb\"", ControlCharacter, 1, 3);
    fails("\"\t\"", ControlCharacter, 1, 2);
    fails("\"x\\n\u{1f}\"", ControlCharacter, 1, 5);
    fails("\"\\x\"", InvalidEscape, 1, 2);
    fails("\"ab\\'\"", InvalidEscape, 1, 4);
    fails("\"\\u12\"", InvalidUnicodeEscape, 1, 2);
    fails("\"\\u12g4\"", InvalidUnicodeEscape, 1, 2);
    fails("\"\\u12", InvalidUnicodeEscape, 1, 2);
    fails("\"\\ud83d\\u12\"", InvalidUnicodeEscape, 1, 8);
    fails("\"\\ud83d\"", LoneSurrogate, 1, 2);
    fails("\"\\ud83dx\"", LoneSurrogate, 1, 2);
    fails("\"\\ud83d\\n\"", LoneSurrogate, 1, 2);
    fails("\"\\ud83d\\u0041\"", LoneSurrogate, 1, 2);
    fails("\"a\\ude00\"", LoneSurrogate, 1, 3);
    fails("\"\\ude00\\ud83d\"", LoneSurrogate, 1, 2);
    fails("{} x", TrailingCharacters, 1, 4);
    fails("1 2", TrailingCharacters, 1, 3);
    fails("truex", TrailingCharacters, 1, 5);
    fails("[]]", TrailingCharacters, 1, 3);
    fails("\"a\"\n\n  \"b\"", TrailingCharacters, 3, 3);
}

#[test]
fn whitespace_is_space_tab_cr_lf_only() {
    with_parsed(" \t\r\n[ 1 ,\r\n\t2 ] \n", |v| assert_eq!(v.len(), 2));
    // Vertical tab, form feed and non-breaking space are not JSON whitespace.
    fails("\u{b}1", Reason::ExpectedValue, 1, 1);
    fails("[1,\u{c}2]", Reason::ExpectedValue, 1, 4);
    fails("\u{a0}1", Reason::ExpectedValue, 1, 1);
}

#[test]
fn deep_indentation_is_skipped_whatever_its_length() {
    for indent in 0..40 {
        let pad = " ".repeat(indent);
        let text = format!("{{\n{pad}\"a\": [\n{pad}{pad}1,\n{pad}  2\n{pad}]\n{pad}}}{pad}");
        with_parsed(&text, |v| {
            let a = v.get("a").expect("a");
            assert_eq!(a.len(), 2, "{text:?}");
        });
        // A non-space right after the indentation, at every alignment.
        let bad = format!("[\n{pad}x]");
        fails(&bad, Reason::ExpectedValue, 2, indent + 1);
    }
}

#[test]
fn duplicate_keys_keep_the_last_value_once_in_first_place() {
    with_parsed(r#"{"a": 1, "b": 2, "a": 3, "c": 4, "a": 5}"#, |v| {
        let entries: Vec<(&str, String)> = v
            .entries()
            .map(|(k, v)| (k, crate::json::render(v)))
            .collect();
        assert_eq!(
            entries,
            [("a", "5".into()), ("b", "2".into()), ("c", "4".into())]
        );
        assert_eq!(v.len(), 3);
        assert!(matches!(
            v.get("a").map(Json::view),
            Some(View::Num(Num::U(5)))
        ));
    });
    // Keys that differ only by escapes are the same key.
    with_parsed(r#"{"a\/b": 1, "a/b": 2}"#, |v| {
        assert_eq!(v.len(), 1);
        assert!(matches!(
            v.get("a/b").map(Json::view),
            Some(View::Num(Num::U(2)))
        ));
    });
    // Big objects go through the hash set: a duplicate at the end, then none at all.
    let mut members: Vec<String> = (0..5_000).map(|i| format!("\"p{i}\": {i}")).collect();
    members.push("\"p17\": \"last\"".into());
    with_parsed(&format!("{{{}}}", members.join(",\n  ")), |v| {
        assert_eq!(v.len(), 5_000);
        assert_eq!(v.get("p17").and_then(Json::as_str), Some("last"));
        assert_eq!(v.entries().nth(17).map(|(k, _)| k), Some("p17"));
        assert_eq!(v.entries().last().map(|(k, _)| k), Some("p4999"));
    });
    members.pop();
    with_parsed(&format!("{{{}}}", members.join(",")), |v| {
        assert_eq!(v.len(), 5_000)
    });
    // Nested objects are deduplicated on their own.
    with_parsed(r#"{"a": {"x": 1, "x": 2}, "b": {"x": 3}}"#, |v| {
        let a = v.get("a").expect("a");
        assert_eq!(a.len(), 1);
        assert!(matches!(
            a.get("x").map(Json::view),
            Some(View::Num(Num::U(2)))
        ));
        assert_eq!(v.get("b").map(Json::len), Some(1));
    });
}

#[test]
fn escapes_decode_and_plain_strings_borrow() {
    let text = r#"["plain", "q\"b\\s\/b\bf\fn\nr\rt\t", "\u00e9\u0041\u20AC", "\ud83d\ude00!"]"#;
    with_parsed(text, |v| {
        let View::Arr(items) = v.view() else {
            panic!("array")
        };
        let strings: Vec<&str> = items.iter().filter_map(Json::as_str).collect();
        assert_eq!(
            strings,
            ["plain", "q\"b\\s/b\u{8}f\u{c}n\nr\rt\t", "éA€", "😀!"]
        );
        // No escape: the slice is the text's own bytes.
        let plain = strings[0].as_ptr() as usize;
        assert_eq!(plain, text.as_ptr() as usize + 2);
    });
    // Escapes at every position around the eight-byte scan, and raw non-ASCII text kept.
    for n in 0..20 {
        let pad = "é".repeat(n);
        with_parsed(&format!("\"{pad}\\n{pad}\""), |v| {
            assert_eq!(v.as_str(), Some(format!("{pad}\n{pad}").as_str()));
        });
    }
    // DEL and beyond are not control characters for JSON.
    with_parsed("\"\u{7f}\u{80}\"", |v| {
        assert_eq!(v.as_str(), Some("\u{7f}\u{80}"))
    });
    with_parsed(r#""\u0000""#, |v| assert_eq!(v.as_str(), Some("\0")));
}

#[test]
fn numbers_are_classified_like_serde_json() {
    assert!(matches!(num("0"), Num::U(0)));
    assert!(matches!(num("18446744073709551615"), Num::U(u64::MAX)));
    assert!(matches!(
        num("12345678901234567890"),
        Num::U(12_345_678_901_234_567_890)
    ));
    assert!(matches!(num("-1"), Num::I(-1)));
    assert!(matches!(num("-9223372036854775808"), Num::I(i64::MIN)));
    // `-0` is a float in serde_json.
    assert!(matches!(num("-0"), Num::F(f) if f == 0.0 && f.is_sign_negative()));
    // Out of integer range: the nearest double.
    assert!(matches!(num("18446744073709551616"), Num::F(f) if f == 2f64.powi(64)));
    assert!(matches!(num("-9223372036854775809"), Num::F(f) if f == -(2f64.powi(63))));
    let big = "123456789012345678901234567890";
    assert!(matches!(num(big), Num::F(f) if Some(f) == big.parse().ok()));
    assert!(matches!(num("1.0"), Num::F(1.0)));
    assert!(matches!(num("1e2"), Num::F(100.0)));
    assert!(matches!(num("1E+2"), Num::F(100.0)));
    assert!(matches!(num("-2.5e-3"), Num::F(-0.0025)));
    assert!(matches!(num("0.1"), Num::F(0.1)));
    assert!(matches!(num("1e-400"), Num::F(0.0)));
    for text in ["0", "-0", "1e400", "-12.5e-7", "18446744073709551616", "7"] {
        let arena = Bump::new();
        let ours = parse(text, &arena).ok().map(|v| crate::json::render(&v));
        let theirs = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .map(|v| crate::json::render(&v));
        assert_eq!(ours, theirs, "{text}");
    }
}

/// `[[[...]]]` and `{"a":{"a":...}}` nested `depth` deep.
fn nested(depth: usize) -> (String, String) {
    let array = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let object = format!("{}null{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    (array, object)
}

#[test]
fn nesting_up_to_the_limit_parses_and_beyond_it_fails() {
    for depth in [1, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH] {
        let (array, object) = nested(depth);
        with_parsed(&array, |v| assert_eq!(v.len(), 1.min(depth - 1)));
        with_parsed(&object, |v| assert_eq!(v.len(), 1));
    }
    let (array, object) = nested(MAX_JSON_DEPTH + 1);
    // The bracket that goes one level too deep.
    fails(&array, Reason::TooDeep, 1, MAX_JSON_DEPTH + 1);
    fails(&object, Reason::TooDeep, 1, 5 * MAX_JSON_DEPTH + 1);
    assert_eq!(
        error(&array).to_string(),
        format!("line 1 column 513: nesting deeper than {MAX_JSON_DEPTH}")
    );
    // Far deeper is the same error, not a stack overflow; siblings do not add up.
    fails(
        &"[".repeat(1_000_000),
        Reason::TooDeep,
        1,
        MAX_JSON_DEPTH + 1,
    );
    let (inner, _) = nested(MAX_JSON_DEPTH - 1);
    with_parsed(&format!("[{inner},{inner},{inner}]"), |v| {
        assert_eq!(v.len(), 3)
    });
}

#[test]
fn containers_are_contiguous_and_in_order() {
    with_parsed(
        r#"[[1, [2, 3], {}], {"k": [], "l": [true, false, null]}, "s"]"#,
        |v| {
            let View::Arr(items) = v.view() else {
                panic!("array")
            };
            assert_eq!(items.len(), 3);
            assert_eq!(crate::json::render(&items[2]), "\"s\"");
            let View::Arr(first) = items[0].view() else {
                panic!("array")
            };
            assert_eq!(first.len(), 3);
            assert_eq!(first[1].len(), 2);
            assert!(matches!(first[2], Value::Obj([])));
            let l = items[1].get("l").expect("l");
            let View::Arr(l) = l.view() else {
                panic!("array")
            };
            assert!(matches!(
                l,
                [Value::Bool(true), Value::Bool(false), Value::Null]
            ));
            assert!(matches!(items[1].get("k"), Some(Value::Arr([]))));
            assert!(items[1].get("zz").is_none());
            assert!(items[2].get("k").is_none());
            assert_eq!(items[2].entries().count(), 0);
        },
    );
}
