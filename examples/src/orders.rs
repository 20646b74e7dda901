//! An order service: orders are placed, then paid. `order.placed` went from v1 (a float
//! `amount`) to v2 (integer cents and a customer); old producers still send v1.

use std::collections::HashMap;
use std::sync::Mutex;

use herald::{Context, Event, HandlerError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// v1, as the old checkout service still publishes it.
#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.placed", version = 1)]
pub struct OrderPlacedV1 {
    #[event(aggregate_id)]
    pub order_id: String,
    /// In euros, as a float: why v2 exists.
    pub amount: f64,
}

/// v2: money in integer cents, and the customer, which orders processing per customer.
#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.placed", version = 2, previous = OrderPlacedV1)]
pub struct OrderPlaced {
    #[event(aggregate_id)]
    pub order_id: String,
    #[event(partition_key)]
    pub customer_id: String,
    pub total_cents: i64,
}

impl From<OrderPlacedV1> for OrderPlaced {
    fn from(v1: OrderPlacedV1) -> Self {
        OrderPlaced {
            order_id: v1.order_id,
            // v1 did not know the customer.
            customer_id: "unknown".into(),
            total_cents: (v1.amount * 100.0).round() as i64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "payment.requested", version = 1)]
pub struct PaymentRequested {
    #[event(aggregate_id)]
    pub order_id: String,
    pub amount_cents: i64,
}

/// The card gateway: how it answers, per order (a stand-in for a remote service the
/// example can script, so every run tells the same story).
#[derive(Debug, Default)]
pub struct Gateway {
    /// Order id -> how many more calls time out (u32::MAX: the gateway is down for it).
    pub timeouts: Mutex<HashMap<String, u32>>,
    pub declined: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("card declined")]
    Declined,
    #[error("gateway timed out")]
    Timeout,
}

/// Turns a placed order into a payment request. Idempotent: a duplicate delivery of the
/// same order event is skipped by the worker before this runs.
#[herald::handler(name = "orders.request_payment", max_attempts = 3)]
pub async fn request_payment(event: OrderPlaced, ctx: &Context) -> Result<(), HandlerError> {
    println!(
        "  [orders.request_payment] order {} of customer {}: {:.2} EUR (attempt {})",
        event.order_id,
        event.customer_id,
        event.total_cents as f64 / 100.0,
        ctx.attempt()
    );
    let sent = ctx
        .publish(PaymentRequested {
            order_id: event.order_id,
            amount_cents: event.total_cents,
        })
        .await
        .map_err(HandlerError::retryable)?;
    println!(
        "  [orders.request_payment] published payment.requested {} (correlation {}, caused by {})",
        sent.event_id,
        sent.correlation_id,
        ctx.event_id()
    );
    Ok(())
}

/// Charges the card. Timeouts are retried with exponential backoff and full jitter; a
/// declined card is permanent and goes to the dead-letter queue at once.
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
        .expect("the worker is given a Gateway");
    if gateway.declined.contains(&event.order_id) {
        println!(
            "  [payments.charge] order {}: card declined (attempt {})",
            event.order_id,
            ctx.attempt()
        );
        return Err(PaymentError::Declined);
    }
    let timed_out = {
        let mut timeouts = gateway.timeouts.lock().unwrap_or_else(|p| p.into_inner());
        match timeouts.get_mut(&event.order_id) {
            Some(left) if *left > 0 => {
                *left = left.saturating_sub(1);
                true
            }
            _ => false,
        }
    };
    if timed_out {
        println!(
            "  [payments.charge] order {}: gateway timed out (attempt {})",
            event.order_id,
            ctx.attempt()
        );
        return Err(PaymentError::Timeout);
    }
    println!(
        "  [payments.charge] order {}: charged {:.2} EUR (attempt {})",
        event.order_id,
        event.amount_cents as f64 / 100.0,
        ctx.attempt()
    );
    Ok(())
}
