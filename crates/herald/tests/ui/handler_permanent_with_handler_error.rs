use herald::{Context, Event};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 1)]
struct OrderCreated {
    #[event(aggregate_id)]
    id: String,
}

#[derive(Debug)]
struct PaymentError;
impl std::fmt::Display for PaymentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("payment failed")
    }
}
impl std::error::Error for PaymentError {}

#[herald::handler(permanent(_))]
async fn charge(event: OrderCreated, ctx: &Context) -> Result<(), herald::HandlerError> {
    let _ = (event, ctx);
    Ok(())
}

fn main() {}
