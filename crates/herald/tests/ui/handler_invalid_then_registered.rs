// An invalid `#[herald::handler(...)]` is the only error: the handler type still exists and
// implements `Handler`, so registering it with a worker adds no error.
use herald::{Context, Event, Handler, Worker};
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

#[herald::handler(max_attempts = 0)]
async fn charge(event: OrderCreated, ctx: &Context) -> Result<(), PaymentError> {
    let _ = (event, ctx);
    Ok(())
}

#[herald::handler(struct_name = RefundOrder)]
async fn refund(event: &OrderCreated, ctx: &Context) -> Result<(), PaymentError> {
    let _ = (event, ctx);
    Ok(())
}

fn for_orders<H: Handler<Event = OrderCreated>>(handler: H) -> H {
    handler
}

fn main() {
    let _ = for_orders(Charge).name();
    let _worker = Worker::builder().handler(Charge).handler(for_orders(RefundOrder)).build();
}
