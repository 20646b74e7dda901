//! The `#[event(...)]` attributes, read without judging them (that is `valid.rs`'s job),
//! except for what the syntax alone rules out: unknown keys, duplicates, bad literals.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitInt, LitStr, Token, Type};

use crate::common::{Set, key_span, path_text, set_once, skip_value};
use crate::errors::Errors;

/// The keys of the `#[event(...)]` attributes on the struct.
#[derive(Default)]
pub struct Container {
    pub name: Option<Set<LitStr>>,
    pub version: Option<Set<LitInt>>,
    pub previous: Option<Set<Type>>,
    pub idempotency_key: Option<Set<Vec<Ident>>>,
    pub content_model: Option<Set<LitStr>>,
}

/// The markers in the `#[event(...)]` attributes of one field.
#[derive(Default)]
pub struct FieldMarkers {
    pub aggregate_id: Option<Span>,
    pub partition_key: Option<Span>,
    pub idempotency_key: Option<Span>,
}

const CONTAINER_KEYS: &str =
    "`name`, `version`, `previous`, `idempotency_key = [...]` or `content_model`";
const FIELD_KEYS: &str = "`aggregate_id`, `partition_key` or `idempotency_key`";

pub fn container(attrs: &[Attribute], errors: &mut Errors) -> Container {
    let mut c = Container::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("event")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let lit: LitStr = meta.value()?.parse()?;
                set_once(&mut c.name, &meta, lit, errors);
            } else if meta.path.is_ident("version") {
                let lit: LitInt = meta.value()?.parse()?;
                set_once(&mut c.version, &meta, lit, errors);
            } else if meta.path.is_ident("previous") {
                let ty: Type = meta.value()?.parse()?;
                set_once(&mut c.previous, &meta, ty, errors);
            } else if meta.path.is_ident("content_model") {
                let lit: LitStr = meta.value()?.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`content_model` takes a string: \"closed\" (the default) or \"open\"",
                    )
                })?;
                set_once(&mut c.content_model, &meta, lit, errors);
            } else if meta.path.is_ident("idempotency_key") {
                if !meta.input.peek(Token![=]) {
                    return Err(meta.error(
                        "on the struct, list the fields: `idempotency_key = [field, ...]`; or mark one field with `#[event(idempotency_key)]`",
                    ));
                }
                let value = meta.value()?;
                let content;
                syn::bracketed!(content in value);
                let fields = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                set_once(
                    &mut c.idempotency_key,
                    &meta,
                    fields.into_iter().collect(),
                    errors,
                );
            } else {
                errors.spanned(
                    &meta.path,
                    format!(
                        "unknown event attribute `{}`; expected {CONTAINER_KEYS}",
                        path_text(&meta)
                    ),
                );
                skip_value(&meta)?;
            }
            Ok(())
        });
        errors.take(result);
    }
    c
}

pub fn field(attrs: &[Attribute], errors: &mut Errors) -> FieldMarkers {
    let mut f = FieldMarkers::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("event")) {
        let result = attr.parse_nested_meta(|meta| {
            let slot = if meta.path.is_ident("aggregate_id") {
                &mut f.aggregate_id
            } else if meta.path.is_ident("partition_key") {
                &mut f.partition_key
            } else if meta.path.is_ident("idempotency_key") {
                &mut f.idempotency_key
            } else {
                errors.spanned(
                    &meta.path,
                    format!(
                        "unknown field attribute `{}`; expected {FIELD_KEYS}",
                        path_text(&meta)
                    ),
                );
                return skip_value(&meta);
            };
            if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                errors.at(
                    meta.input.span(),
                    format!("`{}` is a marker and takes no value", path_text(&meta)),
                );
                skip_value(&meta)?;
            }
            if slot.is_some() {
                errors.spanned(&meta.path, format!("duplicate `{}`", path_text(&meta)));
            } else {
                *slot = Some(key_span(&meta));
            }
            Ok(())
        });
        errors.take(result);
    }
    f
}
