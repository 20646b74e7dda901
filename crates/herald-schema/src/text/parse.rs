//! A single-pass recursive-descent JSON parser (RFC 8259, strictly) into [`Value`].
//!
//! The texts it is made for are pretty-printed schemas: most bytes are indentation, so runs of
//! spaces after a newline are skipped sixteen bytes at a time and the plain stretches of strings
//! eight (SWAR on `u64`). Every value goes onto one scratch stack (object keys onto another)
//! shared by all containers; a container's children are copied into the arena as one slice when
//! it closes.

use std::fmt;

use bumpalo::Bump;
use rustc_hash::{FxHashMap, FxHashSet};

use super::Value;
use crate::json::Num;
use crate::limits::MAX_JSON_DEPTH;

/// Why a text is not a JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    EmptyInput,
    UnexpectedEnd,
    ExpectedValue,
    InvalidLiteral,
    InvalidNumber,
    NumberOutOfRange,
    ExpectedKey,
    ExpectedColon,
    ExpectedCommaOrBrace,
    ExpectedCommaOrBracket,
    TrailingComma,
    UnterminatedString,
    ControlCharacter,
    InvalidEscape,
    InvalidUnicodeEscape,
    LoneSurrogate,
    TooDeep,
    TrailingCharacters,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::EmptyInput => "empty input",
            Reason::UnexpectedEnd => "unexpected end of input",
            Reason::ExpectedValue => "expected a value",
            Reason::InvalidLiteral => "invalid literal",
            Reason::InvalidNumber => "invalid number",
            Reason::NumberOutOfRange => "number out of range",
            Reason::ExpectedKey => "expected a string key",
            Reason::ExpectedColon => "expected ':'",
            Reason::ExpectedCommaOrBrace => "expected ',' or '}'",
            Reason::ExpectedCommaOrBracket => "expected ',' or ']'",
            Reason::TrailingComma => "trailing comma",
            Reason::UnterminatedString => "unterminated string",
            Reason::ControlCharacter => "control character in string",
            Reason::InvalidEscape => "invalid escape",
            Reason::InvalidUnicodeEscape => "invalid \\u escape",
            Reason::LoneSurrogate => "lone surrogate in \\u escape",
            Reason::TooDeep => return write!(f, "nesting deeper than {MAX_JSON_DEPTH}"),
            Reason::TrailingCharacters => "trailing characters after the value",
        })
    }
}

/// Where and why parsing stopped. `line` and `column` are 1-based; the column counts
/// characters, `offset` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) offset: usize,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) reason: Reason,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.reason
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses `text` as one JSON document, allocating containers and decoded strings in `arena`.
pub(crate) fn parse<'a>(text: &'a str, arena: &'a Bump) -> Result<Value<'a>, ParseError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
        arena,
        // Enough for a small schema, whose parse then never grows them.
        values: Vec::with_capacity(64),
        keys: Vec::with_capacity(32),
        seen: FxHashSet::default(),
        decoded: String::new(),
        failure: Fail {
            at: 0,
            reason: Reason::EmptyInput,
        },
    };
    match parser.document() {
        Ok(value) => Ok(value),
        Err(Stop) => Err(parser.failure.locate(text.as_bytes())),
    }
}

/// Parsing stopped, for the reason in [`Parser::failure`]. Zero-sized, so results come back
/// in registers.
struct Stop;

type Parsed<T> = Result<T, Stop>;

/// A failure before its line and column are worked out (only once, on the way out).
struct Fail {
    at: usize,
    reason: Reason,
}

impl Fail {
    fn locate(self, bytes: &[u8]) -> ParseError {
        let before = &bytes[..self.at.min(bytes.len())];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        // Characters, not bytes: count the bytes that are not UTF-8 continuation bytes.
        let column = 1 + before[line_start..]
            .iter()
            .filter(|&&b| b & 0xC0 != 0x80)
            .count();
        ParseError {
            offset: self.at,
            line,
            column,
            reason: self.reason,
        }
    }
}

fn fail<T>(at: usize, reason: Reason) -> Result<T, Fail> {
    Err(Fail { at, reason })
}

/// Objects with at most this many members are checked for duplicate keys pairwise; larger
/// ones with a hash set.
const PAIRWISE_MAX: usize = 16;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    arena: &'a Bump,
    /// Every parsed value not yet in a container, innermost container's last. Values are
    /// pushed here rather than returned: a 24-byte return goes through memory and reading it
    /// back stalls on store forwarding.
    values: Vec<Value<'a>>,
    /// Keys of the objects being parsed, innermost last; their values are on `values`.
    keys: Vec<&'a str>,
    /// Keys of one big object, for the duplicate check.
    seen: FxHashSet<&'a str>,
    /// One string with escapes, decoded before it is copied into the arena.
    decoded: String,
    /// Why parsing stopped, once it has.
    failure: Fail,
}

impl<'a> Parser<'a> {
    fn document(&mut self) -> Parsed<Value<'a>> {
        self.skip_ws();
        if self.pos == self.bytes.len() {
            return self.fail(self.pos, Reason::EmptyInput);
        }
        self.value()?;
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return self.fail(self.pos, Reason::TrailingCharacters);
        }
        Ok(self.values.pop().expect("the document's value"))
    }

    /// Records why parsing stops.
    #[cold]
    fn fail<T>(&mut self, at: usize, reason: Reason) -> Parsed<T> {
        self.failure = Fail { at, reason };
        Err(Stop)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace; after a newline, the indentation goes eight spaces at a time.
    #[inline]
    fn skip_ws(&mut self) {
        let bytes = self.bytes;
        let mut i = self.pos;
        loop {
            match bytes.get(i) {
                Some(b' ' | b'\t' | b'\r') => i += 1,
                Some(b'\n') => i = skip_spaces(bytes, i + 1),
                _ => break,
            }
        }
        self.pos = i;
    }

    /// Parses the value at `pos` (whitespace already skipped) onto `values`.
    fn value(&mut self) -> Parsed<()> {
        let value = match self.peek() {
            Some(b'"') => Value::Str(self.string()?),
            Some(b'{') => return self.object(),
            Some(b'[') => return self.array(),
            Some(b't') => self.literal(b"true", Value::Bool(true))?,
            Some(b'f') => self.literal(b"false", Value::Bool(false))?,
            Some(b'n') => self.literal(b"null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => Value::Num(self.number()?),
            Some(_) => return self.fail(self.pos, Reason::ExpectedValue),
            None => return self.fail(self.pos, Reason::UnexpectedEnd),
        };
        self.values.push(value);
        Ok(())
    }

    fn literal(&mut self, word: &[u8], value: Value<'a>) -> Parsed<Value<'a>> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            self.fail(self.pos, Reason::InvalidLiteral)
        }
    }

    /// Opens a container at `pos`, refusing one nested deeper than the limit.
    #[inline]
    fn enter(&mut self) -> Parsed<()> {
        if self.depth == MAX_JSON_DEPTH {
            return self.fail(self.pos, Reason::TooDeep);
        }
        self.depth += 1;
        self.pos += 1;
        self.skip_ws();
        Ok(())
    }

    fn array(&mut self) -> Parsed<()> {
        self.enter()?;
        let base = self.values.len();
        if self.peek() != Some(b']') {
            loop {
                self.value()?;
                if self.after_member(b']', Reason::ExpectedCommaOrBracket)? {
                    break;
                }
            }
        }
        self.pos += 1;
        self.depth -= 1;
        let items = self.arena.alloc_slice_copy(&self.values[base..]);
        self.values.truncate(base);
        self.values.push(Value::Arr(items));
        Ok(())
    }

    /// After an array item or object member: `true` at the container's `close`, `false`
    /// past a comma (with another member after it). Always inlined: as a call it cost 3% of
    /// the instructions of a check of the large pair.
    #[inline(always)]
    fn after_member(&mut self, close: u8, otherwise: Reason) -> Parsed<bool> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(close) {
                    return self.fail(self.pos, Reason::TrailingComma);
                }
                Ok(false)
            }
            Some(b) if b == close => Ok(true),
            Some(_) => self.fail(self.pos, otherwise),
            None => self.fail(self.pos, Reason::UnexpectedEnd),
        }
    }

    fn object(&mut self) -> Parsed<()> {
        self.enter()?;
        let (key_base, value_base) = (self.keys.len(), self.values.len());
        if self.peek() != Some(b'}') {
            loop {
                match self.peek() {
                    Some(b'"') => {}
                    Some(_) => return self.fail(self.pos, Reason::ExpectedKey),
                    None => return self.fail(self.pos, Reason::UnexpectedEnd),
                }
                let key = self.string()?;
                self.keys.push(key);
                self.skip_ws();
                match self.peek() {
                    Some(b':') => self.pos += 1,
                    Some(_) => return self.fail(self.pos, Reason::ExpectedColon),
                    None => return self.fail(self.pos, Reason::UnexpectedEnd),
                }
                self.skip_ws();
                self.value()?;
                if self.after_member(b'}', Reason::ExpectedCommaOrBrace)? {
                    break;
                }
            }
        }
        self.pos += 1;
        self.depth -= 1;
        let (keys, values) = (&self.keys[key_base..], &self.values[value_base..]);
        let members = if has_duplicates(keys, &mut self.seen) {
            self.arena.alloc_slice_copy(&last_wins(keys, values))
        } else {
            let pairs = keys.iter().copied().zip(values.iter().copied());
            self.arena.alloc_slice_fill_iter(pairs)
        };
        self.keys.truncate(key_base);
        self.values.truncate(value_base);
        self.values.push(Value::Obj(members));
        Ok(())
    }

    /// The string at `pos` (its opening quote): borrowed from the text unless it has escapes.
    fn string(&mut self) -> Parsed<&'a str> {
        let text: &'a str = self.text;
        let open = self.pos;
        let end = scan_plain(self.bytes, open + 1);
        match self.bytes.get(end) {
            Some(b'"') => {
                self.pos = end + 1;
                Ok(&text[open + 1..end])
            }
            Some(b'\\') => self.escaped(open, end),
            Some(_) => self.fail(end, Reason::ControlCharacter),
            None => self.fail(open, Reason::UnterminatedString),
        }
    }

    /// Decodes the string opened at `open` whose first escape is at `at`, into the arena.
    fn escaped(&mut self, open: usize, mut at: usize) -> Parsed<&'a str> {
        let (text, bytes) = (self.text, self.bytes);
        self.decoded.clear();
        // Start of the plain run not yet copied.
        let mut run = open + 1;
        loop {
            // Runs end at ASCII bytes, so they are whole characters.
            self.decoded.push_str(&text[run..at]);
            match bytes.get(at) {
                Some(b'"') => {
                    self.pos = at + 1;
                    return Ok(self.arena.alloc_str(&self.decoded));
                }
                Some(b'\\') => {}
                Some(_) => return self.fail(at, Reason::ControlCharacter),
                None => return self.fail(open, Reason::UnterminatedString),
            }
            let (c, len) = match bytes.get(at + 1) {
                Some(b'"') => ('"', 2),
                Some(b'\\') => ('\\', 2),
                Some(b'/') => ('/', 2),
                Some(b'b') => ('\u{8}', 2),
                Some(b'f') => ('\u{c}', 2),
                Some(b'n') => ('\n', 2),
                Some(b'r') => ('\r', 2),
                Some(b't') => ('\t', 2),
                Some(b'u') => unicode_escape(bytes, at).or_else(|f| self.fail(f.at, f.reason))?,
                Some(_) => return self.fail(at, Reason::InvalidEscape),
                None => return self.fail(open, Reason::UnterminatedString),
            };
            self.decoded.push(c);
            run = at + len;
            at = scan_plain(bytes, run);
        }
    }

    /// A number at `pos`, classified as serde_json does: integers that fit `u64` (non-negative)
    /// or `i64` (negative) stay integers, everything else is an `f64`.
    fn number(&mut self) -> Parsed<Num> {
        let bytes = self.bytes;
        let start = self.pos;
        let negative = bytes[start] == b'-';
        let digits_start = start + usize::from(negative);
        let mut i = digits_start;
        let mut mantissa: u64 = 0;
        match bytes.get(i) {
            Some(b'0') => {
                i += 1;
                if bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    return self.fail(i, Reason::InvalidNumber);
                }
            }
            Some(b'1'..=b'9') => {
                while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
                    // Wraps past 19 digits; those are re-read below.
                    mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                    i += 1;
                }
            }
            _ => return self.fail(i, Reason::InvalidNumber),
        }
        let int_end = i;
        let mut integer = true;
        if bytes.get(i) == Some(&b'.') {
            i = digits(bytes, i + 1).or_else(|f| self.fail(f.at, f.reason))?;
            integer = false;
        }
        if let Some(b'e' | b'E') = bytes.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = bytes.get(i) {
                i += 1;
            }
            i = digits(bytes, i).or_else(|f| self.fail(f.at, f.reason))?;
            integer = false;
        }
        self.pos = i;
        if integer {
            let exact = if int_end - digits_start <= 19 {
                Some(mantissa)
            } else {
                self.text[digits_start..int_end].parse::<u64>().ok()
            };
            if let Some(mantissa) = exact {
                if !negative {
                    return Ok(Num::U(mantissa));
                }
                // `-0` is a float in serde_json, and so is anything below i64::MIN.
                if mantissa != 0 && mantissa <= i64::MIN.unsigned_abs() {
                    return Ok(Num::I(0i64.wrapping_sub_unsigned(mantissa)));
                }
            }
        }
        // The grammar was checked above and is a subset of what `f64::from_str` accepts.
        match self.text[start..i].parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Num::F(f)),
            Ok(_) => self.fail(start, Reason::NumberOutOfRange),
            Err(_) => self.fail(start, Reason::InvalidNumber),
        }
    }
}

/// One or more digits at `i`; the index after them.
fn digits(bytes: &[u8], mut i: usize) -> Result<usize, Fail> {
    if !bytes.get(i).is_some_and(u8::is_ascii_digit) {
        return fail(i, Reason::InvalidNumber);
    }
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    Ok(i)
}

/// The character of the `\u` escape at `at` (its backslash), and how many bytes it took:
/// 6, or 12 for a surrogate pair.
fn unicode_escape(bytes: &[u8], at: usize) -> Result<(char, usize), Fail> {
    let high = hex4(bytes, at + 2).ok_or(Fail {
        at,
        reason: Reason::InvalidUnicodeEscape,
    })?;
    match high {
        0xD800..=0xDBFF => {
            if bytes.get(at + 6..at + 8) != Some(b"\\u") {
                return fail(at, Reason::LoneSurrogate);
            }
            let low = hex4(bytes, at + 8).ok_or(Fail {
                at: at + 6,
                reason: Reason::InvalidUnicodeEscape,
            })?;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return fail(at, Reason::LoneSurrogate);
            }
            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            match char::from_u32(code) {
                Some(c) => Ok((c, 12)),
                None => fail(at, Reason::InvalidUnicodeEscape),
            }
        }
        0xDC00..=0xDFFF => fail(at, Reason::LoneSurrogate),
        // Not a surrogate, so a scalar value.
        _ => match char::from_u32(high) {
            Some(c) => Ok((c, 6)),
            None => fail(at, Reason::InvalidUnicodeEscape),
        },
    }
}

fn hex4(bytes: &[u8], i: usize) -> Option<u32> {
    bytes
        .get(i..i + 4)?
        .iter()
        .try_fold(0u32, |acc, &b| Some(acc << 4 | char::from(b).to_digit(16)?))
}

/// The index of the first byte at or after `i` that ends a plain string run: `"`, `\` or a
/// control character; `bytes.len()` if none.
fn scan_plain(bytes: &[u8], mut i: usize) -> usize {
    const QUOTES: u64 = ONES * b'"' as u64;
    const BACKSLASHES: u64 = ONES * b'\\' as u64;
    while let Some(x) = word_at(bytes, i) {
        // A byte's high bit is set where it is zero (after the xor) or below 0x20. Borrows only
        // run upwards from a match, so the lowest flagged byte is the first match.
        let (q, b) = (x ^ QUOTES, x ^ BACKSLASHES);
        let flags = (q.wrapping_sub(ONES) & !q
            | b.wrapping_sub(ONES) & !b
            | x.wrapping_sub(ONES * 0x20) & !x)
            & HIGHS;
        if flags != 0 {
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// The index of the first byte at or after `i` that is not a space, sixteen bytes a step (the
/// indentation of the benchmark schemas averages 38 spaces a line).
#[inline]
fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
    const SPACES: u64 = ONES * b' ' as u64;
    while let Some(chunk) = bytes.get(i..).and_then(<[u8]>::first_chunk::<16>) {
        // Two words rather than one `u128`, and split from one bounds check: measured faster.
        // (The halves are eight bytes each, so the fallback never happens.)
        let (low, high) = chunk.split_at(8);
        let word = |half: &[u8]| u64::from_le_bytes(half.try_into().unwrap_or_default()) ^ SPACES;
        let (low, high) = (word(low), word(high));
        if low != 0 {
            return i + (low.trailing_zeros() / 8) as usize;
        }
        if high != 0 {
            return i + 8 + (high.trailing_zeros() / 8) as usize;
        }
        i += 16;
    }
    while bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// The eight bytes at `i` as a little-endian word (the first byte lowest), if there are eight.
#[inline]
fn word_at(bytes: &[u8], i: usize) -> Option<u64> {
    let word = bytes.get(i..)?.first_chunk::<8>()?;
    Some(u64::from_le_bytes(*word))
}

fn has_duplicates<'a>(keys: &[&'a str], seen: &mut FxHashSet<&'a str>) -> bool {
    if keys.len() <= PAIRWISE_MAX {
        return keys
            .iter()
            .enumerate()
            .any(|(i, key)| keys[..i].contains(key));
    }
    seen.clear();
    !keys.iter().all(|key| seen.insert(key))
}

/// The members with each key once, where it first appeared, holding its last value.
fn last_wins<'a>(keys: &[&'a str], values: &[Value<'a>]) -> Vec<(&'a str, Value<'a>)> {
    let mut index: FxHashMap<&str, usize> = FxHashMap::default();
    let mut out: Vec<(&'a str, Value<'a>)> = Vec::with_capacity(keys.len());
    for (&key, &value) in keys.iter().zip(values) {
        match index.get(key) {
            Some(&i) => out[i].1 = value,
            None => {
                index.insert(key, out.len());
                out.push((key, value));
            }
        }
    }
    out
}
