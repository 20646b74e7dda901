use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order created", version = 1)]
struct OrderCreated {
    #[event(aggregate_id)]
    id: String,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "", version = 1)]
struct OrderShipped {
    #[event(aggregate_id)]
    id: String,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order..paid", version = 1)]
struct OrderPaid {
    #[event(aggregate_id)]
    id: String,
}

fn main() {}
