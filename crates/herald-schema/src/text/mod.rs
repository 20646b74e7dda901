//! JSON text to a read-only DOM in a bump arena, the document `check_json` loads.
//!
//! Arrays and objects are contiguous slices in the arena, strings without escapes borrow from
//! the text, and objects hold each key once (the last value wins, as in serde_json), so the
//! loader reads members with a short linear scan and nothing is dropped one node at a time.

mod parse;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub(crate) use parse::{ParseError, Reason, parse};

use crate::json::{Json, Num, View};

/// A JSON value parsed by [`parse`]; everything it points at lives in the arena or the text.
///
/// The tag is a whole word so that a value is copied as three words: with the default one-byte
/// tag the bytes after it were copied piecewise, and reading those back stalled the parser.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Num(Num),
    Str(&'a str),
    Arr(&'a [Value<'a>]),
    /// Members in text order, each key once.
    Obj(&'a [(&'a str, Value<'a>)]),
}

// Three words: the scratch stacks and the arena slices stay dense.
const _: () = assert!(std::mem::size_of::<Value<'static>>() == 24);

impl Json for Value<'_> {
    fn view(&self) -> View<'_, Self> {
        match *self {
            Value::Null => View::Null,
            Value::Bool(b) => View::Bool(b),
            Value::Num(n) => View::Num(n),
            Value::Str(s) => View::Str(s),
            Value::Arr(items) => View::Arr(items),
            Value::Obj(_) => View::Obj,
        }
    }

    fn get(&self, key: &str) -> Option<&Self> {
        match self {
            // Keys are unique after parsing; searching from the end keeps "last wins" regardless.
            Value::Obj(members) => members
                .iter()
                .rev()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn entries(&self) -> impl Iterator<Item = (&str, &Self)> + '_ {
        let members: &[(&str, Value<'_>)] = match self {
            Value::Obj(members) => members,
            _ => &[],
        };
        members.iter().map(|(k, v)| (*k, v))
    }

    fn len(&self) -> usize {
        match self {
            Value::Obj(members) => members.len(),
            Value::Arr(items) => items.len(),
            _ => 0,
        }
    }
}
