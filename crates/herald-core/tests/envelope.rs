mod support;

use herald_core::{DecodeError, Envelope, Event, RawEnvelope};
use proptest::prelude::*;
use support::{OrderPlaced, OrderPlacedV1};

#[test]
fn new_envelope_fills_every_field() {
    let env = Envelope::new(support::order("o-1", "c-9"));
    assert_eq!(env.meta.event_type, "order.placed");
    assert_eq!(env.meta.schema_version, 2);
    assert_eq!(env.meta.aggregate_id, "o-1");
    assert_eq!(env.meta.partition_key, "c-9");
    assert_eq!(
        env.meta.event_id.get_version_num(),
        7,
        "event ids are UUIDv7"
    );
    assert_eq!(
        env.meta.correlation_id, env.meta.event_id,
        "a root event is its own correlation"
    );
    assert_eq!(env.meta.causation_id, None);
    assert_eq!(env.meta.idempotency_key, env.meta.event_id.to_string());
}

#[test]
fn wire_form_has_the_design_fields_at_the_top_level() {
    let env = Envelope::new(support::order("o-1", "c-9")).with_header("tenant", "acme");
    let json: serde_json::Value = serde_json::from_slice(&env.encode().unwrap()).unwrap();
    for field in [
        "event_id",
        "event_type",
        "schema_version",
        "aggregate_id",
        "partition_key",
        "timestamp",
        "correlation_id",
        "idempotency_key",
        "data",
        "headers",
    ] {
        assert!(json.get(field).is_some(), "missing `{field}` in {json}");
    }
    assert_eq!(json["data"]["total_cents"], 1_000);
    assert_eq!(json["headers"]["tenant"], "acme");
    assert!(
        json.get("causation_id").is_none(),
        "no causation on a root event"
    );
}

#[test]
fn caused_by_carries_correlation_and_sets_causation() {
    let first = Envelope::new(support::order("o-1", "c-9"));
    let second = Envelope::new(support::InvoiceSent {
        order_id: "o-1".into(),
    })
    .caused_by(&first.meta);
    assert_eq!(second.meta.correlation_id, first.meta.correlation_id);
    assert_eq!(second.meta.causation_id, Some(first.meta.event_id));
    assert_ne!(second.meta.event_id, first.meta.event_id);
}

#[test]
fn v1_payload_upcasts_into_the_current_type() {
    let v1 = Envelope::new(OrderPlacedV1 {
        order_id: "o-7".into(),
        amount: 12.34,
    });
    let decoded = Envelope::<OrderPlaced>::decode(&v1.encode().unwrap()).unwrap();
    assert_eq!(decoded.data.total_cents, 1234);
    assert_eq!(decoded.data.customer, "unknown");
    assert_eq!(
        decoded.meta.schema_version, 2,
        "decoded data is of the current version"
    );
    assert_eq!(decoded.meta.event_id, v1.meta.event_id);
}

#[test]
fn newer_version_is_an_error_naming_event_version_and_known_versions() {
    let mut env = Envelope::new(support::order("o-1", "c"));
    env.meta.schema_version = 3;
    let err = Envelope::<OrderPlaced>::decode(&env.encode().unwrap()).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::UnknownVersion { event: "order.placed", found: 3, ref known } if known == &[1, 2]
    ));
    assert_eq!(
        err.to_string(),
        "event `order.placed` has schema version 3, but this binary knows versions [1, 2]"
    );
}

#[test]
fn malformed_and_mismatched_payloads_are_errors() {
    assert!(matches!(
        Envelope::<OrderPlaced>::decode(b"not json"),
        Err(DecodeError::Malformed(_))
    ));
    assert!(matches!(
        Envelope::<OrderPlaced>::decode(br#"{"event_type":"order.placed"}"#),
        Err(DecodeError::Malformed(_))
    ));
    let other = Envelope::new(support::InvoiceSent {
        order_id: "o".into(),
    });
    assert!(matches!(
        Envelope::<OrderPlaced>::decode(&other.encode().unwrap()),
        Err(DecodeError::WrongEventType {
            expected: "order.placed",
            ..
        })
    ));
    let mut bad = serde_json::to_value(Envelope::new(support::order("o", "c"))).unwrap();
    bad["data"]["total_cents"] = "lots".into();
    let err = Envelope::<OrderPlaced>::decode(&serde_json::to_vec(&bad).unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::Data {
                event: "order.placed",
                version: 2,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn foreign_producers_may_leave_out_optional_metadata() {
    // What a producer in another language might send: the required fields only.
    let json = br#"{"event_id":"0190f5a4-7b2c-7cc0-8a1e-3c1b2d3e4f50","event_type":"order.placed",
        "schema_version":2,"aggregate_id":"o-1","timestamp":"2026-11-27T10:00:00Z",
        "data":{"order_id":"o-1","customer":"c","total_cents":5}}"#;
    let env = Envelope::<OrderPlaced>::decode(json).unwrap();
    assert_eq!(env.meta.partition_key, "o-1");
    assert_eq!(env.meta.correlation_id, env.meta.event_id);
    assert_eq!(env.meta.idempotency_key, env.meta.event_id.to_string());
    let raw = RawEnvelope::parse(json).unwrap();
    assert_eq!(
        raw.data.get(),
        r#"{"order_id":"o-1","customer":"c","total_cents":5}"#
    );
}

proptest! {
    #[test]
    fn envelope_round_trips(
        id in "[a-z0-9-]{1,20}",
        customer in "\\PC{0,30}",
        cents in any::<i64>(),
        headers in proptest::collection::btree_map("[a-z]{1,8}", "\\PC{0,16}", 0..4),
    ) {
        let mut env = Envelope::new(OrderPlaced { order_id: id, customer, total_cents: cents });
        env.meta.headers = headers;
        let back = Envelope::<OrderPlaced>::decode(&env.encode().unwrap()).unwrap();
        prop_assert_eq!(back, env);
    }

    #[test]
    fn any_v1_amount_upcasts_to_rounded_cents(id in "[a-z0-9]{1,10}", cents in -1_000_000_000i64..1_000_000_000) {
        let v1 = Envelope::new(OrderPlacedV1 { order_id: id, amount: cents as f64 / 100.0 });
        let v2 = Envelope::<OrderPlaced>::decode(&v1.encode().unwrap()).unwrap();
        prop_assert_eq!(v2.data.total_cents, cents);
        prop_assert_eq!(v2.data.order_id, v1.data.order_id);
    }
}

#[test]
fn schema_of_version_walks_the_chain() {
    let v2 = OrderPlaced::schema_of_version(2).unwrap();
    let v1 = OrderPlaced::schema_of_version(1).unwrap();
    assert!(v2["properties"].get("total_cents").is_some());
    assert!(v1["properties"].get("amount").is_some());
    assert!(OrderPlaced::schema_of_version(3).is_none());
}
