//! herald's headers as SQS message attributes, and the body.
//!
//! SQS takes at most 10 attributes per message, names of `[A-Za-z0-9_.-]` and values of
//! XML characters only. So: headers go in priority order (event type, event id, attempt,
//! then the failure headers, then the rest by name) into attributes of their own while
//! they fit; the rest, and any whose name or value SQS would refuse (empty, control
//! characters), go together into one String attribute `herald-headers` holding a JSON
//! object. A payload that is not text SQS accepts travels base64-encoded, marked by the
//! attribute `herald-body-encoding: base64`. Nothing is dropped or truncated.

use std::collections::HashMap;

use aws_sdk_sqs::types::MessageAttributeValue;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use herald_core::{Headers, headers};

use crate::SqsError;

/// The attribute holding, as a JSON object, the headers that have no attribute of their own.
pub const OVERFLOW: &str = "herald-headers";
/// Present (`base64`) when the body is the payload base64-encoded.
pub const BODY_ENCODING: &str = "herald-body-encoding";
/// SQS's limit of attributes per message.
pub const MAX_ATTRIBUTES: usize = 10;

/// Headers that get an attribute of their own first.
const PRIORITY: [&str; 9] = [
    headers::EVENT_TYPE,
    headers::EVENT_ID,
    headers::ATTEMPT,
    headers::PARTITION_KEY,
    headers::ERROR,
    headers::HANDLER,
    headers::ATTEMPTS,
    headers::PERMANENT,
    headers::ORIGIN,
];

/// A message as SQS takes it.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub body: String,
    pub attributes: HashMap<String, MessageAttributeValue>,
    /// What SQS counts against its size limit: the body, and each attribute's name, type
    /// and value.
    pub size: usize,
}

pub(crate) fn encode(headers: &Headers, payload: &[u8]) -> Result<Encoded, SqsError> {
    let (body, base64) = match std::str::from_utf8(payload) {
        Ok(text) if text.chars().all(sqs_char) => (text.to_owned(), false),
        _ => (STANDARD.encode(payload), true),
    };
    let mut order: Vec<(&String, &String)> = headers.iter().collect();
    order.sort_by_key(|(name, _)| {
        PRIORITY
            .iter()
            .position(|p| p == name)
            .unwrap_or(PRIORITY.len())
    });
    let mut own: Vec<(&String, &String)> = Vec::new();
    let mut rest = serde_json::Map::new();
    let fits = |n: usize| n <= MAX_ATTRIBUTES - usize::from(base64);
    let all_fit = fits(headers.len()) && headers.iter().all(|(n, v)| valid(n, v));
    for (name, value) in order {
        // Room for the overflow attribute unless everything fits.
        let room = if all_fit {
            fits(own.len() + 1)
        } else {
            fits(own.len() + 2)
        };
        if room && valid(name, value) {
            own.push((name, value));
        } else {
            rest.insert(name.clone(), serde_json::Value::String(value.clone()));
        }
    }
    let mut attributes = HashMap::new();
    let mut size = body.len();
    let mut put = |name: &str, value: String| {
        size += name.len() + "String".len() + value.len();
        attributes.insert(name.to_owned(), string(value));
    };
    for (name, value) in own {
        put(name, value.clone());
    }
    if !rest.is_empty() {
        put(OVERFLOW, xml_safe_json(&serde_json::Value::Object(rest)));
    }
    if base64 {
        put(BODY_ENCODING, "base64".to_owned());
    }
    Ok(Encoded {
        body,
        attributes,
        size,
    })
}

/// The headers and payload of a received message. Attributes other publishers set are
/// headers too (String and Number ones; Binary ones are left out).
pub(crate) fn decode(
    body: &str,
    attributes: Option<&HashMap<String, MessageAttributeValue>>,
) -> Result<(Headers, Vec<u8>), String> {
    let mut headers = Headers::new();
    let mut base64 = false;
    for (name, value) in attributes.into_iter().flatten() {
        let Some(text) = value.string_value() else {
            continue;
        };
        match name.as_str() {
            OVERFLOW => {
                let rest: HashMap<String, String> = serde_json::from_str(text).map_err(|e| {
                    format!("attribute `{OVERFLOW}` is not a JSON object of strings: {e}")
                })?;
                headers.extend(rest);
            }
            BODY_ENCODING => base64 = text == "base64",
            _ => {
                headers.insert(name.clone(), text.to_owned());
            }
        }
    }
    let payload = if base64 {
        STANDARD
            .decode(body)
            .map_err(|e| format!("body marked base64 does not decode: {e}"))?
    } else {
        body.as_bytes().to_vec()
    };
    Ok((headers, payload))
}

pub(crate) fn string(value: String) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("data type is set")
}

/// A name and value SQS accepts as an attribute of its own.
fn valid(name: &str, value: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !name.is_empty()
        && name.len() <= 256
        && name != OVERFLOW
        && name != BODY_ENCODING
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !lower.starts_with("aws.")
        && !lower.starts_with("amazon.")
        && !value.is_empty()
        && value.chars().all(sqs_char)
}

/// JSON whose every character SQS accepts: serde_json escapes control characters, and the
/// two it leaves as they are that XML refuses (U+FFFE, U+FFFF) are escaped here.
fn xml_safe_json(value: &serde_json::Value) -> String {
    let json = value.to_string();
    if json.chars().all(sqs_char) {
        return json;
    }
    json.chars()
        .map(|c| {
            if sqs_char(c) {
                c.to_string()
            } else {
                format!("\\u{:04x}", u32::from(c))
            }
        })
        .collect()
}

/// A character SQS accepts in a body or attribute value (XML 1.0's).
fn sqs_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(headers: &Headers, payload: &[u8]) -> Encoded {
        let e = encode(headers, payload).expect("encodes");
        assert!(e.attributes.len() <= MAX_ATTRIBUTES);
        for value in e.attributes.values() {
            let text = value.string_value().expect("a String attribute");
            assert!(text.chars().all(sqs_char), "SQS would refuse {text:?}");
        }
        let (h, p) = decode(&e.body, Some(&e.attributes)).expect("decodes");
        assert_eq!(&h, headers);
        assert_eq!(p, payload);
        e
    }

    #[test]
    fn few_valid_headers_get_attributes_of_their_own() {
        let h: Headers = [(headers::EVENT_TYPE.to_owned(), "order.placed".to_owned())].into();
        let e = roundtrip(&h, b"{}");
        assert!(e.attributes.contains_key(headers::EVENT_TYPE));
        assert!(!e.attributes.contains_key(OVERFLOW));
    }

    #[test]
    fn many_or_invalid_headers_overflow_into_one_json_attribute() {
        let mut h: Headers = (0..15)
            .map(|i| (format!("h{i:02}"), format!("v{i}")))
            .collect();
        h.insert(headers::EVENT_TYPE.into(), "t".into());
        h.insert("ctl".into(), "a\u{1}b".into());
        h.insert("empty".into(), String::new());
        h.insert("spaced name".into(), "ü".into());
        h.insert("not xml".into(), "\u{fffe}\u{ffff}".into());
        let e = roundtrip(&h, "é\u{0}".as_bytes());
        assert_eq!(e.attributes.len(), MAX_ATTRIBUTES);
        assert!(e.attributes.contains_key(headers::EVENT_TYPE));
        assert!(e.attributes.contains_key(BODY_ENCODING));
    }
}
