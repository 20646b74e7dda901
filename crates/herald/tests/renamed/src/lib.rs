//! Uses herald only under the name `events`: no `herald` path exists in this crate.

use events::{Envelope, Event, Handler};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "parcel.sent", version = 1)]
pub struct ParcelSentV1 {
    #[event(aggregate_id)]
    pub parcel: String,
}

#[derive(Debug, PartialEq, Event, Serialize, Deserialize, JsonSchema)]
#[event(name = "parcel.sent", version = 2, previous = ParcelSentV1)]
pub struct ParcelSent {
    #[event(aggregate_id)]
    pub parcel: String,
    pub carrier: String,
}

impl From<ParcelSentV1> for ParcelSent {
    fn from(v1: ParcelSentV1) -> Self {
        ParcelSent {
            parcel: v1.parcel,
            carrier: "post".into(),
        }
    }
}

#[derive(Debug)]
pub struct Lost;

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("lost")
    }
}

impl std::error::Error for Lost {}

#[events::handler(max_attempts = 2, permanent(Lost), idempotency_key = [parcel])]
pub async fn track(_event: ParcelSent, _ctx: &events::Context) -> Result<(), Lost> {
    Ok(())
}

#[test]
fn derived_code_uses_the_renamed_dependency() {
    let bytes = Envelope::new(ParcelSentV1 { parcel: "p1".into() })
        .encode()
        .expect("encodes");
    let decoded = Envelope::<ParcelSent>::decode(&bytes).expect("upcasts");
    assert_eq!(decoded.data.carrier, "post");
    assert_eq!(ParcelSent::known_versions(), [1, 2]);
    assert_eq!(Track.name(), "track");
    assert_eq!(Track.retry_policy().max_attempts, 2);
    assert_eq!(Track.idempotency_key(&decoded), "p1");
    assert_eq!(events::catalog::events().len(), 2);
}
