//! Checks the parsed input and produces what expansion needs, or every error at once.

use proc_macro2::Span;
use syn::{Ident, Type};

use super::ast::{Field, Input};

/// A checked event: everything here is known to be consistent.
pub struct Event<'a> {
    pub ident: &'a Ident,
    pub name: String,
    pub version: u32,
    pub previous: Option<(Span, Type)>,
    pub aggregate_id: &'a Ident,
    pub partition_key: Option<&'a Ident>,
    /// The fields the idempotency key is built from, if any.
    pub idempotency_key: Option<Vec<Ident>>,
    pub content_model: ContentModel,
}

/// `#[event(content_model = ...)]`: what the schema says about members it does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentModel {
    Closed,
    Open,
}

pub fn validate(input: Input<'_>) -> syn::Result<Event<'_>> {
    let Input {
        ident,
        generics,
        attrs,
        fields,
        mut errors,
    } = input;

    if let Some(param) = generics.params.first() {
        errors.spanned(
            param,
            "an event type cannot be generic: each event name and version has exactly one schema",
        );
    }

    let name = match &attrs.name {
        None => {
            errors.at(
                ident.span(),
                "missing event name: add `#[event(name = \"...\")]`, e.g. `#[event(name = \"order.created\", version = 1)]`",
            );
            None
        }
        Some(set) => {
            let name = set.value.value();
            match check_name(&name) {
                Ok(()) => Some(name),
                Err(why) => {
                    errors.spanned(&set.value, format!("invalid event name {name:?}: {why}"));
                    None
                }
            }
        }
    };

    let version = match &attrs.version {
        None => {
            errors.at(
                ident.span(),
                "missing event version: add `version = 1` to `#[event(...)]` (versions start at 1)",
            );
            None
        }
        Some(set) => match set.value.base10_parse::<u32>() {
            Ok(0) => {
                errors.spanned(&set.value, "event versions start at 1, not 0");
                None
            }
            Ok(v) => Some(v),
            Err(e) => {
                errors.spanned(&set.value, format!("invalid event version: {e}"));
                None
            }
        },
    };

    let previous = attrs
        .previous
        .as_ref()
        .map(|set| (set.key, set.value.clone()));
    if let (Some((key, _)), Some(1)) = (&previous, version) {
        let key = *key;
        errors.at(
            key,
            "`previous` names the version before this one, but version 1 has none: bump `version` or remove `previous`",
        );
    }
    if let Some((_, Type::Path(p))) = &previous
        && p.qself.is_none()
        && p.path.is_ident(ident)
    {
        errors.spanned(p, "an event cannot be its own previous version");
    }

    let aggregate_id = single(
        &fields,
        |f| f.markers.aggregate_id,
        "aggregate_id",
        &mut errors,
    );
    let aggregate_id = match aggregate_id {
        Some(f) => Some(f),
        None if !fields.iter().any(|f| f.markers.aggregate_id.is_some()) => {
            errors.at(
                ident.span(),
                "no aggregate id: mark the field that identifies the aggregate with `#[event(aggregate_id)]`",
            );
            None
        }
        None => None,
    };
    let partition_key = single(
        &fields,
        |f| f.markers.partition_key,
        "partition_key",
        &mut errors,
    );
    let marked_key = single(
        &fields,
        |f| f.markers.idempotency_key,
        "idempotency_key",
        &mut errors,
    );

    let idempotency_key = match (&attrs.idempotency_key, marked_key) {
        (Some(list), Some(field)) => {
            errors.at(
                field.markers.idempotency_key.unwrap_or(list.key),
                "the idempotency key is already given on the struct (`idempotency_key = [...]`): use one or the other",
            );
            None
        }
        (None, Some(field)) => Some(vec![field.ident.clone()]),
        (Some(list), None) => {
            if list.value.is_empty() {
                errors.at(
                    list.key,
                    "`idempotency_key = [...]` needs at least one field",
                );
            }
            for (i, wanted) in list.value.iter().enumerate() {
                if !fields.iter().any(|f| f.ident == wanted) {
                    errors.spanned(wanted, format!("no field `{wanted}` in `{ident}`"));
                } else if list.value[..i].contains(wanted) {
                    errors.spanned(wanted, format!("field `{wanted}` is listed twice"));
                }
            }
            Some(list.value.clone())
        }
        (None, None) => None,
    };

    let content_model = match &attrs.content_model {
        None => ContentModel::Closed,
        Some(set) => match set.value.value().as_str() {
            "closed" => ContentModel::Closed,
            "open" => ContentModel::Open,
            other => {
                errors.spanned(
                    &set.value,
                    format!(
                        "unknown content model {other:?}: expected \"closed\" (the default: adding an optional field is BACKWARD compatible) or \"open\" (removing a field is); a partially open model needs a schema for the members it does not name, which the derive cannot choose"
                    ),
                );
                ContentModel::Closed
            }
        },
    };

    errors.finish()?;
    match (name, version, aggregate_id) {
        (Some(name), Some(version), Some(aggregate_id)) => Ok(Event {
            ident,
            name,
            version,
            previous,
            aggregate_id: aggregate_id.ident,
            partition_key: partition_key.map(|f| f.ident),
            idempotency_key,
            content_model,
        }),
        // Each `None` above recorded an error, so `finish` returned it.
        _ => Err(syn::Error::new(
            ident.span(),
            "invalid #[derive(Event)] input",
        )),
    }
}

/// The one field with a marker; a second one is an error on its marker.
fn single<'f, 'a>(
    fields: &'f [Field<'a>],
    marker: impl Fn(&Field<'a>) -> Option<Span>,
    what: &str,
    errors: &mut crate::errors::Errors,
) -> Option<&'f Field<'a>> {
    let mut marked = fields.iter().filter(|f| marker(f).is_some());
    let first = marked.next()?;
    let mut ok = true;
    for other in marked {
        ok = false;
        errors.at(
            marker(other).unwrap_or_else(|| other.ident.span()),
            format!(
                "only one field can be `#[event({what})]`: `{}` already is",
                first.ident
            ),
        );
    }
    ok.then_some(first)
}

/// Event names travel as message types, subjects, directory names and metric labels:
/// ASCII letters, digits, `.`, `_` and `-`, starting with a letter, no empty segment.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("it must start with an ASCII letter");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(if c.is_whitespace() {
            "it contains whitespace; use letters, digits, `.`, `_` and `-` (e.g. \"order.created\")"
        } else {
            "it may contain only ASCII letters, digits, `.`, `_` and `-` (e.g. \"order.created\")"
        });
    }
    if name.split('.').any(str::is_empty) {
        return Err("it has an empty segment between dots");
    }
    if name.len() > 200 {
        return Err("it is longer than 200 characters");
    }
    Ok(())
}
