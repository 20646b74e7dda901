//! The handler's arguments and its fn, as written.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, ItemFn, Lit, LitInt, LitStr, Pat, Token};

use crate::common::{Set, path_text, set_once, skip_value};
use crate::errors::Errors;

/// `#[handler(...)]`'s keys.
#[derive(Default)]
pub struct Args {
    pub name: Option<Set<LitStr>>,
    pub max_attempts: Option<Set<LitInt>>,
    pub initial_delay: Option<Set<LitStr>>,
    pub multiplier: Option<Set<Lit>>,
    pub max_delay: Option<Set<LitStr>>,
    pub jitter: Option<Set<LitStr>>,
    pub lease: Option<Set<LitStr>>,
    pub completed_ttl: Option<Set<LitStr>>,
    pub permanent: Option<Set<Pat>>,
    pub idempotency_key: Option<Set<KeySpec>>,
    pub struct_name: Option<Set<Ident>>,
}

/// How the handler's idempotency key is made.
pub enum KeySpec {
    /// Fields of the event, joined by `:`.
    Fields(Vec<Ident>),
    /// A closure or fn of `&Envelope<E>`.
    Expr(Expr),
}

pub struct Input<'a> {
    pub args: Args,
    pub item: &'a ItemFn,
    /// Errors found while reading the arguments; reported with validation's.
    pub errors: Errors,
}

const KEYS: &str = "`name`, `max_attempts`, `initial_delay`, `multiplier`, `max_delay`, `jitter`, `lease`, `completed_ttl`, `idempotency_key`, `permanent(...)` or `struct_name`";

impl<'a> Input<'a> {
    pub fn parse(tokens: TokenStream, item: &'a ItemFn) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let mut a = Args::default();
        let parser = syn::meta::parser(|meta| {
            let p = &meta.path;
            if p.is_ident("name") {
                set_once(&mut a.name, &meta, meta.value()?.parse()?, &mut errors);
            } else if p.is_ident("max_attempts") {
                set_once(
                    &mut a.max_attempts,
                    &meta,
                    meta.value()?.parse()?,
                    &mut errors,
                );
            } else if p.is_ident("initial_delay") {
                set_once(
                    &mut a.initial_delay,
                    &meta,
                    duration_lit(&meta)?,
                    &mut errors,
                );
            } else if p.is_ident("multiplier") {
                set_once(
                    &mut a.multiplier,
                    &meta,
                    meta.value()?.parse()?,
                    &mut errors,
                );
            } else if p.is_ident("max_delay") {
                set_once(&mut a.max_delay, &meta, duration_lit(&meta)?, &mut errors);
            } else if p.is_ident("jitter") {
                set_once(&mut a.jitter, &meta, meta.value()?.parse()?, &mut errors);
            } else if p.is_ident("lease") {
                set_once(&mut a.lease, &meta, duration_lit(&meta)?, &mut errors);
            } else if p.is_ident("completed_ttl") {
                set_once(
                    &mut a.completed_ttl,
                    &meta,
                    duration_lit(&meta)?,
                    &mut errors,
                );
            } else if p.is_ident("struct_name") {
                set_once(
                    &mut a.struct_name,
                    &meta,
                    meta.value()?.parse()?,
                    &mut errors,
                );
            } else if p.is_ident("permanent") {
                if !meta.input.peek(syn::token::Paren) {
                    return Err(meta.error(
                        "write the permanent errors as a pattern: `permanent(MyError::Invalid(_) | MyError::NotFound)`",
                    ));
                }
                let content;
                syn::parenthesized!(content in meta.input);
                let pattern = Pat::parse_multi_with_leading_vert(&content)?;
                if !content.is_empty() {
                    return Err(content.error("expected one pattern; join alternatives with `|`"));
                }
                set_once(&mut a.permanent, &meta, pattern, &mut errors);
            } else if p.is_ident("idempotency_key") {
                let value = meta.value()?;
                let spec = if value.peek(syn::token::Bracket) {
                    let content;
                    syn::bracketed!(content in value);
                    let fields = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                    KeySpec::Fields(fields.into_iter().collect())
                } else {
                    KeySpec::Expr(value.parse()?)
                };
                set_once(&mut a.idempotency_key, &meta, spec, &mut errors);
            } else {
                errors.spanned(
                    &meta.path,
                    format!(
                        "unknown handler attribute `{}`; expected {KEYS}",
                        path_text(&meta)
                    ),
                );
                skip_value(&meta)?;
            }
            Ok(())
        });
        let result = parser.parse2(tokens);
        errors.take(result);
        Ok(Input {
            args: a,
            item,
            errors,
        })
    }
}

/// A duration is a string (`"30s"`); a bare number is an error that says so.
fn duration_lit(meta: &syn::meta::ParseNestedMeta) -> syn::Result<LitStr> {
    let value = meta.value()?;
    if value.peek(LitStr) {
        return value.parse();
    }
    let lit: Lit = value.parse()?;
    Err(syn::Error::new(
        lit.span(),
        format!(
            "`{}` is a duration string with a unit, like \"30s\" or \"200ms\"",
            path_text(meta)
        ),
    ))
}
