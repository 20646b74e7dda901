//! The task's arguments, as written.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, ItemFn, Lit, LitStr, Token};

use crate::common::{Set, path_text, set_once, skip_value};
use crate::errors::Errors;

/// `#[task(...)]`'s keys.
#[derive(Default)]
pub struct Args {
    pub name: Option<Set<LitStr>>,
    pub max_retries: Option<Set<Expr>>,
    pub default_retry_delay: Option<Set<Lit>>,
    pub autoretry_for: Option<Set<Vec<LitStr>>>,
    pub retry_backoff: Option<Set<Lit>>,
    pub retry_backoff_max: Option<Set<Lit>>,
    pub retry_jitter: Option<Set<Lit>>,
    pub acks_late: Option<Set<Lit>>,
    pub reject_on_worker_lost: Option<Set<Lit>>,
    pub ignore_result: Option<Set<Lit>>,
    pub track_started: Option<Set<Lit>>,
    pub time_limit: Option<Set<Lit>>,
    pub soft_time_limit: Option<Set<Lit>>,
    pub rate_limit: Option<Set<LitStr>>,
    pub struct_name: Option<Set<Ident>>,
}

pub struct Input<'a> {
    pub args: Args,
    pub item: &'a ItemFn,
    /// Errors found while reading the arguments; reported with validation's.
    pub errors: Errors,
}

pub const KEYS: &str = "`name`, `max_retries`, `default_retry_delay`, `autoretry_for`, `retry_backoff`, `retry_backoff_max`, `retry_jitter`, `acks_late`, `reject_on_worker_lost`, `ignore_result`, `track_started`, `time_limit`, `soft_time_limit`, `rate_limit` or `struct_name`";

/// Celery task options herald-celery does not take, and what to do instead.
fn refused(key: &str) -> Option<&'static str> {
    Some(match key {
        "bind" => "take a `&TaskRequest` parameter instead of `bind = true`",
        "serializer" => "herald-celery speaks JSON only",
        "queue" | "routing_key" | "exchange" => {
            "a worker consumes the queue it is given, and producers choose the queue"
        }
        "base"
        | "typing"
        | "throws"
        | "trail"
        | "shadow_name"
        | "compression"
        | "priority"
        | "expires"
        | "store_errors_even_if_ignored"
        | "acks_on_failure_or_timeout"
        | "dont_autoretry_for"
        | "retry_kwargs"
        | "send_events"
        | "resultrepr_maxsize" => "it is a Celery task option herald-celery does not support",
        _ => return None,
    })
}

impl<'a> Input<'a> {
    pub fn parse(tokens: TokenStream, item: &'a ItemFn) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let mut a = Args::default();
        let parser = syn::meta::parser(|meta| {
            let key = path_text(&meta);
            macro_rules! lit {
                ($slot:ident) => {
                    set_once(&mut a.$slot, &meta, meta.value()?.parse()?, &mut errors)
                };
            }
            match key.as_str() {
                "name" => lit!(name),
                "max_retries" => lit!(max_retries),
                "default_retry_delay" => lit!(default_retry_delay),
                "retry_backoff" => lit!(retry_backoff),
                "retry_backoff_max" => lit!(retry_backoff_max),
                "retry_jitter" => lit!(retry_jitter),
                "acks_late" => lit!(acks_late),
                "reject_on_worker_lost" => lit!(reject_on_worker_lost),
                "ignore_result" => lit!(ignore_result),
                "track_started" => lit!(track_started),
                "time_limit" => lit!(time_limit),
                "soft_time_limit" => lit!(soft_time_limit),
                "rate_limit" => lit!(rate_limit),
                "struct_name" => lit!(struct_name),
                "autoretry_for" => {
                    let value = meta.value()?;
                    if !value.peek(syn::token::Bracket) {
                        return Err(value.error(
                            "`autoretry_for` lists exception type names: `autoretry_for = [\"ConnectionError\"]`",
                        ));
                    }
                    let content;
                    syn::bracketed!(content in value);
                    let names = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                    set_once(
                        &mut a.autoretry_for,
                        &meta,
                        names.into_iter().collect(),
                        &mut errors,
                    );
                }
                other => {
                    let message = match refused(other) {
                        Some(why) => format!("`{other}` is not supported: {why}"),
                        None => format!("unknown task attribute `{other}`; expected {KEYS}"),
                    };
                    errors.spanned(&meta.path, message);
                    skip_value(&meta)?;
                }
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
