//! A read-only view over a JSON document, so the engine runs on `serde_json::Value` (the public
//! API) and on [`crate::text::Value`] (the fast path from text) without copying either.

use std::cmp::Ordering;

use bigdecimal::BigDecimal;

/// A JSON number as the parser kept it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Num {
    U(u64),
    I(i64),
    F(f64),
}

impl Num {
    /// The exact decimal value of the number's shortest text form (`0.1` is one tenth, not the
    /// binary double nearest to it), so `multipleOf` and bounds compare without rounding.
    pub(crate) fn to_decimal(self) -> Option<BigDecimal> {
        match self {
            Num::U(u) => Some(BigDecimal::from(u)),
            Num::I(i) => Some(BigDecimal::from(i)),
            // Display of f64 is the shortest text that round-trips, never in exponent form.
            Num::F(f) if f.is_finite() => f.to_string().parse().ok(),
            Num::F(_) => None,
        }
    }

    /// The value as a non-negative integer, if it is one (`3` and `3.0` both are).
    pub(crate) fn as_count(self) -> Option<u64> {
        match self {
            Num::U(u) => Some(u),
            Num::I(i) => u64::try_from(i).ok(),
            Num::F(f) if f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64 => Some(f as u64),
            Num::F(_) => None,
        }
    }

    /// Numeric order. Doubles compare as doubles: each is the value of its shortest decimal text
    /// and that mapping keeps order, so this is exact for the numbers the text denotes.
    pub(crate) fn cmp_value(self, other: Num) -> Option<Ordering> {
        // Integers up to 2^53 are exact as doubles.
        const EXACT: u64 = 1 << 53;
        let small = |n: Num| match n {
            Num::U(u) => u <= EXACT,
            Num::I(i) => i.unsigned_abs() <= EXACT,
            Num::F(_) => true,
        };
        let as_f64 = |n: Num| match n {
            Num::U(u) => u as f64,
            Num::I(i) => i as f64,
            Num::F(f) => f,
        };
        match (self, other) {
            (Num::U(a), Num::U(b)) => Some(a.cmp(&b)),
            (Num::I(a), Num::I(b)) => Some(a.cmp(&b)),
            (Num::U(a), Num::I(b)) => Some(i128::from(a).cmp(&i128::from(b))),
            (Num::I(a), Num::U(b)) => Some(i128::from(a).cmp(&i128::from(b))),
            _ if small(self) && small(other) => as_f64(self).partial_cmp(&as_f64(other)),
            _ => self.to_decimal()?.partial_cmp(&other.to_decimal()?),
        }
    }

    pub(crate) fn is_finite(self) -> bool {
        !matches!(self, Num::F(f) if !f.is_finite())
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Num::U(u) => write!(f, "{u}"),
            Num::I(i) => write!(f, "{i}"),
            Num::F(x) => write!(f, "{x}"),
        }
    }
}

/// What a JSON value is, borrowed.
#[derive(Debug)]
pub(crate) enum View<'v, J> {
    Null,
    Bool(bool),
    Num(Num),
    Str(&'v str),
    Arr(&'v [J]),
    Obj,
}

/// The few operations the loader needs from a JSON document.
pub(crate) trait Json: Sized + std::fmt::Debug {
    fn view(&self) -> View<'_, Self>;
    /// The member `key` of an object (`None` for other values).
    fn get(&self, key: &str) -> Option<&Self>;
    /// The members of an object, in the parser's order (empty for other values).
    /// (A concrete iterator, not a boxed one: the loader asks every schema object.)
    fn entries(&self) -> impl Iterator<Item = (&str, &Self)> + '_;
    fn len(&self) -> usize;

    fn as_str(&self) -> Option<&str> {
        match self.view() {
            View::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl Json for serde_json::Value {
    fn view(&self) -> View<'_, Self> {
        use serde_json::Value as V;
        match self {
            V::Null => View::Null,
            V::Bool(b) => View::Bool(*b),
            V::Number(n) => View::Num(if let Some(u) = n.as_u64() {
                Num::U(u)
            } else if let Some(i) = n.as_i64() {
                Num::I(i)
            } else {
                Num::F(n.as_f64().unwrap_or(f64::NAN))
            }),
            V::String(s) => View::Str(s),
            V::Array(a) => View::Arr(a),
            V::Object(_) => View::Obj,
        }
    }
    fn get(&self, key: &str) -> Option<&Self> {
        self.as_object()?.get(key)
    }
    fn entries(&self) -> impl Iterator<Item = (&str, &Self)> + '_ {
        self.as_object()
            .into_iter()
            .flat_map(|m| m.iter().map(|(k, v)| (k.as_str(), v)))
    }
    fn len(&self) -> usize {
        match self {
            serde_json::Value::Object(m) => m.len(),
            serde_json::Value::Array(a) => a.len(),
            _ => 0,
        }
    }
}

/// JSON Schema equality: numbers by value (`1` equals `1.0`), objects regardless of member order.
pub(crate) fn json_eq<J: Json>(a: &J, b: &J) -> bool {
    match (a.view(), b.view()) {
        (View::Null, View::Null) => true,
        (View::Bool(x), View::Bool(y)) => x == y,
        (View::Num(x), View::Num(y)) => x.cmp_value(y) == Some(Ordering::Equal),
        (View::Str(x), View::Str(y)) => x == y,
        (View::Arr(x), View::Arr(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (View::Obj, View::Obj) => {
            a.len() == b.len()
                && a.entries()
                    .all(|(k, v)| b.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => false,
    }
}

/// A short rendering of a value for messages (`"red"`, `3`, `[…]`).
pub(crate) fn render<J: Json>(v: &J) -> String {
    match v.view() {
        View::Null => "null".into(),
        View::Bool(b) => b.to_string(),
        View::Num(n) => n.to_string(),
        View::Str(s) => format!("{s:?}"),
        View::Arr([]) => "[]".into(),
        View::Arr(_) => "[…]".into(),
        View::Obj => "{…}".into(),
    }
}
