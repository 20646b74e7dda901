use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 1)]
struct OrderCreatedV0 {
    #[event(aggregate_id)]
    id: String,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 1, previous = OrderCreatedV0)]
struct OrderCreated {
    #[event(aggregate_id)]
    id: String,
}

fn main() {}
