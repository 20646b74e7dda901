//! What runs after a task (`celery/app/trace.py`): callbacks and the next chain step on
//! success, before SUCCESS is stored so that `children` lists them; on failure the same
//! FAILURE under every remaining chain step's id, then the errbacks.

use serde_json::{Value, json};

use crate::backend::{ExceptionInfo, ResultMeta};
use crate::protocol::{Signature, TaskMessage};

use super::Shared;

/// Builds the message a signature sends, as a child of `parent`.
pub(crate) fn message_for(
    sig: &Signature,
    parent: &TaskMessage,
    args_before: Vec<Value>,
    chain: Option<Vec<Signature>>,
) -> TaskMessage {
    let id = sig
        .task_id()
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut args = if sig.immutable {
        Vec::new()
    } else {
        args_before
    };
    args.extend(sig.args.iter().cloned());
    let mut m = TaskMessage::with_id(&sig.task, id, args);
    m.body.kwargs = sig.kwargs.clone();
    m.headers.kwargsrepr = Some(Value::Object(sig.kwargs.clone()).to_string());
    m.headers.parent_id = Some(parent.headers.id.clone());
    m.headers.root_id = parent
        .headers
        .root_id
        .clone()
        .or_else(|| Some(parent.headers.id.clone()));
    m.body.embed.callbacks = signatures(sig.options.get("link"));
    m.body.embed.errbacks = signatures(sig.options.get("link_error"));
    m.body.embed.chain = chain;
    if let Some(p) = sig.options.get("priority").and_then(Value::as_u64) {
        m.properties.priority = p.min(255) as u8;
    }
    m
}

/// `link` / `link_error` hold one signature or a list of them.
fn signatures(v: Option<&Value>) -> Option<Vec<Signature>> {
    match v? {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|s| serde_json::from_value(s.clone()).ok())
                .collect(),
        ),
        Value::Null => None,
        one => serde_json::from_value(one.clone()).ok().map(|s| vec![s]),
    }
}

/// A canvas herald-celery does not run (group, chord, chain as a link) ends in FAILURE
/// under its own id, so a waiting caller hears why.
async fn refuse(shared: &Shared, sig: &Signature) {
    let kind = sig.subtask_type.as_deref().unwrap_or_default();
    tracing::error!(
        kind,
        "herald-celery does not run {kind} signatures as links; refused"
    );
    if let Some(id) = sig.task_id() {
        let exc = unsupported(&format!("{kind} signatures as callbacks"));
        shared.store(&ResultMeta::failure(id, &exc, None)).await;
    }
}

pub(crate) fn unsupported(what: &str) -> ExceptionInfo {
    ExceptionInfo {
        exc_type: "NotImplementedError".to_owned(),
        exc_message: vec![Value::String(format!(
            "herald-celery does not support {what}"
        ))],
        exc_module: "builtins".to_owned(),
    }
}

/// Sends the callbacks and the next chain step with `retval`; returns the children as
/// Celery lists them (`[[id, null], null]`).
pub(crate) async fn on_success(
    shared: &Shared,
    message: &TaskMessage,
    queue: &str,
    retval: &Value,
) -> Vec<Value> {
    let mut children = Vec::new();
    let embed = &message.body.embed;
    for sig in embed.callbacks.iter().flatten() {
        if sig.is_composite() {
            refuse(shared, sig).await;
            continue;
        }
        let m = message_for(sig, message, vec![retval.clone()], None);
        if shared.send(sig.queue().unwrap_or(queue), &m).await {
            children.push(json!([[m.headers.id, null], null]));
        }
    }
    if let Some(chain) = &embed.chain {
        let mut rest = chain.clone();
        if let Some(next) = rest.pop() {
            if next.is_composite() {
                refuse(shared, &next).await;
            } else {
                let rest = (!rest.is_empty()).then_some(rest);
                let m = message_for(&next, message, vec![retval.clone()], rest);
                if shared.send(next.queue().unwrap_or(queue), &m).await {
                    children.push(json!([[m.headers.id, null], null]));
                }
            }
        }
    }
    children
}

/// The rest of the chain reads failed, then the errbacks get the failed task's id.
pub(crate) async fn on_failure(
    shared: &Shared,
    message: &TaskMessage,
    queue: &str,
    meta: &ResultMeta,
) {
    let embed = &message.body.embed;
    for step in embed.chain.iter().flatten() {
        if let Some(id) = step.task_id() {
            let mut m = meta.clone();
            m.task_id = id.to_owned();
            shared.store(&m).await;
        }
    }
    for sig in embed.errbacks.iter().flatten() {
        if sig.is_composite() {
            refuse(shared, sig).await;
            continue;
        }
        let m = message_for(
            sig,
            message,
            vec![Value::String(message.headers.id.clone())],
            None,
        );
        shared.send(sig.queue().unwrap_or(queue), &m).await;
    }
}
