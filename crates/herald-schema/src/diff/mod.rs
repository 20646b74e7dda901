//! The comparison: walks an original (writer) and an update (reader) schema side by side and
//! records every difference with Confluent's type and path. `original` is the schema data was
//! written with; `update` the one that reads it (BACKWARD: previous → new; FORWARD: the reverse).

mod array;
mod combined;
mod conditional;
mod enums;
mod matching;
mod not;
mod number;
mod object;
mod string;

use std::borrow::Cow;
use std::rc::Rc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::json::{Json, json_eq};
use crate::limits::{MAX_COMPARISONS, MAX_DIFF_DEPTH, MAX_REF_CHAIN};
use crate::model::{Class, Criterion, Kind, NodeId, Schema};
use crate::{DifferenceType, Policy, SchemaError};

use DifferenceType as T;

/// A difference before it gets its sentence: type, path and the old/new values when known.
#[derive(Debug, Clone)]
pub(crate) struct RawDiff {
    pub kind: DifferenceType,
    pub path: String,
    pub detail: Option<Rc<(String, String)>>,
}

/// A pair being compared: (sides flipped, quiet, original node, update node). `not` compares
/// its inner schemas the other way round, so the same nodes can meet in both roles.
type Key = (bool, bool, NodeId, NodeId);

pub(crate) struct Differ<'s, 'a, J> {
    sides: [&'s Schema<'a, J>; 2],
    flipped: bool,
    policy: Policy,
    path: Vec<Cow<'a, str>>,
    /// Results of pairs involving `$ref` targets, relative to the pair (path `#/`).
    memo: HashMap<Key, Rc<[RawDiff]>>,
    in_progress: HashSet<Key>,
    /// Pairs met again while being compared (a cycle), and so assumed compatible.
    assumed: HashSet<Key>,
    /// Pairs whose assumption turned out wrong, with their real differences: the next round
    /// uses these instead of assuming.
    known: HashMap<Key, Rc<[RawDiff]>>,
    restart: bool,
    comparisons: u64,
    depth: usize,
    error: Option<SchemaError>,
    regexes: HashMap<&'a str, Option<regex::Regex>>,
    /// Set while probing whether a pair is compatible: differences get no path or values
    /// (nothing is allocated), and the caller compares again in full only if it keeps them.
    quiet: bool,
}

impl<'s, 'a, J: Json> Differ<'s, 'a, J> {
    /// Every difference between `original` and `update`.
    pub fn run(
        original: &'s Schema<'a, J>,
        update: &'s Schema<'a, J>,
        policy: Policy,
    ) -> Result<Vec<RawDiff>, SchemaError> {
        let mut d = Differ {
            sides: [original, update],
            flipped: false,
            policy,
            path: Vec::new(),
            memo: HashMap::default(),
            in_progress: HashSet::default(),
            assumed: HashSet::default(),
            known: HashMap::default(),
            restart: false,
            comparisons: 0,
            depth: 0,
            error: None,
            regexes: HashMap::default(),
            quiet: false,
        };
        loop {
            let mut out = Vec::new();
            d.compare(Some(original.root), Some(update.root), &mut out);
            if let Some(e) = d.error.take() {
                return Err(e);
            }
            if !d.restart {
                return Ok(out);
            }
            // A cycle was assumed compatible and was not: compare again knowing it (each round
            // learns at least one more pair, so this ends).
            d.restart = false;
            d.memo.clear();
            d.assumed.clear();
        }
    }

    fn orig(&self) -> &'s Schema<'a, J> {
        self.sides[usize::from(self.flipped)]
    }

    fn upd(&self) -> &'s Schema<'a, J> {
        self.sides[usize::from(!self.flipped)]
    }

    pub(crate) fn compatible(&self, diffs: &[RawDiff]) -> bool {
        diffs.iter().all(|d| d.kind.is_compatible(self.policy))
    }

    fn path_string(&self) -> String {
        let mut s = String::from("#/");
        for (i, seg) in self.path.iter().enumerate() {
            if i > 0 {
                s.push('/');
            }
            s.push_str(seg);
        }
        s
    }

    /// The path of a difference found here (none while probing).
    fn diff_path(&self) -> String {
        if self.quiet {
            String::new()
        } else {
            self.path_string()
        }
    }

    fn add(&self, out: &mut Vec<RawDiff>, kind: DifferenceType) {
        out.push(RawDiff {
            kind,
            path: self.diff_path(),
            detail: None,
        });
    }

    fn add_detail(
        &self,
        out: &mut Vec<RawDiff>,
        kind: DifferenceType,
        old: impl ToString,
        new: impl ToString,
    ) {
        out.push(RawDiff {
            kind,
            path: self.diff_path(),
            detail: (!self.quiet).then(|| Rc::new((old.to_string(), new.to_string()))),
        });
    }

    /// Runs `f` with `segment` appended to the path.
    fn at<R>(&mut self, segment: impl Into<Cow<'a, str>>, f: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(segment.into());
        let r = f(self);
        self.path.pop();
        r
    }

    /// A member added or removed where a partially open content model decides: compares
    /// `o` with `u` (one of them the model's schema), keeps those differences, and reports
    /// `covered` or `not_covered` by their verdict.
    fn under_partial_model(
        &mut self,
        o: NodeId,
        u: NodeId,
        [covered, not_covered]: [DifferenceType; 2],
        out: &mut Vec<RawDiff>,
    ) {
        let sub = self.sub(Some(o), Some(u));
        let ok = self.compatible(&sub);
        out.extend(sub);
        self.add(out, if ok { covered } else { not_covered });
    }

    /// Whether `o` and `u` are compatible, and how many differences they have, without
    /// building the differences' paths and values.
    fn probe(&mut self, o: NodeId, u: NodeId) -> (bool, usize) {
        let was = std::mem::replace(&mut self.quiet, true);
        let mut diffs = Vec::new();
        self.compare(Some(o), Some(u), &mut diffs);
        self.quiet = was;
        (self.compatible(&diffs), diffs.len())
    }

    /// The differences of `o` and `u` if they are compatible. Loud, a probe decides first, so
    /// that a rejected pair costs no paths; already probing, one comparison does both.
    fn if_compatible(&mut self, o: NodeId, u: NodeId) -> Option<Vec<RawDiff>> {
        if !self.quiet && !self.probe(o, u).0 {
            return None;
        }
        let sub = self.sub(Some(o), Some(u));
        self.compatible(&sub).then_some(sub)
    }

    /// Compares into a fresh list (Confluent's subcontext), for callers that decide on it.
    fn sub(&mut self, o: Option<NodeId>, u: Option<NodeId>) -> Vec<RawDiff> {
        let mut out = Vec::new();
        self.compare(o, u, &mut out);
        out
    }

    /// Follows `$ref`s to the schema they name.
    fn deref(&mut self, schema: &Schema<'a, J>, mut id: NodeId) -> NodeId {
        for _ in 0..MAX_REF_CHAIN {
            match schema.node(id).kind {
                Kind::Reference { target: Some(t) } => id = t,
                _ => return id,
            }
        }
        self.fail(SchemaError::limit(
            &self.path_string(),
            "`$ref` chain too long or circular (a reference that only refers to itself)",
        ));
        id
    }

    fn fail(&mut self, e: SchemaError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    pub(crate) fn compare(&mut self, o: Option<NodeId>, u: Option<NodeId>, out: &mut Vec<RawDiff>) {
        let (o, u) = match (o, u) {
            (None, None) => return,
            (None, Some(_)) => return self.add(out, T::SchemaAdded),
            (Some(_), None) => return self.add(out, T::SchemaRemoved),
            (Some(o), Some(u)) => (o, u),
        };
        if self.error.is_some() {
            return;
        }
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return self.fail(SchemaError::limit(
                &self.path_string(),
                format!("more than {MAX_COMPARISONS} subschema comparisons (combinators nested too deeply)"),
            ));
        }
        if self.depth >= MAX_DIFF_DEPTH {
            return self.fail(SchemaError::limit(
                &self.path_string(),
                format!("comparison nested deeper than {MAX_DIFF_DEPTH}"),
            ));
        }
        let (orig, upd) = (self.orig(), self.upd());
        let o = self.deref(orig, o);
        let u = self.deref(upd, u);
        self.depth += 1;
        if orig.node(o).shared || upd.node(u).shared {
            self.compare_memoized(o, u, out);
        } else {
            self.compare_nodes(o, u, out);
        }
        self.depth -= 1;
    }

    fn compare_memoized(&mut self, o: NodeId, u: NodeId, out: &mut Vec<RawDiff>) {
        let key = (self.flipped, self.quiet, o, u);
        if let Some(done) = self.memo.get(&key).cloned() {
            return self.rebase(&done, out);
        }
        if self.in_progress.contains(&key) {
            if let Some(real) = self.known.get(&key).cloned() {
                return self.rebase(&real, out);
            }
            // A cycle: assume compatible for now; checked when the pair completes.
            self.assumed.insert(key);
            return;
        }
        self.in_progress.insert(key);
        let saved = std::mem::take(&mut self.path);
        let mut relative = Vec::new();
        self.compare_nodes(o, u, &mut relative);
        self.path = saved;
        self.in_progress.remove(&key);
        let relative: Rc<[RawDiff]> = relative.into();
        if self.assumed.contains(&key)
            && !self.compatible(&relative)
            && !self.known.contains_key(&key)
        {
            self.known.insert(key, relative.clone());
            self.restart = true;
        }
        self.memo.insert(key, relative.clone());
        self.rebase(&relative, out);
    }

    /// Appends differences computed relative to a pair at the current path.
    fn rebase(&self, relative: &[RawDiff], out: &mut Vec<RawDiff>) {
        if self.path.is_empty() || self.quiet {
            out.extend_from_slice(relative);
            return;
        }
        let prefix = self.path_string();
        out.extend(relative.iter().map(|d| RawDiff {
            kind: d.kind,
            path: match d.path.strip_prefix("#/") {
                Some("") | None => prefix.clone(),
                Some(rest) => format!("{prefix}/{rest}"),
            },
            detail: d.detail.clone(),
        }));
    }

    fn compare_nodes(&mut self, o: NodeId, u: NodeId, out: &mut Vec<RawDiff>) {
        let (orig, upd) = (self.orig(), self.upd());
        let (on, un) = (orig.node(o), upd.node(u));
        let (oc, uc) = (on.kind.class(), un.kind.class());

        match (&on.kind, &un.kind) {
            (
                _,
                Kind::Combined {
                    criterion,
                    subschemas,
                    ..
                },
            ) if oc != Class::Combined => {
                if subschemas.len() == 1 {
                    // A one-branch union is its branch.
                    if let Some(sub) = self.if_compatible(o, subschemas[0]) {
                        return out.extend(sub);
                    }
                } else if *criterion != Criterion::All {
                    // The old schema became one branch of a union.
                    for &s in *subschemas {
                        if let Some(sub) = self.if_compatible(o, s) {
                            out.extend(sub);
                            return self.add(out, T::SumTypeExtended);
                        }
                    }
                }
            }
            (
                Kind::Combined {
                    criterion,
                    subschemas,
                    ..
                },
                _,
            ) if uc != Class::Combined => {
                if subschemas.len() == 1 {
                    if let Some(sub) = self.if_compatible(subschemas[0], u) {
                        return out.extend(sub);
                    }
                } else if *criterion == Criterion::All {
                    // A product lost its other factors: the new schema is one of them.
                    for &s in *subschemas {
                        if let Some(sub) = self.if_compatible(s, u) {
                            out.extend(sub);
                            return self.add(out, T::ProductTypeNarrowed);
                        }
                    }
                }
            }
            _ => {}
        }

        if oc != uc {
            // Nothing was valid before, or anything is valid now: no data can break.
            if oc == Class::False || uc == Class::Empty {
                return;
            }
            return self.add_detail(out, T::TypeChanged, on.kind.describe(), un.kind.describe());
        }

        let changed = |a: Option<&J>, b: Option<&J>| match (a, b) {
            (None, None) => false,
            (Some(x), Some(y)) => !json_eq(x, y),
            _ => true,
        };
        if changed(on.id, un.id) {
            self.add(out, T::IdChanged);
        }
        if changed(on.title, un.title) {
            self.add(out, T::TitleChanged);
        }
        if changed(on.description, un.description) {
            self.add(out, T::DescriptionChanged);
        }
        if changed(on.default, un.default) {
            self.add(out, T::DefaultChanged);
        }

        match (&on.kind, &un.kind) {
            (Kind::String(a), Kind::String(b)) => self.string(a, b, out),
            (Kind::Number(a), Kind::Number(b)) => self.number(a, b, out),
            (Kind::Enum { is_const: a, .. }, Kind::Enum { is_const: b, .. }) => {
                self.enums(on.enum_values(), *a, un.enum_values(), *b, out)
            }
            (
                Kind::Combined {
                    criterion: ca,
                    subschemas: sa,
                    synthetic: xa,
                },
                Kind::Combined {
                    criterion: cb,
                    subschemas: sb,
                    synthetic: xb,
                },
            ) => self.combined((*ca, sa, *xa), (*cb, sb, *xb), out),
            (Kind::Not(a), Kind::Not(b)) => self.not(*a, *b, out),
            (Kind::Object(a), Kind::Object(b)) => self.object(a, b, out),
            (Kind::Array(a), Kind::Array(b)) => self.array(a, b, out),
            (
                Kind::Conditional {
                    if_: ia,
                    then: ta,
                    else_: ea,
                },
                Kind::Conditional {
                    if_: ib,
                    then: tb,
                    else_: eb,
                },
            ) => self.conditional((*ia, *ta, *ea), (*ib, *tb, *eb), out),
            _ => {}
        }
    }

    /// Whether a node (after `$ref`s) is a schema that accepts everything.
    fn is_empty_schema(&mut self, schema: &Schema<'a, J>, id: NodeId) -> bool {
        let id = self.deref(schema, id);
        schema.node(id).kind.class() == Class::Empty
    }

    /// Whether a node (after `$ref`s) is the schema `false`.
    fn is_false_schema(&mut self, schema: &Schema<'a, J>, id: NodeId) -> bool {
        let id = self.deref(schema, id);
        schema.node(id).kind.class() == Class::False
    }

    /// Whether `pattern` (ECMA-262, read as a Rust regex) matches somewhere in `name`. A pattern
    /// the regex engine cannot read matches nothing.
    fn pattern_matches(&mut self, pattern: &'a str, name: &str) -> bool {
        self.regexes
            .entry(pattern)
            .or_insert_with(|| {
                regex::RegexBuilder::new(pattern)
                    .size_limit(1 << 20)
                    .build()
                    .ok()
            })
            .as_ref()
            .is_some_and(|re| re.is_match(name))
    }

    /// Compares two optional counts (`maxLength`, `minItems`, ...) at `key`; `types` are the
    /// added, removed, increased and decreased difference types.
    fn counts(
        &mut self,
        out: &mut Vec<RawDiff>,
        key: &'static str,
        o: Option<u64>,
        u: Option<u64>,
        types: [DifferenceType; 4],
    ) {
        let kind = match (o, u) {
            (None, None) => return,
            (a, b) if a == b => return,
            (None, Some(_)) => types[0],
            (Some(_), None) => types[1],
            (Some(a), Some(b)) if a < b => types[2],
            _ => types[3],
        };
        let show = |v: Option<u64>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
        self.at(key, |d| d.add_detail(out, kind, show(o), show(u)));
    }
}
