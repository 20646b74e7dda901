//! The README's "Events" and "Handlers": an order event with a v1 -> v2 upcast, and the
//! handlers that turn an order into a payment and charge it.

use herald::Event;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.placed", version = 1)]
pub struct OrderPlacedV1 {
    #[event(aggregate_id)]
    pub order_id: String,
    pub amount: f64,
}

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.placed", version = 2, previous = OrderPlacedV1)]
pub struct OrderPlaced {
    #[event(aggregate_id)]
    pub order_id: String,
    #[event(partition_key)] // optional: defaults to the aggregate id
    pub customer_id: String,
    pub total_cents: i64,
}

impl From<OrderPlacedV1> for OrderPlaced {
    fn from(v1: OrderPlacedV1) -> Self {
        OrderPlaced {
            customer_id: "unknown".to_owned(),
            total_cents: (v1.amount * 100.0).round() as i64,
            order_id: v1.order_id,
        }
    }
}

use herald::{Context, HandlerError};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "payment.requested", version = 1)]
pub struct PaymentRequested {
    #[event(aggregate_id)]
    pub order_id: String,
    pub amount_cents: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("card declined")]
    Declined,
    #[error("the payment gateway is unreachable")]
    Unreachable,
}

/// The card payment gateway (here it accepts every card but those it was told to decline).
#[derive(Debug, Default)]
pub struct Gateway {
    pub declined: Vec<String>,
}

impl Gateway {
    pub async fn charge(&self, order_id: &str, _cents: i64) -> Result<(), PaymentError> {
        if self.declined.iter().any(|o| o == order_id) {
            return Err(PaymentError::Declined);
        }
        Ok(())
    }
}

#[herald::handler(name = "orders.request_payment", max_attempts = 3)]
pub async fn request_payment(event: OrderPlaced, ctx: &Context) -> Result<(), HandlerError> {
    let request = PaymentRequested {
        order_id: event.order_id,
        amount_cents: event.total_cents,
    };
    ctx.publish(request)
        .await
        .map_err(HandlerError::retryable)?;
    Ok(())
}

#[herald::handler(
    name = "payments.charge",
    max_attempts = 4,
    initial_delay = "100ms",
    multiplier = 2.0,
    max_delay = "1s",
    jitter = "full",
    permanent(PaymentError::Declined)
)]
pub async fn charge_card(event: PaymentRequested, ctx: &Context) -> Result<(), PaymentError> {
    let gateway = ctx
        .extension::<Gateway>()
        .ok_or(PaymentError::Unreachable)?;
    gateway.charge(&event.order_id, event.amount_cents).await
}
