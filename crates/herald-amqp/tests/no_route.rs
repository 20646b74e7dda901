//! An event type published without `Producer::route`: RabbitMQ has no exchange of the event
//! type's name, and the error says how to route it. Against the real RabbitMQ.

mod common;

use common::{connect, unique};
use herald::{Event, Producer, PublishError, TransportError};
use herald_amqp::{OutagePolicy, Topology};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "herald-test.unrouted", version = 1)]
struct Unrouted {
    #[event(aggregate_id)]
    id: String,
}

#[tokio::test]
async fn an_event_type_without_a_route_fails_with_how_to_route_it() {
    let amqp = connect(Topology::new()).await;
    let publisher = amqp.publisher().with_outage_policy(OutagePolicy::FailFast);

    let err = Producer::new(publisher.clone())
        .publish(Unrouted { id: "u-1".into() })
        .await
        .expect_err("no exchange is named like the event type");
    let PublishError::Transport(TransportError::Rejected(why)) = &err else {
        panic!("expected a rejection, got {err:?}");
    };
    assert!(why.contains("NOT_FOUND"), "the broker's reason: {why}");
    assert!(
        why.contains("Producer::route(\"herald-test.unrouted\", \"<exchange>\")"),
        "says how to route it: {why}"
    );

    // An exchange named by a route that the topology does not declare.
    let missing = unique("missing");
    let err = Producer::new(publisher)
        .route(Unrouted::NAME, &missing)
        .publish(Unrouted { id: "u-2".into() })
        .await
        .expect_err("the routed exchange does not exist");
    assert!(
        err.to_string()
            .contains(&format!("declare exchange `{missing}` in the Topology")),
        "{err}"
    );
    amqp.close().await.expect("close");
}
