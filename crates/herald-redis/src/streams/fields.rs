//! A message as the fields of a stream entry: `payload` (the bytes), `key` (the partition
//! key) and one `h:<name>` field per header. Fields of other names (an entry another
//! program added) are read as headers of their own name, so nothing of them is lost.

use herald_core::Headers;
use redis::Value;

pub(crate) const PAYLOAD: &str = "payload";
pub(crate) const KEY: &str = "key";
pub(crate) const HEADER: &str = "h:";

/// Gives the message's fields (name, value, name, value, ...) to `push`, one argument at a
/// time: the arguments of XADD, HSET or a script.
pub(crate) fn each_arg(key: &str, headers: &Headers, payload: &[u8], mut push: impl FnMut(&[u8])) {
    push(PAYLOAD.as_bytes());
    push(payload);
    push(KEY.as_bytes());
    push(key.as_bytes());
    for (name, value) in headers {
        push(format!("{HEADER}{name}").as_bytes());
        push(value.as_bytes());
    }
}

/// One entry as read: its id and the message its fields hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    pub id: String,
    pub key: Option<String>,
    pub headers: Headers,
    pub payload: Vec<u8>,
}

impl Entry {
    /// An entry from its id and its flat field list (`[name, value, name, value, ...]`).
    fn from_fields(id: String, fields: Vec<Value>) -> Entry {
        let mut entry = Entry {
            id,
            ..Entry::default()
        };
        let mut fields = fields.into_iter();
        while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
            let name = text(name);
            if name == PAYLOAD {
                entry.payload = bytes(value);
            } else if name == KEY {
                entry.key = Some(text(value)).filter(|k| !k.is_empty());
            } else if let Some(header) = name.strip_prefix(HEADER) {
                entry.headers.insert(header.to_owned(), text(value));
            } else {
                entry.headers.entry(name).or_insert_with(|| text(value));
            }
        }
        entry
    }
}

/// The entries of one stream in a reply of XRANGE, XAUTOCLAIM's second element or one
/// stream of XREADGROUP: `[[id, [fields...]], ...]`. Entries deleted meanwhile come as
/// `[id, nil]` and are left out.
pub(crate) fn entries(list: Value) -> Vec<Entry> {
    let Value::Array(items) = list else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|item| {
            let Value::Array(pair) = item else {
                return None;
            };
            let mut pair = pair.into_iter();
            let id = text(pair.next()?);
            match pair.next()? {
                Value::Array(fields) => Some(Entry::from_fields(id, fields)),
                Value::Map(map) => Some(Entry::from_fields(
                    id,
                    map.into_iter().flat_map(|(k, v)| [k, v]).collect(),
                )),
                _ => None,
            }
        })
        .collect()
}

/// The per-stream entries of an XREADGROUP reply (nil when BLOCK timed out).
pub(crate) fn read_reply(reply: Value) -> Vec<(String, Vec<Entry>)> {
    let pairs: Vec<(Value, Value)> = match reply {
        Value::Array(streams) => streams
            .into_iter()
            .filter_map(|s| match s {
                Value::Array(kv) if kv.len() == 2 => {
                    let mut kv = kv.into_iter();
                    Some((kv.next()?, kv.next()?))
                }
                _ => None,
            })
            .collect(),
        Value::Map(map) => map,
        _ => Vec::new(),
    };
    pairs
        .into_iter()
        .map(|(stream, list)| (text(stream), entries(list)))
        .collect()
}

pub(crate) fn text(v: Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8(b)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Value::SimpleString(s) => s,
        Value::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

fn bytes(v: Value) -> Vec<u8> {
    match v {
        Value::BulkString(b) => b,
        other => text(other).into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn fields_of_other_programs_become_headers() {
        let list = Value::Array(vec![
            Value::Array(vec![
                bulk("1-0"),
                Value::Array(vec![
                    bulk("payload"),
                    Value::BulkString(vec![0, 255, 1]),
                    bulk("key"),
                    bulk("k1"),
                    bulk("h:herald-attempt"),
                    bulk("2"),
                    bulk("origin"),
                    bulk("legacy"),
                ]),
            ]),
            Value::Array(vec![bulk("2-0"), Value::Nil]),
        ]);
        let got = entries(list);
        assert_eq!(got.len(), 1, "the deleted entry is left out");
        assert_eq!(got[0].id, "1-0");
        assert_eq!(got[0].payload, [0, 255, 1]);
        assert_eq!(got[0].key.as_deref(), Some("k1"));
        assert_eq!(got[0].headers["herald-attempt"], "2");
        assert_eq!(got[0].headers["origin"], "legacy");
    }
}
