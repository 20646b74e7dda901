//! herald's procedural macros: `#[derive(Event)]` and `#[handler]`.
//!
//! Each macro is parsed (`ast.rs`), validated (`valid.rs`) and
//! expanded (`expand.rs`) in separate steps, in the manner of thiserror's `impl/` crate.
//! Every misuse is a `compile_error!` spanned on the offending token; all the errors of
//! one input are reported together.
//!
//! Generated code names herald's items through `::herald::__private` (with the name the
//! user's `Cargo.toml` gives the `herald` dependency), so it works with a renamed
//! dependency and needs nothing else in scope. Use these macros through the `herald` crate.

mod common;
mod duration;
mod errors;
mod event;
mod handler;
mod krate;
mod schemas_test;
mod task;

use proc_macro::TokenStream;
use syn::{DeriveInput, ItemFn, parse_macro_input};

/// Derives `herald::Event` for a struct with named fields.
///
/// ```ignore
/// #[derive(Event, Serialize, Deserialize, JsonSchema)]
/// #[event(name = "order.created", version = 2, previous = OrderCreatedV1)]
/// struct OrderCreated {
///     #[event(aggregate_id)]
///     order_id: Uuid,
///     #[event(partition_key)]
///     customer_id: String,
///     total_cents: i64,
/// }
/// ```
///
/// Struct keys (in one or several `#[event(...)]` attributes):
/// - `name = "order.created"` (required): the event type. ASCII letters, digits, `.`, `_`
///   and `-`; starts with a letter; no empty segment between dots.
/// - `version = 2` (required): the schema version, from 1.
/// - `previous = OrderCreatedV1`: the type of the version before this one. It must derive
///   `Event` with the same name and a lower version, and `From<OrderCreatedV1>` must be
///   implemented for this type; payloads of any earlier version are then upcast.
/// - `idempotency_key = [field, ...]`: build the idempotency key from these fields
///   (`Display`, joined by `:`) instead of using the event id.
/// - `content_model = "closed" | "open"`: what the exported JSON Schema says about members
///   the struct does not name. `"closed"` (the default) sets `additionalProperties: false` on
///   every object the struct defines, so adding an optional field is BACKWARD compatible;
///   `"open"` keeps schemars' output, where removing a field is. See
///   `herald::schemas::ContentModel`.
///
/// Field markers:
/// - `#[event(aggregate_id)]` (exactly one field, `Display`): the aggregate id.
/// - `#[event(partition_key)]` (at most one, `Display`): the partition key; defaults to
///   the aggregate id.
/// - `#[event(idempotency_key)]` (at most one, `Display`): the idempotency key.
///
/// Every derived type is also listed in `herald::catalog` (for schema export and checks).
#[proc_macro_derive(Event, attributes(event))]
pub fn derive_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    event::derive_or_fallback(&input, &krate::herald_path()).into()
}

/// Turns an async fn `(event: E, ctx: &Context) -> Result<(), Error>` into a handler type
/// named after the fn in UpperCamelCase (`charge_payment` -> `ChargePayment`). The fn stays
/// as written and can be called directly.
///
/// ```ignore
/// #[herald::handler(
///     name = "billing.charge",
///     max_attempts = 5,
///     initial_delay = "200ms",
///     multiplier = 2.0,
///     max_delay = "30s",
///     jitter = "full",
///     lease = "60s",
///     permanent(PaymentError::CardDeclined { .. } | PaymentError::Fraud(_)),
/// )]
/// async fn charge_payment(event: OrderCreated, ctx: &herald::Context) -> Result<(), PaymentError> {
///     # Ok(())
/// }
/// ```
///
/// Keys (all optional):
/// - `name = "billing.charge"`: the handler's stable name (idempotency keys, logs, metrics,
///   dead letters). Default: the fn's name as written (`charge_payment`), which does not
///   change when the fn moves between modules.
/// - `max_attempts = 5` (at least 1), `initial_delay = "1s"`, `multiplier = 2.0` (at
///   least 1.0), `max_delay = "5m"`, `jitter = "full" | "equal" | "none"`: the retry
///   policy; keys left out keep `RetryPolicy::default()`'s values.
/// - `lease = "60s"`, `completed_ttl = "7d"`: the idempotency claim's lease and how long a
///   completed key is remembered.
/// - `idempotency_key = [field, ...]` (fields of the event, `Display`, joined by `:`) or
///   `idempotency_key = |envelope| ...` (a closure or fn taking `&Envelope<E>` and
///   returning something `Into<String>`). Default: the envelope's idempotency key.
/// - `permanent(PATTERN)`: errors matching the pattern (matched against `&error`) are
///   permanent and dead-lettered at once; every other error is retryable. A fn that
///   returns `Result<(), HandlerError>` is passed through unchanged.
/// - `struct_name = ChargeCard`: the generated type's name, when the default clashes.
///
/// Durations are strings of numbers with units `ns`, `us`, `ms`, `s`, `m`, `h`, `d`
/// (`"200ms"`, `"1m30s"`), checked at compile time.
#[proc_macro_attribute]
pub fn handler(args: TokenStream, item: TokenStream) -> TokenStream {
    let item_fn = parse_macro_input!(item as ItemFn);
    handler::expand_attribute(args.into(), item_fn, &krate::herald_path()).into()
}

/// Turns an async fn into a Celery task for herald-celery's worker: a unit type named
/// after the fn in UpperCamelCase (`process_order` -> `ProcessOrder`) with `NAME`,
/// `options()` and `task()` (also `Into<herald_celery::Task>`). The fn stays as written.
///
/// ```ignore
/// #[herald::task(name = "tasks.process_order", autoretry_for = ["ConnectionError"],
///                retry_backoff = true, retry_backoff_max = "10m", max_retries = 5)]
/// async fn process_order(order_id: String, note: Option<String>, req: &TaskRequest)
///     -> Result<u32, TaskError> { ... }
/// ```
///
/// Parameters are Celery arguments: positional by their place, or keyword by their name,
/// decoded with serde; `Option<T>` may be absent. A missing, extra or mistyped argument
/// is a FAILURE `TypeError` naming it. One `&TaskRequest` parameter gets the request
/// (retries, headers, the soft time limit). The fn returns `Result<T, E>` with `T:
/// Serialize` and `E: Into<TaskError>`.
///
/// Keys: `name = "tasks.add"` (required: the name Python sends), `max_retries = 3 | None`,
/// `default_retry_delay`, `autoretry_for = ["ExcType", ...]` (matched against the
/// failure's `exc_type`), `retry_backoff = true | N`, `retry_backoff_max`, `retry_jitter`,
/// `acks_late`, `reject_on_worker_lost`, `ignore_result`, `track_started`, `time_limit`,
/// `soft_time_limit`, `rate_limit = "10/s"`, `struct_name = Name`. Durations are seconds
/// (`30`, `1.5`) or strings with a unit (`"30s"`). Celery options herald-celery does not
/// take (`bind`, `serializer`, `queue`, `base`, ...) are compile errors saying so.
#[proc_macro_attribute]
pub fn task(args: TokenStream, item: TokenStream) -> TokenStream {
    let item_fn = parse_macro_input!(item as ItemFn);
    task::expand_attribute(args.into(), item_fn, &krate::celery_path()).into()
}

/// Writes the test that keeps `schemas/` in step with the code: put
/// `herald::schemas_test!();` in `tests/schemas.rs` of the crate that defines the events.
///
/// The test calls `herald::schemas::assert_in_sync` on `schemas/` beside the crate's
/// `Cargo.toml` (or on the directory given: `herald::schemas_test!("path/to/schemas")`). In an
/// integration test it also links the package's library (`extern crate my_app as _;`): a
/// test crate links only the crates it names, and events not linked in are not checked.
#[proc_macro]
pub fn schemas_test(input: TokenStream) -> TokenStream {
    schemas_test::expand(input.into(), &krate::herald_path())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
