use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 1)]
struct OrderCreated {
    #[event(aggregate_id, partition_key)]
    id: String,
    #[event(partition_key)]
    customer: String,
}

fn main() {}
