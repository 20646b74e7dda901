// An invalid `#[event(...)]` is the only error: the type is still an `Event` wherever it is
// used, so no "trait `Event` is not implemented" follows.
use herald::{Context, Envelope, Event, HandlerError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.created", version = 0)]
struct OrderCreated {
    #[event(aggregate_id)]
    id: String,
}

fn publish<E: Event>(envelope: Envelope<E>) -> &'static str {
    let _ = envelope;
    E::NAME
}

#[herald::handler]
async fn ship(event: OrderCreated, ctx: &Context) -> Result<(), HandlerError> {
    let _ = (event, ctx);
    Ok(())
}

fn main() {
    let event = OrderCreated { id: "o-1".to_owned() };
    let _ = event.aggregate_id();
    let _ = publish(Envelope::new(event));
}
