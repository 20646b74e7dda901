//! Checks the handler's arguments and its fn's signature.

use std::time::Duration;

use syn::{
    FnArg, GenericArgument, Ident, ItemFn, Lit, LitStr, Pat, PathArguments, ReturnType, Type,
    Visibility,
};

use super::ast::{Args, Input, KeySpec};
use crate::duration;
use crate::errors::Errors;

/// A checked handler.
pub struct Handler<'a> {
    pub fn_ident: &'a Ident,
    pub vis: &'a Visibility,
    pub struct_ident: Ident,
    pub name: String,
    pub event: &'a Type,
    /// The fn's error type (or its return type when the error type is implied), for
    /// spans of errors about it.
    pub error_type: &'a Type,
    /// The fn returns `Result<(), HandlerError>`: pass its result through.
    pub passthrough: bool,
    pub retry: Retry,
    pub lease: Option<Duration>,
    pub completed_ttl: Option<Duration>,
    pub permanent: Option<Pat>,
    pub idempotency_key: Option<KeySpec>,
}

/// The retry policy's keys that were given.
#[derive(Default)]
pub struct Retry {
    pub max_attempts: Option<u32>,
    pub initial_delay: Option<Duration>,
    pub multiplier: Option<f64>,
    pub max_delay: Option<Duration>,
    pub jitter: Option<Jitter>,
}

#[derive(Clone, Copy)]
pub enum Jitter {
    None,
    Full,
    Equal,
}

pub fn validate(input: Input<'_>) -> syn::Result<Handler<'_>> {
    let Input {
        args,
        item,
        mut errors,
    } = input;
    let sig = check_signature(item, &mut errors);
    let passthrough = sig.as_ref().is_some_and(|s| s.passthrough);

    let name = match &args.name {
        Some(set) => {
            let name = set.value.value();
            if name.trim().is_empty() {
                errors.spanned(&set.value, "a handler name cannot be empty");
            } else if name
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == ':')
            {
                errors.spanned(
                    &set.value,
                    format!("invalid handler name {name:?}: no whitespace and no `:` (it prefixes idempotency keys)"),
                );
            }
            name
        }
        None => unraw(&item.sig.ident),
    };

    let mut retry = Retry::default();
    if let Some(set) = &args.max_attempts {
        match set.value.base10_parse::<u32>() {
            Ok(0) => errors.spanned(
                &set.value,
                "`max_attempts` counts the first attempt too, so it is at least 1 (1 = no retry)",
            ),
            Ok(n) => retry.max_attempts = Some(n),
            Err(e) => errors.spanned(&set.value, format!("invalid `max_attempts`: {e}")),
        }
    }
    retry.initial_delay = args
        .initial_delay
        .as_ref()
        .and_then(|s| parse_duration(&s.value, &mut errors));
    retry.max_delay = args
        .max_delay
        .as_ref()
        .and_then(|s| parse_duration(&s.value, &mut errors));
    if let (Some(initial), Some(max), Some(set)) =
        (retry.initial_delay, retry.max_delay, &args.initial_delay)
        && initial > max
    {
        errors.spanned(
            &set.value,
            format!("`initial_delay` ({initial:?}) is longer than `max_delay` ({max:?})"),
        );
    }
    if let Some(set) = &args.multiplier {
        let value = match &set.value {
            Lit::Float(f) => f.base10_parse::<f64>().ok(),
            Lit::Int(i) => i.base10_parse::<u32>().ok().map(f64::from),
            _ => None,
        };
        match value {
            Some(m) if m.is_finite() && m >= 1.0 => retry.multiplier = Some(m),
            Some(_) => errors.spanned(
                &set.value,
                "`multiplier` must be at least 1.0 (1.0 = the same delay every time)",
            ),
            None => errors.spanned(&set.value, "`multiplier` is a number, like `2.0`"),
        }
    }
    if let Some(set) = &args.jitter {
        match set.value.value().as_str() {
            "full" => retry.jitter = Some(Jitter::Full),
            "equal" => retry.jitter = Some(Jitter::Equal),
            "none" => retry.jitter = Some(Jitter::None),
            other => errors.spanned(
                &set.value,
                format!("unknown jitter \"{other}\"; expected \"full\", \"equal\" or \"none\""),
            ),
        }
    }
    let lease = args
        .lease
        .as_ref()
        .and_then(|s| parse_duration(&s.value, &mut errors));
    if let (Some(d), Some(set)) = (lease, &args.lease)
        && d.is_zero()
    {
        errors.spanned(&set.value, "`lease` must be longer than zero");
    }
    let completed_ttl = args
        .completed_ttl
        .as_ref()
        .and_then(|s| parse_duration(&s.value, &mut errors));

    if let (Some(set), true) = (&args.permanent, passthrough) {
        errors.at(
            set.key,
            "`permanent(...)` maps the fn's error type, but this fn already returns `HandlerError`: return `HandlerError::permanent(e)` for permanent failures",
        );
    }
    if let Some(set) = &args.idempotency_key
        && let KeySpec::Fields(fields) = &set.value
        && fields.is_empty()
    {
        errors.at(
            set.key,
            "`idempotency_key = [...]` needs at least one field",
        );
    }

    let struct_ident = struct_ident(&args, item);

    errors.finish()?;
    let Some(sig) = sig else {
        return Err(syn::Error::new(item.sig.ident.span(), "invalid handler"));
    };
    Ok(Handler {
        fn_ident: &item.sig.ident,
        vis: &item.vis,
        struct_ident,
        name,
        event: sig.event,
        error_type: sig.error_type,
        passthrough,
        retry,
        lease,
        completed_ttl,
        permanent: args.permanent.map(|s| s.value),
        idempotency_key: args.idempotency_key.map(|s| s.value),
    })
}

/// What the handler type of an invalid input can still be given: its name and visibility,
/// and the event type when the first argument names one.
pub struct Fallback<'a> {
    pub fn_ident: &'a Ident,
    pub vis: &'a Visibility,
    pub struct_ident: Ident,
    pub name: String,
    pub event: Option<&'a Type>,
}

/// The fallback of an input that did not validate; `None` for a method (a type cannot be
/// declared inside an `impl` block).
pub fn fallback(input: Input<'_>) -> Option<Fallback<'_>> {
    let Input { args, item, .. } = input;
    let sig = &item.sig;
    if matches!(sig.inputs.first(), Some(FnArg::Receiver(_))) {
        return None;
    }
    // A generic fn's event type may name its parameters, which mean nothing outside it.
    let event = match sig.inputs.first() {
        Some(FnArg::Typed(t)) if sig.generics.params.is_empty() => match &*t.ty {
            Type::Reference(r) => Some(&*r.elem),
            Type::ImplTrait(_) => None,
            ty => Some(ty),
        },
        _ => None,
    };
    Some(Fallback {
        fn_ident: &sig.ident,
        vis: &item.vis,
        struct_ident: struct_ident(&args, item),
        name: args
            .name
            .map_or_else(|| unraw(&sig.ident), |set| set.value.value()),
        event,
    })
}

fn struct_ident(args: &Args, item: &ItemFn) -> Ident {
    match &args.struct_name {
        Some(set) => set.value.clone(),
        None => Ident::new(&upper_camel(&unraw(&item.sig.ident)), item.sig.ident.span()),
    }
}

struct Sig<'a> {
    event: &'a Type,
    error_type: &'a Type,
    passthrough: bool,
}

const SHAPE: &str = "async fn name(event: MyEvent, ctx: &herald::Context) -> Result<(), MyError>";

fn check_signature<'a>(item: &'a ItemFn, errors: &mut Errors) -> Option<Sig<'a>> {
    let sig = &item.sig;
    let mut ok = true;
    if sig.asyncness.is_none() {
        errors.at(
            sig.fn_token.span,
            format!("a handler must be an `async fn`: `{SHAPE}`"),
        );
        ok = false;
    }
    if let Some(c) = &sig.constness {
        errors.spanned(c, "a handler cannot be a `const fn`");
        ok = false;
    }
    if let Some(u) = &sig.unsafety {
        errors.spanned(u, "a handler cannot be an `unsafe fn`");
        ok = false;
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, "a handler cannot have an `extern` ABI");
        ok = false;
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.spanned(
            &sig.generics,
            "a handler cannot be generic: its event type and error type must be concrete",
        );
        ok = false;
    }
    if let Some(v) = &sig.variadic {
        errors.spanned(v, "a handler cannot be variadic");
        ok = false;
    }

    let mut typed = Vec::new();
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(r) => {
                errors.spanned(
                    r,
                    format!("a handler is a free fn, not a method: remove `self` (`{SHAPE}`)"),
                );
                ok = false;
            }
            FnArg::Typed(t) => typed.push(t),
        }
    }
    let mut event = None;
    if typed.len() < sig.inputs.len() {
        // A method: the receiver's error says it all.
    } else if sig.inputs.len() != 2 {
        errors.at(
            sig.paren_token.span.join(),
            format!(
                "a handler takes two arguments, the event and the context, found {}: `{SHAPE}`",
                sig.inputs.len()
            ),
        );
        ok = false;
    } else if let [first, second] = typed.as_slice() {
        match &*first.ty {
            Type::Reference(r) => {
                errors.spanned(
                    r,
                    "the handler takes its event by value (it owns the decoded event): remove the `&`",
                );
                ok = false;
            }
            Type::ImplTrait(t) => {
                errors.spanned(t, "the event must be a concrete type that derives `Event`");
                ok = false;
            }
            ty => event = Some(ty),
        }
        if !is_context_ref(&second.ty) {
            errors.spanned(
                &second.ty,
                "the second argument is the context, taken by shared reference: `ctx: &herald::Context`",
            );
            ok = false;
        }
    }

    let mut output = None;
    let mut passthrough = false;
    match &sig.output {
        ReturnType::Default => {
            errors.at(
                sig.paren_token.span.close(),
                "a handler returns `Result<(), E>`: add `-> Result<(), MyError>` (or `HandlerError`)",
            );
            ok = false;
        }
        ReturnType::Type(_, ty) => match result_error(ty) {
            Some(error) => {
                output = Some(error.unwrap_or(&**ty));
                passthrough = error.is_some_and(is_handler_error);
            }
            None => {
                errors.spanned(
                    ty,
                    "a handler returns `Result<(), E>`: `Ok(())` acks the message, `Err` retries or dead-letters it",
                );
                ok = false;
            }
        },
    }

    match (ok, event, output) {
        (true, Some(event), Some(error_type)) => Some(Sig {
            event,
            error_type,
            passthrough,
        }),
        _ => None,
    }
}

/// `&Context`, `&herald::Context`, `&'a Context`.
fn is_context_ref(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) if r.mutability.is_none() => match &*r.elem {
            Type::Path(p) => {
                p.qself.is_none()
                    && p.path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "Context" && s.arguments.is_none())
            }
            _ => false,
        },
        _ => false,
    }
}

/// For `Result<(), E>` (any path ending in `Result`), `Some(Some(E))`; for a one-argument
/// alias such as `anyhow::Result<()>`, `Some(None)`; otherwise `None`.
fn result_error(ty: &Type) -> Option<Option<&Type>> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    match types.next()? {
        Type::Tuple(t) if t.elems.is_empty() => {}
        _ => return None,
    }
    Some(types.next())
}

fn is_handler_error(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.segments.last().is_some_and(|s| s.ident == "HandlerError"))
}

fn parse_duration(lit: &LitStr, errors: &mut Errors) -> Option<Duration> {
    match duration::parse(&lit.value()) {
        Ok(d) => Some(d),
        Err(message) => {
            errors.spanned(lit, message);
            None
        }
    }
}

pub fn unraw(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// `charge_payment` -> `ChargePayment`.
pub fn upper_camel(snake: &str) -> String {
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}
