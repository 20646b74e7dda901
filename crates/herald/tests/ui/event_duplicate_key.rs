use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 1)]
#[event(name = "order.placed")]
struct OrderCreated {
    #[event(aggregate_id, aggregate_id)]
    id: String,
}

fn main() {}
