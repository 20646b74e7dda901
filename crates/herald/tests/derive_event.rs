//! `#[derive(Event)]`: keys, the upcast chain through real envelopes, the catalog.

use herald::{DecodeError, Envelope, Event, RawEnvelope};
use proptest::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// Three versions of one event: v1 -> v2 (amount becomes cents) -> v3 (a currency added).

#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.placed", version = 1)]
struct OrderPlacedV1 {
    #[event(aggregate_id)]
    order_id: Uuid,
    amount: f64,
}

#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.placed", version = 2, previous = OrderPlacedV1)]
struct OrderPlacedV2 {
    #[event(aggregate_id)]
    order_id: Uuid,
    #[event(partition_key)]
    customer: String,
    total_cents: i64,
}

impl From<OrderPlacedV1> for OrderPlacedV2 {
    fn from(v1: OrderPlacedV1) -> Self {
        OrderPlacedV2 {
            order_id: v1.order_id,
            customer: "unknown".into(),
            total_cents: (v1.amount * 100.0).round() as i64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "order.placed", version = 3, previous = OrderPlacedV2)]
#[event(idempotency_key = [order_id, total_cents])]
struct OrderPlaced {
    #[event(aggregate_id)]
    order_id: Uuid,
    #[event(partition_key)]
    customer: String,
    total_cents: i64,
    currency: String,
}

impl From<OrderPlacedV2> for OrderPlaced {
    fn from(v2: OrderPlacedV2) -> Self {
        OrderPlaced {
            order_id: v2.order_id,
            customer: v2.customer,
            total_cents: v2.total_cents,
            currency: "EUR".into(),
        }
    }
}

/// A version chain with a gap: v2 never existed.
#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "user.renamed", version = 1)]
struct UserRenamedV1 {
    #[event(aggregate_id)]
    user: u64,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "user.renamed", version = 3, previous = UserRenamedV1)]
struct UserRenamed {
    #[event(aggregate_id, idempotency_key)]
    user: u64,
    display_name: String,
}

impl From<UserRenamedV1> for UserRenamed {
    fn from(v1: UserRenamedV1) -> Self {
        UserRenamed {
            user: v1.user,
            display_name: v1.name,
        }
    }
}

fn order_id() -> Uuid {
    Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0042)
}

/// Encodes `event` as an envelope, as a producer of that version would.
fn wire<E: Event>(event: E) -> Vec<u8> {
    Envelope::new(event).encode().expect("encodes")
}

#[test]
fn constants_and_keys() {
    assert_eq!(OrderPlaced::NAME, "order.placed");
    assert_eq!(OrderPlaced::VERSION, 3);
    assert_eq!(OrderPlacedV1::VERSION, 1);
    let e = OrderPlaced {
        order_id: order_id(),
        customer: "c-7".into(),
        total_cents: 1250,
        currency: "EUR".into(),
    };
    assert_eq!(e.aggregate_id(), order_id().to_string());
    assert_eq!(e.partition_key(), "c-7");
    assert_eq!(e.idempotency_key(), Some(format!("v2:{}:1250", order_id())));

    let envelope = Envelope::new(e);
    assert_eq!(envelope.meta.event_type, "order.placed");
    assert_eq!(envelope.meta.schema_version, 3);
    assert_eq!(envelope.meta.partition_key, "c-7");
    assert_eq!(
        envelope.meta.idempotency_key,
        format!("v2:{}:1250", order_id())
    );
}

#[test]
fn defaults_partition_key_to_the_aggregate_id_and_idempotency_key_to_the_event_id() {
    let v1 = OrderPlacedV1 {
        order_id: order_id(),
        amount: 1.0,
    };
    assert_eq!(v1.partition_key(), order_id().to_string());
    assert_eq!(v1.idempotency_key(), None);
    let envelope = Envelope::new(v1);
    assert_eq!(
        envelope.meta.idempotency_key,
        envelope.meta.event_id.to_string()
    );

    let renamed = UserRenamed {
        user: 9,
        display_name: "Ada".into(),
    };
    assert_eq!(renamed.partition_key(), "9");
    assert_eq!(renamed.idempotency_key(), Some("9".into()));
}

#[test]
fn known_versions_walk_the_chain() {
    assert_eq!(OrderPlacedV1::known_versions(), [1]);
    assert_eq!(OrderPlacedV2::known_versions(), [1, 2]);
    assert_eq!(OrderPlaced::known_versions(), [1, 2, 3]);
    assert_eq!(UserRenamed::known_versions(), [1, 3]);
}

#[test]
fn v1_and_v2_payloads_decode_into_v3() {
    let v1 = wire(OrderPlacedV1 {
        order_id: order_id(),
        amount: 12.5,
    });
    let raw = RawEnvelope::parse(&v1).expect("parses");
    assert_eq!(raw.meta.schema_version, 1);
    let decoded: Envelope<OrderPlaced> = raw.decode().expect("upcasts v1");
    assert_eq!(
        decoded.data,
        OrderPlaced {
            order_id: order_id(),
            customer: "unknown".into(),
            total_cents: 1250,
            currency: "EUR".into(),
        }
    );
    // After upcasting the envelope says which version the data now is.
    assert_eq!(decoded.meta.schema_version, 3);

    let v2 = wire(OrderPlacedV2 {
        order_id: order_id(),
        customer: "c-1".into(),
        total_cents: 99,
    });
    let decoded = Envelope::<OrderPlaced>::decode(&v2).expect("upcasts v2");
    assert_eq!(decoded.data.customer, "c-1");
    assert_eq!(decoded.data.total_cents, 99);
    assert_eq!(decoded.data.currency, "EUR");

    // v1 into v2 works too: each type is the head of its own chain.
    let decoded = Envelope::<OrderPlacedV2>::decode(&v1).expect("upcasts v1 to v2");
    assert_eq!(decoded.data.total_cents, 1250);
}

#[test]
fn a_newer_version_is_an_error_naming_event_found_and_known() {
    let v3 = wire(OrderPlaced {
        order_id: order_id(),
        customer: "c".into(),
        total_cents: 1,
        currency: "USD".into(),
    });
    let error = Envelope::<OrderPlacedV2>::decode(&v3).expect_err("v3 is unknown to v2");
    match &error {
        DecodeError::UnknownVersion {
            event,
            found,
            known,
        } => {
            assert_eq!(*event, "order.placed");
            assert_eq!(*found, 3);
            assert_eq!(known, &[1, 2]);
        }
        other => panic!("expected UnknownVersion, got {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("order.placed") && message.contains('3') && message.contains("[1, 2]"),
        "{message}"
    );
}

#[test]
fn a_version_missing_from_the_chain_is_unknown_with_the_whole_chain() {
    let error = UserRenamed::decode_data(2, r#"{"user":1,"name":"x"}"#).expect_err("no v2");
    match error {
        DecodeError::UnknownVersion {
            event,
            found,
            known,
        } => {
            assert_eq!((event, found, known), ("user.renamed", 2, vec![1, 3]));
        }
        other => panic!("expected UnknownVersion, got {other:?}"),
    }
    let error = UserRenamed::decode_data(0, "{}").expect_err("no v0");
    assert!(
        matches!(error, DecodeError::UnknownVersion { found: 0, .. }),
        "{error:?}"
    );
    let ok = UserRenamed::decode_data(1, r#"{"user":1,"name":"x"}"#).expect("v1 upcasts");
    assert_eq!(ok.display_name, "x");
}

#[test]
fn bad_data_of_an_old_version_names_that_version() {
    let error = OrderPlaced::decode_data(1, r#"{"order_id":"not a uuid","amount":1}"#)
        .expect_err("bad v1 data");
    match error {
        DecodeError::Data { event, version, .. } => {
            assert_eq!((event, version), ("order.placed", 1))
        }
        other => panic!("expected Data, got {other:?}"),
    }
}

#[test]
fn schema_of_version_walks_the_chain() {
    let v1 = OrderPlaced::schema_of_version(1).expect("v1 schema");
    assert_eq!(v1, OrderPlacedV1::schema());
    assert!(v1["properties"].get("amount").is_some());
    assert_eq!(
        OrderPlaced::schema_of_version(2),
        Some(OrderPlacedV2::schema())
    );
    assert_eq!(
        OrderPlaced::schema_of_version(3),
        Some(OrderPlaced::schema())
    );
    assert_eq!(OrderPlaced::schema_of_version(4), None);
    assert_eq!(UserRenamed::schema_of_version(2), None);
}

#[test]
fn the_catalog_lists_every_derived_version() {
    let listed: Vec<(&str, u32, &str)> = herald::catalog::events()
        .into_iter()
        .map(|e| (e.name, e.version, e.rust_type))
        .collect();
    assert_eq!(
        listed,
        [
            ("order.placed", 1, "derive_event::OrderPlacedV1"),
            ("order.placed", 2, "derive_event::OrderPlacedV2"),
            ("order.placed", 3, "derive_event::OrderPlaced"),
            ("user.renamed", 1, "derive_event::UserRenamedV1"),
            ("user.renamed", 3, "derive_event::UserRenamed"),
        ]
    );
    let v3 = herald::catalog::events()
        .into_iter()
        .find(|e| e.name == "order.placed" && e.version == 3)
        .expect("listed");
    assert_eq!((v3.schema)(), OrderPlaced::schema());
}

proptest! {
    /// Any v1 payload decodes into v3 exactly as the `From` chain says, through the
    /// envelope's bytes.
    #[test]
    fn upcasting_v1_equals_the_from_chain(id in any::<u128>(), cents in -1_000_000_000i64..1_000_000_000) {
        let v1 = OrderPlacedV1 { order_id: Uuid::from_u128(id), amount: cents as f64 / 100.0 };
        let expected = OrderPlaced::from(OrderPlacedV2::from(v1.clone()));
        let decoded = Envelope::<OrderPlaced>::decode(&wire(v1)).expect("decodes");
        prop_assert_eq!(&decoded.data, &expected);
        prop_assert_eq!(decoded.meta.aggregate_id, Uuid::from_u128(id).to_string());
    }

    /// A v2 payload decodes into v3 as `From` says; v3 round trips unchanged.
    #[test]
    fn upcasting_v2_and_round_trip_v3(
        id in any::<u128>(),
        customer in "[a-z0-9-]{0,12}",
        cents in any::<i64>(),
        currency in "[A-Z]{3}",
    ) {
        let v2 = OrderPlacedV2 { order_id: Uuid::from_u128(id), customer: customer.clone(), total_cents: cents };
        let decoded = Envelope::<OrderPlaced>::decode(&wire(v2.clone())).expect("decodes");
        prop_assert_eq!(&decoded.data, &OrderPlaced::from(v2));

        let v3 = OrderPlaced { order_id: Uuid::from_u128(id), customer, total_cents: cents, currency };
        let envelope = Envelope::new(v3.clone());
        let decoded = Envelope::<OrderPlaced>::decode(&envelope.encode().expect("encodes")).expect("decodes");
        prop_assert_eq!(decoded, envelope);
    }

    /// Every version outside the chain is refused, never dropped or guessed.
    #[test]
    fn versions_outside_the_chain_are_refused(version in any::<u32>()) {
        prop_assume!(![1, 3].contains(&version));
        let result = UserRenamed::decode_data(version, r#"{"user":1,"display_name":"x","name":"x"}"#);
        let is_unknown_version = matches!(result, Err(DecodeError::UnknownVersion { found, .. }) if found == version);
        prop_assert!(is_unknown_version);
    }
}
