use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 1)]
struct OrderCreated<T> {
    #[event(aggregate_id)]
    id: String,
    payload: T,
}

fn main() {}
