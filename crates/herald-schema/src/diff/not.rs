//! `not`: the inner schemas compare the other way round (what the old one rejected must stay
//! rejected).

use super::{Differ, RawDiff, T};
use crate::json::Json;
use crate::model::NodeId;

impl<J: Json> Differ<'_, '_, J> {
    pub(super) fn not(&mut self, o: NodeId, u: NodeId, out: &mut Vec<RawDiff>) {
        self.at("not", |d| {
            d.flipped = !d.flipped;
            let sub = d.sub(Some(u), Some(o));
            d.flipped = !d.flipped;
            // Confluent reports NOT_TYPE_NARROWED even for identical inner schemas; herald
            // reports nothing when nothing changed.
            if sub.is_empty() {
                return;
            }
            let kind = if d.compatible(&sub) {
                T::NotTypeNarrowed
            } else {
                T::NotTypeExtended
            };
            d.add(out, kind);
        });
    }
}
