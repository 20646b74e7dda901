//! Arrays: the all-items schema, tuples against the content model (as objects do for
//! properties), additional/unevaluated items, counts, uniqueness and `contains`.

use super::{Differ, RawDiff, T};
use crate::json::Json;
use crate::model::{ArraySchema, Extra};

impl<J: Json> Differ<'_, '_, J> {
    pub(super) fn array(&mut self, o: &ArraySchema, u: &ArraySchema, out: &mut Vec<RawDiff>) {
        use T::*;
        self.at("items", |d| d.compare(o.items, u.items, out));
        self.tuple(o, u, out);
        let key = if u.additional == Extra::Absent {
            o.additional_keyword
        } else {
            u.additional_keyword
        };
        self.at(key, |d| {
            d.extra(
                o.additional,
                u.additional,
                out,
                [
                    AdditionalItemsAdded,
                    AdditionalItemsRemoved,
                    AdditionalItemsNarrowed,
                    AdditionalItemsExtended,
                ],
            )
        });
        self.unevaluated(
            "unevaluatedItems",
            o.unevaluated,
            u.unevaluated,
            out,
            [
                UnevaluatedItemsAdded,
                UnevaluatedItemsRemoved,
                UnevaluatedItemsNarrowed,
                UnevaluatedItemsExtended,
            ],
        );
        self.counts(
            out,
            "maxItems",
            o.max_items,
            u.max_items,
            [
                MaxItemsAdded,
                MaxItemsRemoved,
                MaxItemsIncreased,
                MaxItemsDecreased,
            ],
        );
        self.counts(
            out,
            "minItems",
            o.min_items,
            u.min_items,
            [
                MinItemsAdded,
                MinItemsRemoved,
                MinItemsIncreased,
                MinItemsDecreased,
            ],
        );
        if o.unique_items != u.unique_items {
            let kind = if o.unique_items {
                UniqueItemsRemoved
            } else {
                UniqueItemsAdded
            };
            self.at("uniqueItems", |d| d.add(out, kind));
        }
        self.counts(
            out,
            "maxContains",
            o.max_contains,
            u.max_contains,
            [
                MaxContainsAdded,
                MaxContainsRemoved,
                MaxContainsIncreased,
                MaxContainsDecreased,
            ],
        );
        self.counts(
            out,
            "minContains",
            o.min_contains,
            u.min_contains,
            [
                MinContainsAdded,
                MinContainsRemoved,
                MinContainsIncreased,
                MinContainsDecreased,
            ],
        );
        // herald: Confluent ignores `contains`; a narrower one rejects arrays it accepted.
        if o.contains.is_some() || u.contains.is_some() {
            self.at("contains", |d| d.compare(o.contains, u.contains, out));
        }
    }

    fn tuple(&mut self, o: &ArraySchema, u: &ArraySchema, out: &mut Vec<RawDiff>) {
        let keyword = if u.tuple.is_empty() {
            o.tuple_keyword
        } else {
            u.tuple_keyword
        };
        let common = o.tuple.len().min(u.tuple.len());
        for i in 0..common {
            self.at(format!("{keyword}/{i}"), |d| {
                d.compare(Some(o.tuple[i]), Some(u.tuple[i]), out)
            });
        }
        for (i, &os) in o.tuple.iter().enumerate().skip(common) {
            let cover = item_cover(u);
            self.at(format!("{keyword}/{i}"), |d| {
                d.member_removed_item(os, cover, out)
            });
        }
        for (i, &us) in u.tuple.iter().enumerate().skip(common) {
            let cover = item_cover(o);
            self.at(format!("{keyword}/{i}"), |d| {
                let upd = d.upd();
                match cover {
                    Extra::Absent if d.is_empty_schema(upd, us) => {
                        d.add(out, T::ItemWithEmptySchemaAddedToOpenContentModel)
                    }
                    Extra::Absent => d.add(out, T::ItemAddedToOpenContentModel),
                    Extra::Schema(s) => {
                        d.under_partial_model(
                            s,
                            us,
                            [
                                T::ItemAddedIsCoveredByPartiallyOpenContentModel,
                                T::ItemAddedNotCoveredByPartiallyOpenContentModel,
                            ],
                            out,
                        );
                    }
                    _ => d.add(out, T::ItemAddedToClosedContentModel),
                }
            });
        }
    }

    fn member_removed_item(
        &mut self,
        os: crate::model::NodeId,
        cover: Extra,
        out: &mut Vec<RawDiff>,
    ) {
        match cover {
            Extra::Absent => self.add(out, T::ItemRemovedFromOpenContentModel),
            Extra::Schema(s) => {
                self.under_partial_model(
                    os,
                    s,
                    [
                        T::ItemRemovedIsCoveredByPartiallyOpenContentModel,
                        T::ItemRemovedNotCoveredByPartiallyOpenContentModel,
                    ],
                    out,
                );
            }
            _ => {
                let orig = self.orig();
                let kind = if self.is_false_schema(orig, os) {
                    T::ItemWithFalseRemovedFromClosedContentModel
                } else {
                    T::ItemRemovedFromClosedContentModel
                };
                self.add(out, kind);
            }
        }
    }
}

/// What an array says about items past its tuple: `Absent` = anything (open), `False` =
/// nothing (closed), or a schema (partially open).
fn item_cover(a: &ArraySchema) -> Extra {
    match a.additional {
        Extra::Schema(s) => Extra::Schema(s),
        Extra::False => Extra::False,
        Extra::True | Extra::Absent => match a.unevaluated {
            Extra::Absent | Extra::True => Extra::Absent,
            other => other,
        },
    }
}
