//! kombu's ack emulation: a message being worked on sits in the hash `unacked`
//! (delivery tag -> `[envelope, exchange, routing_key]`) and the sorted set
//! `unacked_index` (delivery tag -> unix time of delivery). Any worker, Python or Rust,
//! puts a message older than the visibility timeout back on its queue.

use std::sync::LazyLock;
use std::time::Duration;

use crate::redis_conn::Conn;
use redis::{Script, Value as RedisValue};
use serde_json::Value;

use super::{RedisOptions, list_for_priority};
use crate::CeleryError;

pub const UNACKED: &str = "unacked";
pub const UNACKED_INDEX: &str = "unacked_index";
const MUTEX: &str = "unacked_mutex";
/// kombu's `unacked_mutex_expire`.
const MUTEX_EXPIRE: Duration = Duration::from_secs(300);
/// kombu's `unacked_restore_limit` is unbounded by default; one scan restores this many.
const RESTORE_LIMIT: usize = 1000;

/// Pops up to ARGV[1] messages, highest priority first, recording each in `unacked` at
/// time ARGV[2] in the same step (kombu does the two apart; here nothing is lost between).
/// KEYS[1], KEYS[2]: unacked, unacked_index; KEYS[3..]: the lists; ARGV[3..]: their queue.
static POP_BATCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local out = {}
local max = tonumber(ARGV[1])
local taken = 0
for i = 3, #KEYS do
  while taken < max do
    local m = redis.call('RPOP', KEYS[i])
    if not m then break end
    local ok, env = pcall(cjson.decode, m)
    if ok and type(env) == 'table' and type(env.properties) == 'table'
        and type(env.properties.delivery_tag) == 'string' then
      local tag = env.properties.delivery_tag
      redis.call('ZADD', KEYS[2], ARGV[2], tag)
      redis.call('HSET', KEYS[1], tag, '[' .. m .. ', "", ' .. cjson.encode(ARGV[i]) .. ']')
    end
    taken = taken + 1
    out[#out + 1] = ARGV[i]
    out[#out + 1] = m
  end
  if taken >= max then break end
end
return out
"#,
    )
});

/// Moves one unacked message back to a queue, unless someone acked or restored it first.
/// KEYS: unacked, unacked_index, destination list; ARGV: tag, envelope, "left"|"right".
static RESTORE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[3] == 'left' then
  redis.call('LPUSH', KEYS[3], ARGV[2])
else
  redis.call('RPUSH', KEYS[3], ARGV[2])
end
return 1
"#,
    )
});

/// Releases the scan mutex only if this scanner still holds it.
static RELEASE_MUTEX: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#,
    )
});

pub fn now_secs() -> f64 {
    chrono::Utc::now().timestamp_micros() as f64 / 1e6
}

/// Pops up to `max` messages from `lists` (each with its queue name), recorded as unacked.
pub async fn pop_batch(
    conn: &mut Conn,
    lists: &[(String, String)],
    max: usize,
) -> Result<Vec<(String, String)>, CeleryError> {
    let mut inv = POP_BATCH.prepare_invoke();
    inv.key(UNACKED).key(UNACKED_INDEX).arg(max).arg(now_secs());
    for (list, queue) in lists {
        inv.key(list).arg(queue);
    }
    let flat: Vec<String> = inv.invoke_async(conn).await?;
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(q), Some(m)) = (it.next(), it.next()) {
        out.push((q, m));
    }
    Ok(out)
}

/// Records a message BRPOP handed out, as kombu's `QoS.append` does.
pub async fn record(conn: &mut Conn, tag: &str, queue: &str, raw: &str) -> Result<(), CeleryError> {
    let entry = format!("[{raw}, \"\", {}]", Value::from(queue));
    redis::pipe()
        .atomic()
        .zadd(UNACKED_INDEX, tag, now_secs())
        .ignore()
        .hset(UNACKED, tag, entry)
        .ignore()
        .query_async::<()>(conn)
        .await?;
    Ok(())
}

/// Ack (and reject without requeue): forget the message.
pub async fn forget(conn: &mut Conn, tag: &str) -> Result<(), CeleryError> {
    redis::pipe()
        .zrem(UNACKED_INDEX, tag)
        .ignore()
        .hdel(UNACKED, tag)
        .ignore()
        .query_async::<()>(conn)
        .await?;
    Ok(())
}

/// Puts an unacked message back on its queue (the priority list its priority maps to),
/// marked redelivered: at the front (`leftmost` false: popped next, as a visibility
/// restore does) or at the back (a reject with requeue). Returns whether it was there.
pub async fn restore(
    conn: &mut Conn,
    options: &RedisOptions,
    tag: &str,
    leftmost: bool,
) -> Result<bool, CeleryError> {
    let entry: Option<String> = redis::cmd("HGET")
        .arg(UNACKED)
        .arg(tag)
        .query_async(conn)
        .await?;
    let Some(entry) = entry else {
        forget(conn, tag).await?;
        return Ok(false);
    };
    let parsed: Option<(Value, String, String)> = serde_json::from_str(&entry).ok();
    let Some((mut envelope, _exchange, routing_key)) = parsed else {
        tracing::warn!(
            tag,
            "unacked entry is not [envelope, exchange, routing_key]; dropped"
        );
        forget(conn, tag).await?;
        return Ok(false);
    };
    if let Some(h) = envelope.get_mut("headers").and_then(Value::as_object_mut) {
        h.insert("redelivered".into(), Value::Bool(true));
    }
    if let Some(di) = envelope
        .pointer_mut("/properties/delivery_info")
        .and_then(Value::as_object_mut)
    {
        di.insert("redelivered".into(), Value::Bool(true));
    }
    let priority = envelope
        .pointer("/properties/priority")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let list = list_for_priority(options, &routing_key, priority);
    let moved: i64 = RESTORE
        .key(UNACKED)
        .key(UNACKED_INDEX)
        .key(list)
        .arg(tag)
        .arg(envelope.to_string())
        .arg(if leftmost { "left" } else { "right" })
        .invoke_async(conn)
        .await?;
    Ok(moved == 1)
}

/// kombu's `QoS.restore_visible`: under the `unacked_mutex` lock (skipped when another
/// worker holds it), every message delivered more than `visibility_timeout` ago goes back
/// to the front of its queue. Returns how many were restored.
pub async fn restore_visible(
    conn: &mut Conn,
    options: &RedisOptions,
) -> Result<usize, CeleryError> {
    let token = uuid::Uuid::new_v4().to_string();
    let locked: RedisValue = redis::cmd("SET")
        .arg(MUTEX)
        .arg(&token)
        .arg("NX")
        .arg("PX")
        .arg(MUTEX_EXPIRE.as_millis() as u64)
        .query_async(conn)
        .await?;
    if locked == RedisValue::Nil {
        return Ok(0);
    }
    let ceiling = now_secs() - options.visibility_timeout.as_secs_f64();
    let scanned: Result<Vec<String>, _> = redis::cmd("ZREVRANGEBYSCORE")
        .arg(UNACKED_INDEX)
        .arg(ceiling)
        .arg(0)
        .arg("LIMIT")
        .arg(0)
        .arg(RESTORE_LIMIT)
        .query_async(conn)
        .await;
    let mut restored = 0;
    let mut result = Ok(());
    match scanned {
        Ok(tags) => {
            for tag in tags {
                match restore(conn, options, &tag, false).await {
                    Ok(true) => restored += 1,
                    Ok(false) => {}
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        Err(e) => result = Err(e.into()),
    }
    let _: Result<i64, _> = RELEASE_MUTEX
        .key(MUTEX)
        .arg(&token)
        .invoke_async(conn)
        .await;
    if restored > 0 {
        tracing::info!(
            restored,
            "restored unacked messages past the visibility timeout"
        );
    }
    result.map(|()| restored)
}
