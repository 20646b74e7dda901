use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
struct OrderCreated {
    #[event(aggregate_id)]
    id: String,
}

fn main() {}
