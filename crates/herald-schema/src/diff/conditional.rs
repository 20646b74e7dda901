//! `if` / `then` / `else` (a herald extension: Confluent does not compare them). A changed `if`
//! moves instances between the branches, so any real change to it is incompatible; `then` and
//! `else` compare like any subschema.

use super::{Differ, RawDiff, T};
use crate::json::Json;
use crate::model::NodeId;

type Branches = (NodeId, Option<NodeId>, Option<NodeId>);

impl<J: Json> Differ<'_, '_, J> {
    pub(super) fn conditional(
        &mut self,
        (oi, ot, oe): Branches,
        (ui, ut, ue): Branches,
        out: &mut Vec<RawDiff>,
    ) {
        self.at("if", |d| {
            let forward = d.sub(Some(oi), Some(ui));
            d.flipped = !d.flipped;
            let backward = d.sub(Some(ui), Some(oi));
            d.flipped = !d.flipped;
            if !d.compatible(&forward) || !d.compatible(&backward) {
                d.add(out, T::ConditionChanged);
            }
        });
        self.at("then", |d| d.compare(ot, ut, out));
        self.at("else", |d| d.compare(oe, ue, out));
    }
}
