use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 1, idempotency_key = [id, total, id])]
struct OrderCreated {
    #[event(aggregate_id)]
    id: String,
    total_cents: i64,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.paid", version = 1, idempotency_key = [id])]
struct OrderPaid {
    #[event(aggregate_id, idempotency_key)]
    id: String,
}

fn main() {}
