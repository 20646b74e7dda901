//! The body `[args, kwargs, embed]` and the signatures embed carries
//! (`celery/canvas.py::Signature`).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A serialized signature: `{task, args, kwargs, options, subtask_type, immutable}`.
/// `options` holds apply_async options (`task_id`, `queue`, `link`, `link_error`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    pub task: String,
    #[serde(default)]
    pub args: Vec<Value>,
    #[serde(default)]
    pub kwargs: Map<String, Value>,
    #[serde(default)]
    pub options: Map<String, Value>,
    #[serde(default)]
    pub subtask_type: Option<String>,
    #[serde(default)]
    pub immutable: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Signature {
    pub fn new(task: impl Into<String>, args: Vec<Value>) -> Self {
        Signature {
            task: task.into(),
            args,
            kwargs: Map::new(),
            options: Map::new(),
            subtask_type: None,
            immutable: false,
            extra: Map::new(),
        }
    }

    /// `options.task_id`: set once the signature is frozen (every chain step is).
    pub fn task_id(&self) -> Option<&str> {
        self.options.get("task_id").and_then(Value::as_str)
    }

    /// `options.queue`, or the routing key when it names no queue.
    pub fn queue(&self) -> Option<&str> {
        self.options
            .get("queue")
            .and_then(|q| q.as_str().or_else(|| q.get("name").and_then(Value::as_str)))
            .or_else(|| self.options.get("routing_key").and_then(Value::as_str))
    }

    /// Whether this is a group, chord or chain signature rather than a plain task.
    pub fn is_composite(&self) -> bool {
        self.subtask_type.is_some()
    }
}

/// `embed`: what runs after the task. `chain` holds the remaining steps in reverse order
/// (the last element runs next).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Embed {
    #[serde(default)]
    pub callbacks: Option<Vec<Signature>>,
    #[serde(default)]
    pub errbacks: Option<Vec<Signature>>,
    #[serde(default)]
    pub chain: Option<Vec<Signature>>,
    #[serde(default)]
    pub chord: Option<Value>,
}

/// The protocol-2 body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskBody {
    pub args: Vec<Value>,
    pub kwargs: Map<String, Value>,
    pub embed: Embed,
}

impl Serialize for TaskBody {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.args, &self.kwargs, &self.embed).serialize(s)
    }
}

impl<'de> Deserialize<'de> for TaskBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Celery unpacks exactly three elements; args must be a list, kwargs a map.
        let parts = Vec::<Value>::deserialize(d)?;
        let [args, kwargs, embed]: [Value; 3] = parts.try_into().map_err(|p: Vec<Value>| {
            D::Error::custom(format!(
                "the body must be [args, kwargs, embed], found {} elements",
                p.len()
            ))
        })?;
        let args = match args {
            Value::Array(a) => a,
            other => {
                return Err(D::Error::custom(format!(
                    "args must be a list, got {other}"
                )));
            }
        };
        let kwargs = match kwargs {
            Value::Object(m) => m,
            other => {
                return Err(D::Error::custom(format!(
                    "kwargs must be an object, got {other}"
                )));
            }
        };
        let embed = match embed {
            Value::Null => Embed::default(),
            e => Embed::deserialize(e).map_err(|e| D::Error::custom(format!("embed: {e}")))?,
        };
        Ok(TaskBody {
            args,
            kwargs,
            embed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_python_chain_body() {
        let body: TaskBody = serde_json::from_str(
            r#"[[2, 3], {}, {"callbacks": null, "errbacks": null, "chain": [{"task": "tasks.mul",
            "args": [10], "kwargs": {}, "options": {"task_id": "c2", "reply_to": "r"},
            "subtask_type": null, "immutable": false, "chord_size": null}], "chord": null}]"#,
        )
        .expect("body");
        assert_eq!(body.args, vec![Value::from(2), Value::from(3)]);
        let chain = body.embed.chain.expect("chain");
        assert_eq!(chain[0].task, "tasks.mul");
        assert_eq!(chain[0].task_id(), Some("c2"));
        assert!(chain[0].extra.contains_key("chord_size"));
    }

    #[test]
    fn writes_three_elements_and_refuses_bad_shapes() {
        let body = TaskBody {
            args: vec![Value::from(1)],
            ..TaskBody::default()
        };
        let json = serde_json::to_string(&body).expect("json");
        assert_eq!(
            json,
            r#"[[1],{},{"callbacks":null,"errbacks":null,"chain":null,"chord":null}]"#
        );
        let err = serde_json::from_str::<TaskBody>("[[1], {}]").expect_err("two elements");
        assert!(err.to_string().contains("found 2 elements"), "{err}");
        let err = serde_json::from_str::<TaskBody>(r#"[1, {}, {}]"#).expect_err("args");
        assert!(err.to_string().contains("args must be a list"), "{err}");
    }
}
