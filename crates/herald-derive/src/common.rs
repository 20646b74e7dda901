//! Attribute-reading helpers both macros share.

use proc_macro2::{Span, TokenStream};
use syn::Token;
use syn::meta::ParseNestedMeta;

use crate::errors::Errors;

/// A value and the span of the key that set it.
pub struct Set<T> {
    pub key: Span,
    pub value: T,
}

/// Stores `value` unless the key was given already, which is an error on the second key.
pub fn set_once<T>(
    slot: &mut Option<Set<T>>,
    meta: &ParseNestedMeta,
    value: T,
    errors: &mut Errors,
) {
    if slot.is_some() {
        errors.spanned(&meta.path, format!("duplicate `{}`", path_text(meta)));
    } else {
        *slot = Some(Set {
            key: key_span(meta),
            value,
        });
    }
}

/// The key as written (`name`, `a::b`).
pub fn path_text(meta: &ParseNestedMeta) -> String {
    let segments: Vec<String> = meta
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments.join("::")
}

pub fn key_span(meta: &ParseNestedMeta) -> Span {
    meta.path
        .segments
        .first()
        .map_or_else(Span::call_site, |s| s.ident.span())
}

/// Consumes `= value` or `(...)` after a key that was rejected, so the keys after it are
/// still read (and their errors reported too).
pub fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}
