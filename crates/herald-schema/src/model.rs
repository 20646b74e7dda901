//! The schema model the diff walks: every subschema loaded once into an arena, shaped the way
//! Confluent's everit-based loader shapes it (a `{"type": "string", "enum": [...]}` is an
//! `allOf` of an enum and a string schema), so the differences come out with Confluent's names
//! and paths.

use crate::json::Num;

/// Index of a node in [`Schema::nodes`].
pub(crate) type NodeId = u32;

/// One loaded document (and the external documents its `$ref`s reached).
#[derive(Debug)]
pub(crate) struct Schema<'a, J> {
    pub nodes: Vec<Node<'a, J>>,
    pub root: NodeId,
}

impl<'a, J> Schema<'a, J> {
    pub fn node(&self, id: NodeId) -> &Node<'a, J> {
        &self.nodes[id as usize]
    }
}

#[derive(Debug)]
pub(crate) struct Node<'a, J> {
    /// The JSON this node was loaded from (subschema deduplication compares it).
    pub raw: &'a J,
    pub kind: Kind<'a, J>,
    pub id: Option<&'a J>,
    pub title: Option<&'a J>,
    pub description: Option<&'a J>,
    pub default: Option<&'a J>,
    /// The target of some `$ref`: comparisons involving it are memoised and cycle-checked.
    pub shared: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Criterion {
    All,
    Any,
    One,
}

impl Criterion {
    pub fn keyword(self) -> &'static str {
        match self {
            Self::All => "allOf",
            Self::Any => "anyOf",
            Self::One => "oneOf",
        }
    }
}

#[derive(Debug)]
pub(crate) enum Kind<'a, J> {
    /// `{}` or a schema with annotations only: accepts everything.
    Empty,
    /// The boolean schema `true`.
    True,
    /// The boolean schema `false`: accepts nothing.
    False,
    String(&'a StringSchema<'a>),
    Number(&'a NumberSchema),
    Boolean,
    Null,
    /// `enum`, and `const` as a one-value enum.
    Enum {
        is_const: bool,
        values: &'a [J],
    },
    /// `allOf`/`anyOf`/`oneOf`. `synthetic` ones were made by the loader (several kinds of
    /// keywords side by side, or a `type` array): their parts share one raw JSON, so they are
    /// never deduplicated.
    Combined {
        criterion: Criterion,
        subschemas: &'a [NodeId],
        synthetic: bool,
    },
    Not(NodeId),
    Object(&'a ObjectSchema<'a>),
    Array(&'a ArraySchema<'a>),
    Conditional {
        if_: NodeId,
        then: Option<NodeId>,
        else_: Option<NodeId>,
    },
    /// A `$ref`; `target` is filled in once every reference of the document is loaded.
    Reference {
        target: Option<NodeId>,
    },
}

/// The class Confluent compares on: two schemas of different classes are a type change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Empty,
    False,
    String,
    Number,
    Boolean,
    Null,
    Enum,
    Combined,
    Not,
    Object,
    Array,
    Conditional,
    Reference,
}

impl<J> Kind<'_, J> {
    pub fn class(&self) -> Class {
        match self {
            Kind::Empty | Kind::True => Class::Empty,
            Kind::False => Class::False,
            Kind::String(_) => Class::String,
            Kind::Number(_) => Class::Number,
            Kind::Boolean => Class::Boolean,
            Kind::Null => Class::Null,
            Kind::Enum { .. } => Class::Enum,
            Kind::Combined { .. } => Class::Combined,
            Kind::Not(_) => Class::Not,
            Kind::Object(_) => Class::Object,
            Kind::Array(_) => Class::Array,
            Kind::Conditional { .. } => Class::Conditional,
            Kind::Reference { .. } => Class::Reference,
        }
    }

    /// A short name of what the schema accepts, for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Kind::Empty | Kind::True => "anything",
            Kind::False => "nothing",
            Kind::String(_) => "string",
            Kind::Number(n) if n.integer => "integer",
            Kind::Number(_) => "number",
            Kind::Boolean => "boolean",
            Kind::Null => "null",
            Kind::Enum { is_const: true, .. } => "a constant",
            Kind::Enum { .. } => "an enum",
            Kind::Combined { criterion, .. } => match criterion {
                Criterion::All => "a combination (allOf)",
                Criterion::Any => "a combination (anyOf)",
                Criterion::One => "a combination (oneOf)",
            },
            Kind::Not(_) => "a negation (not)",
            Kind::Object(_) => "object",
            Kind::Array(_) => "array",
            Kind::Conditional { .. } => "a conditional (if/then/else)",
            Kind::Reference { .. } => "a reference",
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct StringSchema<'a> {
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<&'a str>,
    pub format: Option<&'a str>,
    pub content_encoding: Option<&'a str>,
    pub content_media_type: Option<&'a str>,
}

/// A bound: its value and whether it is exclusive. Draft-04's boolean `exclusiveMinimum` is
/// folded in at load time, so `{"minimum": 10, "exclusiveMinimum": true}` equals
/// `{"exclusiveMinimum": 10}`.
#[derive(Debug, Default)]
pub(crate) struct NumberSchema {
    pub integer: bool,
    pub minimum: Option<Num>,
    pub maximum: Option<Num>,
    pub exclusive_minimum: Option<Num>,
    pub exclusive_maximum: Option<Num>,
    pub multiple_of: Option<Num>,
}

/// `additionalProperties`, `unevaluatedProperties`, `additionalItems`, `unevaluatedItems`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Extra {
    /// The keyword is absent.
    #[default]
    Absent,
    /// `true`.
    True,
    /// `false`.
    False,
    Schema(NodeId),
}

impl Extra {
    /// Whether instances may have members/items beyond the listed ones.
    pub fn permits(self) -> bool {
        !matches!(self, Extra::False)
    }
    pub fn schema(self) -> Option<NodeId> {
        match self {
            Extra::Schema(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct ObjectSchema<'a> {
    /// Sorted by name.
    pub properties: &'a [(&'a str, NodeId)],
    /// Sorted, without duplicates.
    pub required: &'a [&'a str],
    /// In document order (the first match covers a name, as in Confluent).
    pub pattern_properties: &'a [(&'a str, NodeId)],
    pub additional: Extra,
    pub unevaluated: Extra,
    /// `dependencies` with array values and `dependentRequired`: sorted by name.
    pub dependent_required: &'a [Dependency<'a, &'a [&'a str]>],
    /// `dependencies` with schema values and `dependentSchemas`: sorted by name.
    pub dependent_schemas: &'a [Dependency<'a, NodeId>],
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    pub property_names: Option<NodeId>,
}

#[derive(Debug)]
pub(crate) struct Dependency<'a, T> {
    pub name: &'a str,
    /// `dependencies`, `dependentRequired` or `dependentSchemas`: where the path points.
    pub keyword: &'static str,
    pub value: T,
}

impl ObjectSchema<'_> {
    pub fn is_required(&self, name: &str) -> bool {
        self.required.binary_search(&name).is_ok()
    }
}

#[derive(Debug, Default)]
pub(crate) struct ArraySchema<'a> {
    /// `items` as one schema for every item.
    pub items: Option<NodeId>,
    /// A tuple: `items` as an array (drafts 4 to 2019-09) or `prefixItems` (2020-12).
    pub tuple: &'a [NodeId],
    pub tuple_keyword: &'static str,
    /// `additionalItems`, or `items` next to `prefixItems` in 2020-12.
    pub additional: Extra,
    pub additional_keyword: &'static str,
    pub unevaluated: Extra,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub unique_items: bool,
    pub contains: Option<NodeId>,
    pub min_contains: Option<u64>,
    pub max_contains: Option<u64>,
}

impl<'a, J> Node<'a, J> {
    /// The values of an enum node.
    pub fn enum_values(&self) -> &'a [J] {
        match self.kind {
            Kind::Enum { values, .. } => values,
            _ => &[],
        }
    }
}
