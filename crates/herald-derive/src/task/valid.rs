//! Checks the task's arguments and its fn's signature.

use std::time::Duration;

use syn::spanned::Spanned;
use syn::{
    Expr, FnArg, GenericArgument, Ident, ItemFn, Lit, Pat, PathArguments, ReturnType, Type,
    Visibility,
};

use super::ast::{Args, Input};
use crate::common::Set;
use crate::duration;
use crate::errors::Errors;
use crate::handler::valid::{unraw, upper_camel};

/// A checked task.
pub struct Task<'a> {
    pub fn_ident: &'a Ident,
    pub vis: &'a Visibility,
    pub struct_ident: Ident,
    pub name: String,
    pub params: Vec<Param<'a>>,
    pub options: Options,
}

/// One parameter of the fn.
pub enum Param<'a> {
    /// A Celery argument: positional at its index among the arguments, or by name.
    Arg {
        ident: &'a Ident,
        ty: &'a Type,
        /// `Option<T>`: absent means `None`.
        optional: bool,
    },
    /// `&TaskRequest`: the request itself.
    Request,
}

/// The options that were given.
#[derive(Default)]
pub struct Options {
    /// `Some(None)`: `max_retries = None`, retry for ever.
    pub max_retries: Option<Option<u32>>,
    pub default_retry_delay: Option<Duration>,
    pub autoretry_for: Vec<String>,
    pub retry_backoff: Option<u32>,
    pub retry_backoff_max: Option<Duration>,
    pub retry_jitter: Option<bool>,
    pub acks_late: Option<bool>,
    pub reject_on_worker_lost: Option<bool>,
    pub ignore_result: Option<bool>,
    pub track_started: Option<bool>,
    pub time_limit: Option<Duration>,
    pub soft_time_limit: Option<Duration>,
    /// Runs per second.
    pub rate_limit: Option<f64>,
}

/// What the fallback expansion needs: the type's name and visibility.
pub struct Fallback<'a> {
    pub vis: &'a Visibility,
    pub struct_ident: Ident,
}

pub fn fallback<'a>(input: &Input<'a>) -> Fallback<'a> {
    Fallback {
        vis: &input.item.vis,
        struct_ident: struct_ident(&input.args, input.item),
    }
}

fn struct_ident(args: &Args, item: &ItemFn) -> Ident {
    match &args.struct_name {
        Some(set) => set.value.clone(),
        None => Ident::new(&upper_camel(&unraw(&item.sig.ident)), item.sig.ident.span()),
    }
}

const SHAPE: &str = "async fn add(x: i64, y: i64) -> Result<i64, TaskError>";

pub fn validate(input: Input<'_>) -> syn::Result<Task<'_>> {
    let Input {
        args,
        item,
        mut errors,
    } = input;
    let params = check_signature(item, &mut errors);
    let name = match &args.name {
        Some(set) => {
            let name = set.value.value();
            if name.trim().is_empty() || name.chars().any(char::is_whitespace) {
                errors.spanned(
                    &set.value,
                    format!("invalid task name {name:?}: not empty, no whitespace"),
                );
            }
            name
        }
        None => {
            errors.at(
                item.sig.ident.span(),
                "a task needs `name = \"...\"`: the name Python sends (`tasks.add`)",
            );
            String::new()
        }
    };
    let mut o = Options::default();
    if let Some(set) = &args.max_retries {
        o.max_retries = match &set.value {
            Expr::Path(p) if p.path.is_ident("None") => Some(None),
            Expr::Lit(l) => match &l.lit {
                Lit::Int(i) => i.base10_parse::<u32>().ok().map(Some),
                _ => None,
            },
            _ => None,
        };
        if o.max_retries.is_none() {
            errors.spanned(
                &set.value,
                "`max_retries` is a count (`3`) or `None` (retry for ever)",
            );
        }
    }
    o.default_retry_delay = seconds(&args.default_retry_delay, &mut errors);
    o.retry_backoff_max = seconds(&args.retry_backoff_max, &mut errors);
    o.time_limit = seconds(&args.time_limit, &mut errors);
    o.soft_time_limit = seconds(&args.soft_time_limit, &mut errors);
    if let (Some(soft), Some(hard), Some(set)) =
        (o.soft_time_limit, o.time_limit, &args.soft_time_limit)
        && soft >= hard
    {
        errors.spanned(
            &set.value,
            format!("`soft_time_limit` ({soft:?}) must be shorter than `time_limit` ({hard:?})"),
        );
    }
    if let Some(set) = &args.retry_backoff {
        o.retry_backoff = match &set.value {
            Lit::Bool(b) => Some(u32::from(b.value)),
            Lit::Int(i) => i.base10_parse::<u32>().ok(),
            _ => None,
        };
        if o.retry_backoff.is_none() {
            errors.spanned(
                &set.value,
                "`retry_backoff` is `true` (factor 1), `false`, or a factor (`2`)",
            );
        }
    }
    o.retry_jitter = flag(&args.retry_jitter, &mut errors);
    o.acks_late = flag(&args.acks_late, &mut errors);
    o.reject_on_worker_lost = flag(&args.reject_on_worker_lost, &mut errors);
    o.ignore_result = flag(&args.ignore_result, &mut errors);
    o.track_started = flag(&args.track_started, &mut errors);
    if let Some(set) = &args.autoretry_for {
        for name in &set.value {
            let n = name.value();
            if n.is_empty() || !n.chars().all(|c| c.is_alphanumeric() || c == '_') {
                errors.spanned(
                    name,
                    format!("`{n}` is not an exception type name (`ConnectionError`)"),
                );
            }
            o.autoretry_for.push(n);
        }
    }
    if let Some(set) = &args.rate_limit {
        match rate(&set.value.value()) {
            Ok(r) => o.rate_limit = Some(r),
            Err(e) => errors.spanned(&set.value, e),
        }
    }
    errors.finish()?;
    Ok(Task {
        fn_ident: &item.sig.ident,
        vis: &item.vis,
        struct_ident: struct_ident(&args, item),
        name,
        params,
        options: o,
    })
}

/// Celery's rate limit: "10/s", "100/m", "1000/h", or a number per second.
fn rate(text: &str) -> Result<f64, String> {
    let (n, unit) = text.split_once('/').unwrap_or((text, "s"));
    let per = match unit.trim() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        u => {
            return Err(format!(
                "rate limit unit `{u}`: expected s, m or h (\"10/m\")"
            ));
        }
    };
    match n.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => Ok(n / per),
        _ => Err(format!(
            "rate limit \"{text}\": a positive number of runs per s, m or h (\"10/m\")"
        )),
    }
}

fn flag(set: &Option<Set<Lit>>, errors: &mut Errors) -> Option<bool> {
    let set = set.as_ref()?;
    match &set.value {
        Lit::Bool(b) => Some(b.value),
        other => {
            errors.spanned(other, "expected `true` or `false`");
            None
        }
    }
}

/// A duration: a string with units (`"30s"`) or a number of seconds, as Celery writes it.
fn seconds(set: &Option<Set<Lit>>, errors: &mut Errors) -> Option<Duration> {
    let set = set.as_ref()?;
    let parsed = match &set.value {
        Lit::Str(s) => duration::parse(&s.value()),
        Lit::Int(i) => i
            .base10_parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|e| e.to_string()),
        Lit::Float(f) => f
            .base10_parse::<f64>()
            .map_err(|e| e.to_string())
            .and_then(|s| Duration::try_from_secs_f64(s).map_err(|e| e.to_string())),
        _ => Err("a duration: seconds (`30`) or a string with a unit (\"30s\")".to_owned()),
    };
    parsed.map_err(|e| errors.spanned(&set.value, e)).ok()
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

fn is_request_ref(ty: &Type) -> bool {
    matches!(ty, Type::Reference(r) if r.mutability.is_none()
        && last_segment(&r.elem).is_some_and(|s| s.ident == "TaskRequest"))
}

fn is_option(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| {
        s.ident == "Option" && matches!(s.arguments, PathArguments::AngleBracketed(_))
    })
}

fn check_signature<'a>(item: &'a ItemFn, errors: &mut Errors) -> Vec<Param<'a>> {
    let sig = &item.sig;
    if sig.asyncness.is_none() {
        errors.spanned(sig.fn_token, format!("a task is an async fn: `{SHAPE}`"));
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(&sig.generics, "a task cannot be generic: Python sends JSON");
    }
    let mut params = Vec::new();
    let mut requests = 0;
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => errors.spanned(r, "a task is a free fn, not a method"),
            FnArg::Typed(t) => {
                if is_request_ref(&t.ty) {
                    requests += 1;
                    if requests > 1 {
                        errors.spanned(t, "one `&TaskRequest` parameter at most");
                    }
                    params.push(Param::Request);
                    continue;
                }
                match &*t.pat {
                    Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                        params.push(Param::Arg {
                            ident: &p.ident,
                            ty: &t.ty,
                            optional: is_option(&t.ty),
                        });
                    }
                    other => errors.spanned(
                        other,
                        "a task parameter is a plain name: it is matched to a Celery keyword argument",
                    ),
                }
                if matches!(&*t.ty, Type::Reference(_) | Type::ImplTrait(_)) {
                    errors.spanned(
                        &t.ty,
                        "a task parameter is an owned type that implements `Deserialize` (or `&TaskRequest`)",
                    );
                }
            }
        }
    }
    let returns_result = match &sig.output {
        ReturnType::Type(_, ty) => last_segment(ty).is_some_and(|s| {
            s.ident == "Result"
                && matches!(&s.arguments, PathArguments::AngleBracketed(a)
                    if a.args.len() == 2 && a.args.iter().all(|g| matches!(g, GenericArgument::Type(_))))
        }),
        ReturnType::Default => false,
    };
    if !returns_result {
        let span = match &sig.output {
            ReturnType::Type(_, ty) => ty.span(),
            ReturnType::Default => sig.paren_token.span.join(),
        };
        errors.at(
            span,
            format!("a task returns `Result<T, E>` (T: Serialize, E: Into<TaskError>): `{SHAPE}`"),
        );
    }
    params
}
