use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 3)]
struct OrderCreatedV3 {
    #[event(aggregate_id)]
    id: String,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 2, previous = OrderCreatedV3)]
struct OrderCreated {
    #[event(aggregate_id)]
    id: String,
}

impl From<OrderCreatedV3> for OrderCreated {
    fn from(v: OrderCreatedV3) -> Self {
        OrderCreated { id: v.id }
    }
}

fn main() {}
