//! The task headers (`celery/app/amqp.py::AMQP.as_task_v2`).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Protocol-2 headers. Unknown headers are kept in `extra` and carried over on retry,
/// as Celery carries custom headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskHeaders {
    #[serde(default = "lang")]
    pub lang: String,
    pub task: String,
    pub id: String,
    #[serde(default)]
    pub shadow: Option<String>,
    #[serde(default)]
    pub eta: Option<String>,
    #[serde(default)]
    pub expires: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub group_index: Option<i64>,
    /// Never null on the wire: a Python task's `self.retry()` adds 1 to it.
    #[serde(default, deserialize_with = "null_as_zero")]
    pub retries: u32,
    /// `[hard, soft]` in seconds (Celery's code reads hard first, whatever the docs say).
    #[serde(default)]
    pub timelimit: (Option<f64>, Option<f64>),
    #[serde(default)]
    pub root_id: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub argsrepr: Option<String>,
    #[serde(default)]
    pub kwargsrepr: Option<String>,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ignore_result: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub replaced_task_nesting: u32,
    #[serde(default)]
    pub stamped_headers: Option<Value>,
    #[serde(default = "empty_object")]
    pub stamps: Value,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn lang() -> String {
    "py".to_owned()
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

fn null_as_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    null_as_default(d)
}

fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl TaskHeaders {
    /// Headers for a new task sent from Rust: root_id = id, retries 0, `lang` "rust".
    pub fn new(task: impl Into<String>, id: impl Into<String>) -> Self {
        let id = id.into();
        TaskHeaders {
            lang: "rust".to_owned(),
            task: task.into(),
            root_id: Some(id.clone()),
            id,
            shadow: None,
            eta: None,
            expires: None,
            group: None,
            group_index: None,
            retries: 0,
            timelimit: (None, None),
            parent_id: None,
            argsrepr: None,
            kwargsrepr: None,
            origin: None,
            ignore_result: false,
            replaced_task_nesting: 0,
            stamped_headers: None,
            stamps: empty_object(),
            extra: Map::new(),
        }
    }

    /// The name shown in logs: `shadow` when set.
    pub fn display_name(&self) -> &str {
        self.shadow.as_deref().unwrap_or(&self.task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_celery_headers_and_keeps_custom_ones() {
        let h: TaskHeaders = serde_json::from_str(
            r#"{"lang": "py", "task": "tasks.add", "id": "b8", "shadow": null, "eta": null,
            "expires": null, "group": null, "group_index": null, "retries": 0,
            "timelimit": [null, 2.5], "root_id": "b8", "parent_id": null, "argsrepr": "(2, 3)",
            "kwargsrepr": "{}", "origin": "gen1@vm", "ignore_result": false,
            "replaced_task_nesting": 0, "stamped_headers": null, "stamps": {}, "x-custom": 7}"#,
        )
        .expect("headers");
        assert_eq!(h.task, "tasks.add");
        assert_eq!(h.timelimit, (None, Some(2.5)));
        assert_eq!(h.extra.get("x-custom"), Some(&Value::from(7)));
        let back = serde_json::to_value(&h).expect("json");
        assert_eq!(back["x-custom"], 7);
        assert_eq!(back["retries"], 0);
    }

    #[test]
    fn null_retries_read_as_zero() {
        let h: TaskHeaders =
            serde_json::from_str(r#"{"task": "t", "id": "i", "retries": null}"#).expect("headers");
        assert_eq!(h.retries, 0);
        assert_eq!(h.lang, "py");
    }
}
