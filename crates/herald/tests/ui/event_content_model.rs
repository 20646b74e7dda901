use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 1, content_model = "partial")]
struct OrderCreated {
    #[event(aggregate_id)]
    id: String,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 2, content_model = open)]
struct OrderCreatedV2 {
    #[event(aggregate_id)]
    id: String,
}

fn main() {}
