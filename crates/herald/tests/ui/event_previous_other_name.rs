use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.placed", version = 1)]
struct OrderPlaced {
    #[event(aggregate_id)]
    id: String,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 2, previous = OrderPlaced)]
struct OrderCreated {
    #[event(aggregate_id)]
    id: String,
}

impl From<OrderPlaced> for OrderCreated {
    fn from(v: OrderPlaced) -> Self {
        OrderCreated { id: v.id }
    }
}

fn main() {}
