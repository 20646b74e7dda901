use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 1, topic = "orders")]
struct OrderCreated {
    #[event(aggregate_id)]
    id: String,
    #[event(partition)]
    customer: String,
    #[event(aggregate_id = true)]
    other: String,
}

fn main() {}
