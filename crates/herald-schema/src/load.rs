//! Loads a JSON document into the [`Schema`] arena: checks that every keyword has the shape the
//! drafts allow (an error names the path), splits a schema into the parts Confluent compares,
//! and links every `$ref` to its target once (recursive schemas become cycles in the arena).

use std::collections::HashMap;
use std::fmt::Write;
use std::rc::Rc;

use bumpalo::Bump;
use bumpalo::collections::Vec as BumpVec;
use url::Url;

use crate::SchemaError;
use crate::json::{Json, Num, View};
use crate::keywords::{self as kw, Keywords, Kw};
use crate::limits::{MAX_DOCUMENTS, MAX_NODES, MAX_SCHEMA_DEPTH};
use crate::model::{
    ArraySchema, Criterion, Dependency, Extra, Kind, Node, NodeId, NumberSchema, ObjectSchema,
    Schema, StringSchema,
};
use crate::refs::{self, IdIndex};

/// The JSON Schema draft a document declares with `$schema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Draft {
    D4,
    D6,
    D7,
    D2019,
    D2020,
    /// No or an unknown `$schema`: both spellings are accepted, `$ref` siblings are ignored as in
    /// draft 7 (what Confluent does).
    Unknown,
}

impl Draft {
    fn detect<J: Json>(root: &J, inherited: Draft) -> Draft {
        let Some(uri) = root.get("$schema").and_then(Json::as_str) else {
            return inherited;
        };
        if uri.contains("draft-04") {
            Draft::D4
        } else if uri.contains("draft-06") {
            Draft::D6
        } else if uri.contains("draft-07") {
            Draft::D7
        } else if uri.contains("2019-09") {
            Draft::D2019
        } else if uri.contains("2020-12") {
            Draft::D2020
        } else {
            inherited
        }
    }

    /// The schema's `$id` value (`id` in draft 4; either when the draft is unknown and `id` looks
    /// like a URI).
    pub fn id_value<J: Json>(self, j: &J) -> Option<&J> {
        self.id_by(|k| j.get(k))
    }

    /// [`Draft::id_value`] with the keyword lookup supplied.
    fn id_by<'j, J: Json>(self, get: impl Fn(&str) -> Option<&'j J>) -> Option<&'j J> {
        let j = Getter(get);
        match self {
            Draft::D4 => j.get("id").or_else(|| j.get("$id")),
            Draft::Unknown => j.get("$id").or_else(|| {
                j.get("id").filter(|v| {
                    v.as_str()
                        .is_some_and(|s| s.contains('#') || s.contains(':'))
                })
            }),
            _ => j.get("$id"),
        }
    }

    /// The schema's `$id` as a string.
    pub fn id_of<J: Json>(self, j: &J) -> Option<&str> {
        self.id_value(j).and_then(Json::as_str)
    }

    /// Whether keywords beside `$ref` apply (2019-09 on) or are ignored (up to draft 7).
    fn ref_siblings_apply(self) -> bool {
        matches!(self, Draft::D2019 | Draft::D2020)
    }
}

/// Adapts a lookup closure to the `get` calls of [`Draft::id_by`].
struct Getter<F>(F);

impl<'j, J: 'j, F: Fn(&str) -> Option<&'j J>> Getter<F> {
    fn get(&self, key: &str) -> Option<&'j J> {
        (self.0)(key)
    }
}

/// A reference the loader could not satisfy from the documents it has: the caller fetches it
/// from its resolver and loads again.
#[derive(Debug)]
pub(crate) enum LoadError {
    Schema(SchemaError),
    /// An external document is needed: (URI as written, absolute URI, path of the `$ref`).
    Missing {
        written: String,
        absolute: String,
        path: String,
    },
}

impl From<SchemaError> for LoadError {
    fn from(e: SchemaError) -> Self {
        LoadError::Schema(e)
    }
}

type LoadResult<T> = Result<T, LoadError>;

/// Where a subschema sits: its document, base URI, enclosing resource and draft.
struct Scope<'a, J> {
    base: Rc<Url>,
    resource: &'a J,
    draft: Draft,
}

// Not derived: that would require `J: Clone`.
impl<J> Clone for Scope<'_, J> {
    fn clone(&self) -> Self {
        Self {
            base: self.base.clone(),
            resource: self.resource,
            draft: self.draft,
        }
    }
}

struct PendingRef<'a, J> {
    node: NodeId,
    reference: &'a str,
    scope: Scope<'a, J>,
    path: String,
}

/// Options of one load.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LoadOptions {
    /// Also load `definitions`/`$defs` that nothing references (validation wants them checked).
    pub all_definitions: bool,
}

/// One step of the path to the subschema being loaded, kept unrendered: the path is only
/// written out for an error or a `$ref`.
#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'static str),
    Name(&'a str),
    Index(usize),
}

pub(crate) struct Loader<'a, 'e, J> {
    /// Where the model's slices and its string, number, object and array schemas live.
    arena: &'a Bump,
    nodes: Vec<Node<'a, J>>,
    /// External documents the caller already fetched: (URI, document).
    externals: &'e [(String, &'a J)],
    /// Ref targets already loaded, by the address of their JSON.
    targets: HashMap<usize, NodeId>,
    pending: Vec<PendingRef<'a, J>>,
    ids: Option<IdIndex<'a, J>>,
    /// Documents indexed so far: (root, base, draft).
    documents: Vec<(&'a J, Rc<Url>, Draft)>,
    /// The path of the subschema being loaded: where it started (`#`, or a `$ref` target),
    /// then steps.
    path_start: String,
    path: Vec<Seg<'a>>,
    depth: usize,
}

/// Loads `root` (and what its references reach, from `externals`).
pub(crate) fn load<'a, J: Json>(
    root: &'a J,
    externals: &[(String, &'a J)],
    arena: &'a Bump,
    options: LoadOptions,
) -> Result<Schema<'a, J>, LoadError> {
    let draft = Draft::detect(root, Draft::Unknown);
    let base = match draft.id_of(root) {
        Some(id) => {
            refs::join_shared(&refs::placeholder_base(), id).unwrap_or_else(refs::placeholder_base)
        }
        None => refs::placeholder_base(),
    };
    let mut loader = Loader {
        arena,
        nodes: Vec::with_capacity(64),
        externals,
        targets: HashMap::new(),
        pending: Vec::new(),
        ids: None,
        documents: vec![(root, base.clone(), draft)],
        path_start: "#".to_owned(),
        path: Vec::new(),
        depth: 0,
    };
    let scope = Scope {
        base,
        resource: root,
        draft,
    };
    let root_id = loader.load(root, &scope)?;
    if options.all_definitions {
        for key in ["definitions", "$defs"] {
            if let Some(defs) = root.get(key) {
                if !matches!(defs.view(), View::Obj) {
                    return Err(
                        SchemaError::invalid(&format!("#/{key}"), "must be an object").into(),
                    );
                }
                for (name, def) in defs.entries() {
                    loader.path_start = format!("#/{key}/{name}");
                    loader.path.clear();
                    loader.load_target(def, &scope)?;
                }
            }
        }
    }
    loader.link_references()?;
    Ok(Schema {
        nodes: loader.nodes,
        root: root_id,
    })
}

fn path_or_root(path: &str) -> String {
    if path == "#" {
        "#/".to_owned()
    } else {
        path.to_owned()
    }
}

impl<'a, J: Json> Loader<'a, '_, J> {
    /// The path of the subschema being loaded, as errors show it (`#/properties/a`).
    fn path(&self) -> String {
        let mut s = self.path_start.clone();
        for seg in &self.path {
            s.push('/');
            match seg {
                Seg::Key(k) => s.push_str(k),
                Seg::Name(n) => s.push_str(n),
                Seg::Index(i) => {
                    let _ = write!(s, "{i}");
                }
            }
        }
        path_or_root(&s)
    }

    fn invalid(&self, reason: impl Into<String>) -> LoadError {
        SchemaError::invalid(&self.path(), reason).into()
    }

    fn push(&mut self, raw: &'a J, kind: Kind<'a, J>) -> LoadResult<NodeId> {
        if self.nodes.len() >= MAX_NODES {
            return Err(SchemaError::limit(
                &self.path(),
                format!("more than {MAX_NODES} subschemas"),
            )
            .into());
        }
        self.nodes.push(Node {
            raw,
            kind,
            id: None,
            title: None,
            description: None,
            default: None,
            shared: false,
        });
        Ok((self.nodes.len() - 1) as NodeId)
    }

    /// Loads the subschema at `path/key`.
    fn child(&mut self, j: &'a J, scope: &Scope<'a, J>, key: Kw) -> LoadResult<NodeId> {
        self.child_at(j, scope, &[Seg::Key(key.name)])
    }

    /// Loads the subschema at `path/steps...`.
    fn child_at(
        &mut self,
        j: &'a J,
        scope: &Scope<'a, J>,
        steps: &[Seg<'a>],
    ) -> LoadResult<NodeId> {
        let len = self.path.len();
        self.path.extend_from_slice(steps);
        let r = self.load(j, scope);
        self.path.truncate(len);
        r
    }

    /// Copies `items` into the arena.
    fn slice<T: Copy>(&self, items: &[T]) -> &'a [T] {
        self.arena.alloc_slice_copy(items)
    }

    fn load(&mut self, j: &'a J, scope: &Scope<'a, J>) -> LoadResult<NodeId> {
        if self.depth >= MAX_SCHEMA_DEPTH {
            return Err(SchemaError::limit(
                &self.path(),
                format!("subschemas nested deeper than {MAX_SCHEMA_DEPTH}"),
            )
            .into());
        }
        self.depth += 1;
        let r = match j.view() {
            View::Bool(true) => self.push(j, Kind::True),
            View::Bool(false) => self.push(j, Kind::False),
            View::Obj => self.load_object(j, scope),
            _ => Err(self.invalid("a schema must be an object or a boolean")),
        };
        self.depth -= 1;
        r
    }

    fn load_object(&mut self, raw: &'a J, outer: &Scope<'a, J>) -> LoadResult<NodeId> {
        let j = &Keywords::scan(raw);
        let mut scope = outer.clone();
        if j.get(kw::DOLLAR_ID).is_some_and(|id| id.as_str().is_none()) {
            return Err(self.invalid("`$id` must be a string"));
        }
        let id_keyword = |k: &str| j.get(if k == "id" { kw::ID } else { kw::DOLLAR_ID });
        let id = outer.draft.id_by(id_keyword).and_then(Json::as_str);
        if let Some(id) = id.filter(|id| !id.starts_with('#')) {
            let Some(base) = refs::join_shared(&outer.base, id) else {
                return Err(self.invalid(format!("`$id` {id:?} is not a URI reference")));
            };
            scope.base = base;
            scope.resource = raw;
        }

        let reference = [kw::REF, kw::RECURSIVE_REF, kw::DYNAMIC_REF]
            .into_iter()
            .find_map(|k| j.get(k).map(|v| (k.name, v)));
        if let Some((keyword, r)) = reference {
            let Some(r) = r.as_str() else {
                return Err(self.invalid(format!("`{keyword}` must be a string")));
            };
            let ref_node = self.push(raw, Kind::Reference { target: None })?;
            self.pending.push(PendingRef {
                node: ref_node,
                reference: r,
                scope: scope.clone(),
                path: self.path(),
            });
            if scope.draft.ref_siblings_apply() && j.has_assertions {
                // 2019-09 on: `$ref` is one applicator among the others.
                let rest = self.load_body(j, &scope)?;
                let node = self.push(
                    raw,
                    Kind::Combined {
                        criterion: Criterion::All,
                        subschemas: self.slice(&[ref_node, rest]),
                        synthetic: true,
                    },
                )?;
                return Ok(node);
            }
            return Ok(ref_node);
        }
        let node = self.load_body(j, &scope)?;
        let draft = scope.draft;
        let n = &mut self.nodes[node as usize];
        n.id = draft.id_by(id_keyword);
        n.title = j.get(kw::TITLE);
        n.description = j.get(kw::DESCRIPTION);
        n.default = j.get(kw::DEFAULT);
        Ok(node)
    }

    /// The parts of a schema object, as Confluent's loader splits them: enum, combinators, not,
    /// const, the type (or the types its keywords imply), if/then/else.
    fn load_body(&mut self, j: &Keywords<'a, J>, scope: &Scope<'a, J>) -> LoadResult<NodeId> {
        // At most: enum, three combinators, not, const, four implied types, if.
        let mut parts: [NodeId; 11] = [0; 11];
        let mut count = 0;
        let mut add = |part: NodeId| {
            parts[count] = part;
            count += 1;
        };
        if let Some(e) = j.get(kw::ENUM) {
            let View::Arr(values) = e.view() else {
                return Err(self.invalid("`enum` must be an array"));
            };
            add(self.push(
                j.raw,
                Kind::Enum {
                    is_const: false,
                    values,
                },
            )?);
        }
        for criterion in [Criterion::All, Criterion::Any, Criterion::One] {
            let keyword = match criterion {
                Criterion::All => kw::ALL_OF,
                Criterion::Any => kw::ANY_OF,
                Criterion::One => kw::ONE_OF,
            };
            let Some(v) = j.get(keyword) else { continue };
            let View::Arr(items) = v.view() else {
                let name = keyword.name;
                return Err(self.invalid(format!("`{name}` must be an array of schemas")));
            };
            if items.is_empty() {
                let name = keyword.name;
                return Err(self.invalid(format!("`{name}` must not be empty")));
            }
            let mut subschemas = BumpVec::with_capacity_in(items.len(), self.arena);
            for (i, item) in items.iter().enumerate() {
                let steps = [Seg::Key(keyword.name), Seg::Index(i)];
                subschemas.push(self.child_at(item, scope, &steps)?);
            }
            add(self.push(
                j.raw,
                Kind::Combined {
                    criterion,
                    subschemas: subschemas.into_bump_slice(),
                    synthetic: false,
                },
            )?);
        }
        if let Some(not) = j.get(kw::NOT) {
            let inner = self.child(not, scope, kw::NOT)?;
            add(self.push(j.raw, Kind::Not(inner))?);
        }
        if let Some(c) = j.get(kw::CONST) {
            add(self.push(
                j.raw,
                Kind::Enum {
                    is_const: true,
                    values: std::slice::from_ref(c),
                },
            )?);
        }
        match j.get(kw::TYPE).map(|t| t.view()) {
            Some(View::Str(t)) => add(self.typed(j, t, scope)?),
            Some(View::Arr(types)) => {
                let mut names: Vec<&str> = Vec::with_capacity(types.len());
                for t in types {
                    match t.as_str() {
                        Some(name) if !names.contains(&name) => names.push(name),
                        Some(name) => {
                            return Err(self.invalid(format!("`type` lists {name:?} twice")));
                        }
                        None => return Err(self.invalid("`type` must list strings")),
                    }
                }
                match names.as_slice() {
                    [] => return Err(self.invalid("`type` must not be an empty array")),
                    [one] => add(self.typed(j, one, scope)?),
                    many => {
                        let mut subschemas = BumpVec::with_capacity_in(many.len(), self.arena);
                        for name in many {
                            subschemas.push(self.typed(j, name, scope)?);
                        }
                        add(self.push(
                            j.raw,
                            Kind::Combined {
                                criterion: Criterion::Any,
                                subschemas: subschemas.into_bump_slice(),
                                synthetic: true,
                            },
                        )?);
                    }
                }
            }
            Some(_) => return Err(self.invalid("`type` must be a string or an array of strings")),
            None => {
                // No `type`: the keywords present say which kinds of values are constrained.
                let implied = [
                    (kw::ARRAY, "array"),
                    (kw::OBJECT, "object"),
                    (kw::NUMBER, "number"),
                    (kw::STRING, "string"),
                ];
                for (mask, name) in implied {
                    if j.has_any(mask) {
                        add(self.typed(j, name, scope)?);
                    }
                }
            }
        }
        if let Some(if_) = j.get(kw::IF) {
            let if_ = self.child(if_, scope, kw::IF)?;
            let then = match j.get(kw::THEN) {
                Some(t) => Some(self.child(t, scope, kw::THEN)?),
                None => None,
            };
            let else_ = match j.get(kw::ELSE) {
                Some(e) => Some(self.child(e, scope, kw::ELSE)?),
                None => None,
            };
            add(self.push(j.raw, Kind::Conditional { if_, then, else_ })?);
        }
        match &parts[..count] {
            [] => self.push(j.raw, Kind::Empty),
            [one] => Ok(*one),
            many => {
                let subschemas = self.slice(many);
                self.push(
                    j.raw,
                    Kind::Combined {
                        criterion: Criterion::All,
                        subschemas,
                        synthetic: true,
                    },
                )
            }
        }
    }

    fn typed(
        &mut self,
        j: &Keywords<'a, J>,
        name: &str,
        scope: &Scope<'a, J>,
    ) -> LoadResult<NodeId> {
        let kind = match name {
            "string" => Kind::String(self.arena.alloc(self.string(j)?)),
            "number" => Kind::Number(self.arena.alloc(self.number(j, false)?)),
            "integer" => Kind::Number(self.arena.alloc(self.number(j, true)?)),
            "boolean" => Kind::Boolean,
            "null" => Kind::Null,
            "object" => Kind::Object(self.arena.alloc(self.object(j, scope)?)),
            "array" => Kind::Array(self.arena.alloc(self.array(j, scope)?)),
            other => return Err(self.invalid(format!("unknown type {other:?}"))),
        };
        self.push(j.raw, kind)
    }

    fn count(&self, j: &Keywords<'a, J>, key: Kw) -> LoadResult<Option<u64>> {
        match j.get(key).map(|v| v.view()) {
            None => Ok(None),
            Some(View::Num(n)) => n.as_count().map(Some).ok_or_else(|| {
                let name = key.name;
                self.invalid(format!("`{name}` must be a non-negative integer"))
            }),
            Some(_) => {
                let name = key.name;
                Err(self.invalid(format!("`{name}` must be a non-negative integer")))
            }
        }
    }

    fn text(&self, j: &Keywords<'a, J>, key: Kw) -> LoadResult<Option<&'a str>> {
        match j.get(key) {
            None => Ok(None),
            Some(v) => v.as_str().map(Some).ok_or_else(|| {
                let name = key.name;
                self.invalid(format!("`{name}` must be a string"))
            }),
        }
    }

    fn num(&self, j: &Keywords<'a, J>, key: Kw) -> LoadResult<Option<Num>> {
        match j.get(key).map(|v| v.view()) {
            None => Ok(None),
            Some(View::Num(n)) if n.is_finite() => Ok(Some(n)),
            Some(_) => {
                let name = key.name;
                Err(self.invalid(format!("`{name}` must be a number")))
            }
        }
    }

    fn string(&self, j: &Keywords<'a, J>) -> LoadResult<StringSchema<'a>> {
        Ok(StringSchema {
            min_length: self.count(j, kw::MIN_LENGTH)?,
            max_length: self.count(j, kw::MAX_LENGTH)?,
            pattern: self.text(j, kw::PATTERN)?,
            format: self.text(j, kw::FORMAT)?,
            content_encoding: self.text(j, kw::CONTENT_ENCODING)?,
            content_media_type: self.text(j, kw::CONTENT_MEDIA_TYPE)?,
        })
    }

    fn number(&self, j: &Keywords<'a, J>, integer: bool) -> LoadResult<NumberSchema> {
        let mut n = NumberSchema {
            integer,
            minimum: self.num(j, kw::MINIMUM)?,
            maximum: self.num(j, kw::MAXIMUM)?,
            ..NumberSchema::default()
        };
        // Draft 4 spells an exclusive bound as a boolean beside minimum/maximum.
        match j.get(kw::EXCLUSIVE_MINIMUM).map(|v| v.view()) {
            Some(View::Bool(true)) => n.exclusive_minimum = n.minimum.take(),
            Some(View::Bool(false)) | None => {}
            Some(_) => n.exclusive_minimum = self.num(j, kw::EXCLUSIVE_MINIMUM)?,
        }
        match j.get(kw::EXCLUSIVE_MAXIMUM).map(|v| v.view()) {
            Some(View::Bool(true)) => n.exclusive_maximum = n.maximum.take(),
            Some(View::Bool(false)) | None => {}
            Some(_) => n.exclusive_maximum = self.num(j, kw::EXCLUSIVE_MAXIMUM)?,
        }
        n.multiple_of = self.num(j, kw::MULTIPLE_OF)?;
        if let Some(m) = n.multiple_of
            && m.cmp_value(Num::U(0)).is_none_or(|o| o.is_le())
        {
            return Err(self.invalid("`multipleOf` must be greater than 0"));
        }
        Ok(n)
    }

    fn extra(&mut self, j: &Keywords<'a, J>, key: Kw, scope: &Scope<'a, J>) -> LoadResult<Extra> {
        match j.get(key) {
            None => Ok(Extra::Absent),
            Some(v) => match v.view() {
                View::Bool(true) => Ok(Extra::True),
                View::Bool(false) => Ok(Extra::False),
                View::Obj => Ok(Extra::Schema(self.child(v, scope, key)?)),
                _ => {
                    let name = key.name;
                    Err(self.invalid(format!("`{name}` must be a schema")))
                }
            },
        }
    }

    /// `properties`, `patternProperties`: (name, schema) in document order.
    fn schema_map(
        &mut self,
        j: &Keywords<'a, J>,
        key: Kw,
        scope: &Scope<'a, J>,
    ) -> LoadResult<&'a mut [(&'a str, NodeId)]> {
        let Some(map) = j.get(key) else {
            return Ok(&mut []);
        };
        if !matches!(map.view(), View::Obj) {
            let name = key.name;
            return Err(self.invalid(format!("`{name}` must be an object")));
        }
        let mut out = BumpVec::with_capacity_in(map.len(), self.arena);
        for (name, v) in map.entries() {
            let steps = [Seg::Key(key.name), Seg::Name(name)];
            out.push((name, self.child_at(v, scope, &steps)?));
        }
        Ok(out.into_bump_slice_mut())
    }

    /// An array of names, sorted and without repeats.
    fn names(&self, v: &'a J, what: &str) -> LoadResult<&'a [&'a str]> {
        let View::Arr(items) = v.view() else {
            return Err(self.invalid(format!("{what} must be an array of strings")));
        };
        let mut names = BumpVec::with_capacity_in(items.len(), self.arena);
        for item in items {
            names.push(
                item.as_str()
                    .ok_or_else(|| self.invalid(format!("{what} must be an array of strings")))?,
            );
        }
        names.sort_unstable();
        names.dedup();
        Ok(names.into_bump_slice())
    }

    fn object(
        &mut self,
        j: &Keywords<'a, J>,
        scope: &Scope<'a, J>,
    ) -> LoadResult<ObjectSchema<'a>> {
        let properties = self.schema_map(j, kw::PROPERTIES, scope)?;
        properties.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut o = ObjectSchema {
            properties,
            pattern_properties: self.schema_map(j, kw::PATTERN_PROPERTIES, scope)?,
            additional: self.extra(j, kw::ADDITIONAL_PROPERTIES, scope)?,
            unevaluated: self.extra(j, kw::UNEVALUATED_PROPERTIES, scope)?,
            min_properties: self.count(j, kw::MIN_PROPERTIES)?,
            max_properties: self.count(j, kw::MAX_PROPERTIES)?,
            ..ObjectSchema::default()
        };
        if let Some(r) = j.get(kw::REQUIRED) {
            o.required = self.names(r, "`required`")?;
        }
        if let Some(p) = j.get(kw::PROPERTY_NAMES) {
            o.property_names = Some(self.child(p, scope, kw::PROPERTY_NAMES)?);
        }
        if j.has_any(
            kw::DEPENDENCIES.bit() | kw::DEPENDENT_REQUIRED.bit() | kw::DEPENDENT_SCHEMAS.bit(),
        ) {
            self.dependencies(j, scope, &mut o)?;
        }
        Ok(o)
    }

    /// `dependencies`, `dependentRequired`, `dependentSchemas`, each list sorted by name.
    fn dependencies(
        &mut self,
        j: &Keywords<'a, J>,
        scope: &Scope<'a, J>,
        o: &mut ObjectSchema<'a>,
    ) -> LoadResult<()> {
        let mut required = BumpVec::new_in(self.arena);
        let mut schemas = BumpVec::new_in(self.arena);
        for key in [
            kw::DEPENDENCIES,
            kw::DEPENDENT_REQUIRED,
            kw::DEPENDENT_SCHEMAS,
        ] {
            let Some(map) = j.get(key) else { continue };
            let keyword = key.name;
            if !matches!(map.view(), View::Obj) {
                return Err(self.invalid(format!("`{keyword}` must be an object")));
            }
            for (name, v) in map.entries() {
                let is_array = matches!(v.view(), View::Arr(_));
                if is_array && keyword != "dependentSchemas" {
                    let value = self.names(v, &format!("`{keyword}/{name}`"))?;
                    required.push(Dependency {
                        name,
                        keyword,
                        value,
                    });
                } else if !is_array && keyword != "dependentRequired" {
                    let steps = [Seg::Key(keyword), Seg::Name(name)];
                    let value = self.child_at(v, scope, &steps)?;
                    schemas.push(Dependency {
                        name,
                        keyword,
                        value,
                    });
                } else {
                    return Err(self.invalid(format!("`{keyword}/{name}` has the wrong shape")));
                }
            }
        }
        required.sort_unstable_by(|a, b| a.name.cmp(b.name));
        schemas.sort_unstable_by(|a, b| a.name.cmp(b.name));
        o.dependent_required = required.into_bump_slice();
        o.dependent_schemas = schemas.into_bump_slice();
        Ok(())
    }

    fn array(&mut self, j: &Keywords<'a, J>, scope: &Scope<'a, J>) -> LoadResult<ArraySchema<'a>> {
        let mut a = ArraySchema {
            tuple_keyword: "items",
            additional_keyword: "additionalItems",
            min_items: self.count(j, kw::MIN_ITEMS)?,
            max_items: self.count(j, kw::MAX_ITEMS)?,
            min_contains: self.count(j, kw::MIN_CONTAINS)?,
            max_contains: self.count(j, kw::MAX_CONTAINS)?,
            unevaluated: self.extra(j, kw::UNEVALUATED_ITEMS, scope)?,
            ..ArraySchema::default()
        };
        let tuple = |this: &mut Self, v: &'a J, key: &'static str| -> LoadResult<&'a [NodeId]> {
            let View::Arr(items) = v.view() else {
                return Err(this.invalid(format!("`{key}` must be an array of schemas")));
            };
            let mut out = BumpVec::with_capacity_in(items.len(), this.arena);
            for (i, item) in items.iter().enumerate() {
                out.push(this.child_at(item, scope, &[Seg::Key(key), Seg::Index(i)])?);
            }
            Ok(out.into_bump_slice())
        };
        if let Some(prefix) = j.get(kw::PREFIX_ITEMS) {
            a.tuple = tuple(self, prefix, "prefixItems")?;
            a.tuple_keyword = "prefixItems";
            a.additional = self.extra(j, kw::ITEMS, scope)?;
            a.additional_keyword = "items";
        } else {
            match j.get(kw::ITEMS) {
                Some(items) if matches!(items.view(), View::Arr(_)) => {
                    a.tuple = tuple(self, items, "items")?;
                }
                Some(items) => a.items = Some(self.child(items, scope, kw::ITEMS)?),
                None => {}
            }
            a.additional = self.extra(j, kw::ADDITIONAL_ITEMS, scope)?;
        }
        match j.get(kw::UNIQUE_ITEMS).map(|v| v.view()) {
            None => {}
            Some(View::Bool(b)) => a.unique_items = b,
            Some(_) => return Err(self.invalid("`uniqueItems` must be a boolean")),
        }
        if let Some(c) = j.get(kw::CONTAINS) {
            a.contains = Some(self.child(c, scope, kw::CONTAINS)?);
        }
        Ok(a)
    }

    /// Loads `j` as the target of references (once, whatever refers to it).
    fn load_target(&mut self, j: &'a J, scope: &Scope<'a, J>) -> LoadResult<NodeId> {
        let key = j as *const J as usize;
        if let Some(&n) = self.targets.get(&key) {
            return Ok(n);
        }
        let saved_depth = std::mem::replace(&mut self.depth, 0);
        let n = self.load(j, scope);
        self.depth = saved_depth;
        let n = n?;
        self.targets.insert(key, n);
        Ok(n)
    }

    fn link_references(&mut self) -> LoadResult<()> {
        while let Some(p) = self.pending.pop() {
            let (target, scope, target_path) = self.resolve(&p)?;
            self.path_start = target_path;
            self.path.clear();
            let n = self.load_target(target, &scope)?;
            self.nodes[n as usize].shared = true;
            self.nodes[p.node as usize].kind = Kind::Reference { target: Some(n) };
        }
        Ok(())
    }

    fn unresolved(p: &PendingRef<'a, J>) -> LoadError {
        SchemaError::UnresolvedReference {
            path: p.path.clone(),
            reference: p.reference.to_owned(),
        }
        .into()
    }

    /// The JSON a reference points at, the scope it is loaded in, and its path for errors.
    fn resolve(&mut self, p: &PendingRef<'a, J>) -> LoadResult<(&'a J, Scope<'a, J>, String)> {
        let (uri, fragment) = match p.reference.split_once('#') {
            Some((u, f)) => (u, f),
            None => (p.reference, ""),
        };
        let mut scope = p.scope.clone();
        let absolute = refs::join(&p.scope.base, p.reference).ok_or_else(|| Self::unresolved(p))?;
        if !uri.is_empty() {
            let key = refs::without_fragment(&absolute);
            let resource = match self.index().resources.get(&key) {
                Some(&r) => r,
                None => self.external(uri, &absolute, p)?,
            };
            scope.resource = resource;
            scope.draft = self
                .documents
                .iter()
                .find(|(root, _, _)| std::ptr::eq(*root, resource))
                .map_or(scope.draft, |d| d.2);
            scope.base = Rc::new(absolute.clone());
        }
        let label = if uri.is_empty() {
            String::new()
        } else {
            refs::display_uri(&absolute)
        };
        if fragment.is_empty() || fragment.starts_with('/') || fragment.starts_with('%') {
            let target =
                refs::pointer(scope.resource, fragment).ok_or_else(|| Self::unresolved(p))?;
            return Ok((target, scope, format!("{label}#{fragment}")));
        }
        // A plain name: `$anchor`, `$dynamicAnchor` or a draft 6/7 `"$id": "#name"`.
        let key = format!("{}#{fragment}", refs::without_fragment(&scope.base));
        let target = *self
            .index()
            .anchors
            .get(&key)
            .ok_or_else(|| Self::unresolved(p))?;
        Ok((target, scope, format!("{label}#{fragment}")))
    }

    fn index(&mut self) -> &IdIndex<'a, J> {
        if self.ids.is_none() {
            let mut index = IdIndex::new();
            for (root, base, draft) in &self.documents {
                index.add_document(*root, base, *draft);
            }
            self.ids = Some(index);
        }
        self.ids.get_or_insert_with(IdIndex::new)
    }

    /// An external document from those the caller fetched, or a request to fetch it.
    fn external(
        &mut self,
        written: &str,
        absolute: &Url,
        p: &PendingRef<'a, J>,
    ) -> LoadResult<&'a J> {
        let display = refs::display_uri(absolute);
        let found = self
            .externals
            .iter()
            .find(|(uri, _)| {
                uri == written || *uri == display || *uri == refs::without_fragment(absolute)
            })
            .map(|(_, doc)| *doc);
        let Some(doc) = found else {
            return Err(LoadError::Missing {
                written: written.to_owned(),
                absolute: refs::without_fragment(absolute),
                path: p.path.clone(),
            });
        };
        if self.documents.len() >= MAX_DOCUMENTS {
            return Err(SchemaError::limit(
                &p.path,
                format!("more than {MAX_DOCUMENTS} referenced documents"),
            )
            .into());
        }
        let draft = Draft::detect(doc, p.scope.draft);
        let mut base = refs::join(absolute, "").unwrap_or_else(|| absolute.clone());
        base.set_fragment(None);
        if let Some(b) = draft.id_of(doc).and_then(|id| refs::join(&base, id)) {
            base = b;
        }
        let base = Rc::new(base);
        self.documents.push((doc, base.clone(), draft));
        if let Some(index) = self.ids.as_mut() {
            index.add_document(doc, &base, draft);
            index
                .resources
                .insert(refs::without_fragment(absolute), doc);
        }
        Ok(doc)
    }
}
