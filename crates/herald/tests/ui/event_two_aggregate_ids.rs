use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 1)]
struct OrderCreated {
    #[event(aggregate_id)]
    id: String,
    #[event(aggregate_id)]
    other_id: String,
}

fn main() {}
