//! The root README's "Evolving events" table, row by row: two versions of a struct run
//! through `#[derive(Event)]` (its default, closed content model) and the compatibility
//! engine, with the verdict the table states under BACKWARD, FORWARD and FULL.

use herald::Event;
use herald_schema::{CompatibilityLevel, NoReferences, Policy};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Compatible under BACKWARD, FORWARD and FULL (STRICT), as the table's ✔ and ✘.
fn verdicts<Old: Event, New: Event>() -> [&'static str; 3] {
    let mut old = Old::schema();
    // One struct edited in place: its title (the type's name) stays.
    old["title"] = New::schema()["title"].clone();
    [
        CompatibilityLevel::Backward,
        CompatibilityLevel::Forward,
        CompatibilityLevel::Full,
    ]
    .map(|level| {
        let report = herald_schema::check(
            level,
            Policy::Strict,
            &New::schema(),
            std::slice::from_ref(&old),
            &NoReferences,
        )
        .expect("the derived schemas are valid");
        if report.is_compatible { "✔" } else { "✘" }
    })
}

macro_rules! event {
    ($name:ident $(, #[$attr:meta])* { $($field:tt)* }) => {
        #[derive(Event, Serialize, Deserialize, JsonSchema)]
        #[event(name = "evolving", version = 1)]
        $(#[$attr])*
        #[allow(dead_code)]
        struct $name {
            #[event(aggregate_id)]
            id: String,
            $($field)*
        }
    };
}

#[derive(Serialize, Deserialize, JsonSchema)]
enum Status {
    Open,
    Paid,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename = "Status")]
enum StatusWithRefunded {
    Open,
    Paid,
    Refunded,
}

event!(Base {});
event!(OptionalNote { note: Option<String>, });
event!(RequiredAmount { amount: i64 });
event!(DefaultedAmount {
    #[serde(default)]
    amount: i64,
});
event!(RenamedAmount { total: i64 });
event!(Int32 { amount: i32 });
event!(Number { amount: f64 });
event!(WithStatus { status: Status });
event!(WithMoreStatus {
    status: StatusWithRefunded,
});
event!(Documented, #[doc = "An event, documented."] { #[doc = "Who."] who: String, });
event!(Undocumented { who: String });
event!(
    OpenBase,
    #[event(content_model = "open")]
    {}
);
event!(OpenNote, #[event(content_model = "open")] { note: Option<String>, });

// Each row: the change, its verdicts under BACKWARD, FORWARD and FULL, as in the README.

#[test]
fn add_an_optional_field() {
    assert_eq!(verdicts::<Base, OptionalNote>(), ["✔", "✘", "✘"]);
}

#[test]
fn add_a_required_field() {
    assert_eq!(verdicts::<Base, RequiredAmount>(), ["✘", "✘", "✘"]);
}

#[test]
fn add_a_required_field_with_serde_default() {
    // schemars makes a `#[serde(default)]` field optional, with its default.
    assert_eq!(verdicts::<Base, DefaultedAmount>(), ["✔", "✘", "✘"]);
}

#[test]
fn remove_an_optional_field() {
    assert_eq!(verdicts::<OptionalNote, Base>(), ["✘", "✔", "✘"]);
}

#[test]
fn remove_a_required_field() {
    assert_eq!(verdicts::<RequiredAmount, Base>(), ["✘", "✘", "✘"]);
}

#[test]
fn rename_a_field() {
    assert_eq!(verdicts::<RequiredAmount, RenamedAmount>(), ["✘", "✘", "✘"]);
}

#[test]
fn widen_and_narrow_an_integer() {
    // JSON Schema has one integer type; schemars writes the width as `format` (int32,
    // int64), which the rules do not compare: the check cannot tell these apart.
    assert_eq!(verdicts::<Int32, RequiredAmount>(), ["✔", "✔", "✔"]);
    assert_eq!(verdicts::<RequiredAmount, Int32>(), ["✔", "✔", "✔"]);
}

#[test]
fn widen_an_integer_to_a_number() {
    assert_eq!(verdicts::<RequiredAmount, Number>(), ["✔", "✘", "✘"]);
}

#[test]
fn narrow_a_number_to_an_integer() {
    assert_eq!(verdicts::<Number, RequiredAmount>(), ["✘", "✔", "✘"]);
}

#[test]
fn add_an_enum_value() {
    assert_eq!(verdicts::<WithStatus, WithMoreStatus>(), ["✔", "✘", "✘"]);
}

#[test]
fn remove_an_enum_value() {
    assert_eq!(verdicts::<WithMoreStatus, WithStatus>(), ["✘", "✔", "✘"]);
}

#[test]
fn change_a_doc_comment() {
    assert_eq!(verdicts::<Undocumented, Documented>(), ["✔", "✔", "✔"]);
    // And the drift test needs no new version for it: annotations only.
    assert!(herald_schema::same_apart_from_annotations(
        &Undocumented::schema(),
        &Documented::schema()
    ));
}

/// The open model, for contrast: the common change (an optional field) breaks BACKWARD.
#[test]
fn an_open_model_inverts_add_and_remove() {
    assert_eq!(verdicts::<OpenBase, OpenNote>(), ["✘", "✔", "✘"]);
    assert_eq!(verdicts::<OpenNote, OpenBase>(), ["✔", "✘", "✘"]);
    assert!(OpenBase::schema().get("additionalProperties").is_none());
}
