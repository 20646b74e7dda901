//! Delayed redelivery (retry and requeue) without holding up the stream: the message waits
//! in the sorted set `<stream>.retry`, scored by its due time in Redis's clock, its fields in
//! the hash `<stream>.retry:<member>`; a mover puts due messages back at the stream's end.
//! Both sides are Lua scripts, which Redis runs one at a time, so a message is in the set or
//! in the stream, never both and never neither, however many movers run.

use std::time::Duration;

use herald_core::{Headers, TransportError};
use redis::Script;
use redis::aio::ConnectionManager;

use super::{fields, millis, names, transport};

// Schedule: keep the message's fields, score it by now + delay, and ack the delivered entry,
// in one step (a crash between them can neither lose nor double the message).
// KEYS: retry set, message hash, stream. ARGV: group, entry id, delay ms, member, fields...
const SCHEDULE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
redis.call('XACK', KEYS[3], ARGV[1], ARGV[2])
return 1
";

// Move: every due message (at most ARGV[1]) back into the stream, out of the set.
// KEYS: retry set, stream. ARGV: limit, prefix of the message hashes.
const MOVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  local hash = ARGV[2] .. member
  local fields = redis.call('HGETALL', hash)
  if #fields > 0 then
    redis.call('XADD', KEYS[2], '*', unpack(fields))
  end
  redis.call('DEL', hash)
  redis.call('ZREM', KEYS[1], member)
end
return #due
";

/// The two scripts, loaded once per subscriber.
#[derive(Debug, Clone)]
pub(crate) struct RetryScripts {
    schedule: Script,
    mover: Script,
}

impl Default for RetryScripts {
    fn default() -> Self {
        RetryScripts {
            schedule: Script::new(SCHEDULE),
            mover: Script::new(MOVE),
        }
    }
}

/// One message to put back later.
pub(crate) struct Scheduled<'a> {
    pub stream: &'a str,
    pub group: &'a str,
    pub entry_id: &'a str,
    pub delay: Duration,
    pub key: &'a str,
    pub headers: &'a Headers,
    pub payload: &'a [u8],
}

impl RetryScripts {
    /// Puts the message into the retry set due after `delay` and acks its entry.
    pub(crate) async fn schedule(
        &self,
        conn: &mut ConnectionManager,
        m: Scheduled<'_>,
    ) -> Result<(), TransportError> {
        let member = uuid::Uuid::now_v7().simple().to_string();
        let hash = format!("{}{member}", names::retry_message_prefix(m.stream));
        let mut invocation = self.schedule.key(names::retry_set(m.stream));
        invocation
            .key(hash)
            .key(m.stream)
            .arg(m.group)
            .arg(m.entry_id)
            .arg(delay_millis(m.delay))
            .arg(member);
        // The fields as XADD will get them back: the same as a publish writes.
        fields::each_arg(m.key, m.headers, m.payload, |a| {
            invocation.arg(a);
        });
        let _: i64 = invocation.invoke_async(conn).await.map_err(transport)?;
        Ok(())
    }

    /// Moves the due messages of `stream` (at most `limit`) back into it; how many moved.
    pub(crate) async fn move_due(
        &self,
        conn: &mut ConnectionManager,
        stream: &str,
        limit: usize,
    ) -> Result<usize, TransportError> {
        self.mover
            .key(names::retry_set(stream))
            .key(stream)
            .arg(limit)
            .arg(names::retry_message_prefix(stream))
            .invoke_async(conn)
            .await
            .map_err(transport)
    }
}

/// A delay of zero is due at once.
fn delay_millis(d: Duration) -> u64 {
    if d.is_zero() { 0 } else { millis(d) }
}
