//! Objects: required names, properties against the content model (open, closed or partially
//! open), pattern properties, dependencies, additional/unevaluated properties, counts.

use super::{Differ, RawDiff, T};
use crate::json::Json;
use crate::model::{Extra, NodeId, ObjectSchema, Schema};

/// What an object says about a member it does not list by name.
#[derive(Clone, Copy)]
enum Cover {
    /// Anything is allowed.
    Open,
    /// Nothing is allowed.
    Closed,
    /// It must match this schema (a pattern property, or additional/unevaluated properties).
    Schema(NodeId),
}

fn fallback(additional: Extra, unevaluated: Extra) -> Cover {
    match additional {
        Extra::Schema(s) => Cover::Schema(s),
        Extra::False => Cover::Closed,
        Extra::True | Extra::Absent => match unevaluated {
            Extra::Absent | Extra::True => Cover::Open,
            Extra::False => Cover::Closed,
            Extra::Schema(s) => Cover::Schema(s),
        },
    }
}

impl<'a, J: Json> Differ<'_, 'a, J> {
    pub(super) fn object(
        &mut self,
        o: &ObjectSchema<'a>,
        u: &ObjectSchema<'a>,
        out: &mut Vec<RawDiff>,
    ) {
        use T::*;
        self.properties(o, u, out);
        self.pattern_properties(o, u, out);
        self.dependencies(o, u, out);
        self.at("additionalProperties", |d| {
            d.extra(
                o.additional,
                u.additional,
                out,
                [
                    AdditionalPropertiesAdded,
                    AdditionalPropertiesRemoved,
                    AdditionalPropertiesNarrowed,
                    AdditionalPropertiesExtended,
                ],
            )
        });
        self.unevaluated(
            "unevaluatedProperties",
            o.unevaluated,
            u.unevaluated,
            out,
            [
                UnevaluatedPropertiesAdded,
                UnevaluatedPropertiesRemoved,
                UnevaluatedPropertiesNarrowed,
                UnevaluatedPropertiesExtended,
            ],
        );
        if o.property_names.is_some() || u.property_names.is_some() {
            self.at("propertyNames", |d| {
                d.compare(o.property_names, u.property_names, out)
            });
        }
        self.counts(
            out,
            "maxProperties",
            o.max_properties,
            u.max_properties,
            [
                MaxPropertiesAdded,
                MaxPropertiesRemoved,
                MaxPropertiesIncreased,
                MaxPropertiesDecreased,
            ],
        );
        self.counts(
            out,
            "minProperties",
            o.min_properties,
            u.min_properties,
            [
                MinPropertiesAdded,
                MinPropertiesRemoved,
                MinPropertiesIncreased,
                MinPropertiesDecreased,
            ],
        );
    }

    /// How `obj` treats a member named `name` that it does not list in `properties`.
    fn cover(&mut self, obj: &ObjectSchema<'a>, name: &str) -> Cover {
        for &(pattern, schema) in obj.pattern_properties {
            if self.pattern_matches(pattern, name) {
                return Cover::Schema(schema);
            }
        }
        fallback(obj.additional, obj.unevaluated)
    }

    fn properties(&mut self, o: &ObjectSchema<'a>, u: &ObjectSchema<'a>, out: &mut Vec<RawDiff>) {
        let upd = self.upd();
        // Properties listed in both whose required-ness changed (reported under `required`).
        let mut required: Vec<(&'a str, T)> = Vec::new();
        self.path.push("properties".into());
        // Both lists are sorted by name: walk them together.
        let (mut i, mut j) = (0, 0);
        while i < o.properties.len() || j < u.properties.len() {
            let next_o = o.properties.get(i);
            let next_u = u.properties.get(j);
            match (next_o, next_u) {
                (Some(&(on, os)), Some(&(un, us))) if on == un => {
                    match (o.is_required(on), u.is_required(on)) {
                        (true, false) => required.push((on, T::RequiredAttributeRemoved)),
                        (false, true) if has_default(upd, us) => {
                            required.push((on, T::RequiredAttributeWithDefaultAdded))
                        }
                        (false, true) => required.push((on, T::RequiredAttributeAdded)),
                        _ => {}
                    }
                    self.at(on, |d| d.compare(Some(os), Some(us), out));
                    i += 1;
                    j += 1;
                }
                (Some(&(on, os)), Some(&(un, _))) if on < un => {
                    self.at(on, |d| d.property_removed(on, os, u, out));
                    i += 1;
                }
                (Some(&(on, os)), None) => {
                    self.at(on, |d| d.property_removed(on, os, u, out));
                    i += 1;
                }
                (_, Some(&(un, us))) => {
                    self.at(un, |d| d.property_added(un, us, o, u, out));
                    j += 1;
                }
                (None, None) => break,
            }
        }
        self.path.pop();
        if !required.is_empty() {
            self.at("required", |d| {
                for (name, kind) in required {
                    d.at(name, |d| d.add(out, kind));
                }
            });
        }
    }

    /// A property of the original that the update no longer lists: only the update's content
    /// model decides what data with that member now meets.
    fn property_removed(
        &mut self,
        name: &str,
        os: NodeId,
        u: &ObjectSchema<'a>,
        out: &mut Vec<RawDiff>,
    ) {
        let cover = self.cover(u, name);
        self.member_removed(
            os,
            cover,
            out,
            [
                T::PropertyRemovedFromOpenContentModel,
                T::PropertyRemovedIsCoveredByPartiallyOpenContentModel,
                T::PropertyRemovedNotCoveredByPartiallyOpenContentModel,
                T::PropertyWithFalseRemovedFromClosedContentModel,
                T::PropertyRemovedFromClosedContentModel,
            ],
        );
    }

    /// Open, covered, not covered, false removed, removed from closed.
    fn member_removed(&mut self, os: NodeId, cover: Cover, out: &mut Vec<RawDiff>, t: [T; 5]) {
        match cover {
            Cover::Open => self.add(out, t[0]),
            Cover::Schema(s) => {
                self.under_partial_model(os, s, [t[1], t[2]], out);
            }
            Cover::Closed => {
                let orig = self.orig();
                let kind = if self.is_false_schema(orig, os) {
                    t[3]
                } else {
                    t[4]
                };
                self.add(out, kind);
            }
        }
    }

    /// A property the update lists and the original did not: only the original's content model
    /// decides what data written with it may hold under that name.
    fn property_added(
        &mut self,
        name: &str,
        us: NodeId,
        o: &ObjectSchema<'a>,
        u: &ObjectSchema<'a>,
        out: &mut Vec<RawDiff>,
    ) {
        let upd = self.upd();
        let required = u.is_required(name);
        let with_default = required && has_default(upd, us);
        match self.cover(o, name) {
            Cover::Open => {
                let kind = if with_default {
                    T::RequiredPropertyWithDefaultAddedToOpenContentModel
                } else if required {
                    T::RequiredPropertyAddedToOpenContentModel
                } else if self.is_empty_schema(upd, us) {
                    T::PropertyWithEmptySchemaAddedToOpenContentModel
                } else {
                    T::OptionalPropertyAddedToOpenContentModel
                };
                return self.add(out, kind);
            }
            Cover::Schema(s) => {
                self.under_partial_model(
                    s,
                    us,
                    [
                        T::PropertyAddedIsCoveredByPartiallyOpenContentModel,
                        T::PropertyAddedNotCoveredByPartiallyOpenContentModel,
                    ],
                    out,
                );
            }
            Cover::Closed => {}
        }
        let kind = if with_default {
            T::RequiredPropertyWithDefaultAddedToUnopenContentModel
        } else if required {
            T::RequiredPropertyAddedToUnopenContentModel
        } else {
            T::OptionalPropertyAddedToUnopenContentModel
        };
        self.add(out, kind);
    }

    /// Pattern properties (herald: Confluent compares them only through named properties). A
    /// removed or added pattern is treated like a removed or added property whose names fall
    /// back to additional/unevaluated properties.
    fn pattern_properties(
        &mut self,
        o: &ObjectSchema<'a>,
        u: &ObjectSchema<'a>,
        out: &mut Vec<RawDiff>,
    ) {
        if o.pattern_properties.is_empty() && u.pattern_properties.is_empty() {
            return;
        }
        self.path.push("patternProperties".into());
        for &(pattern, os) in o.pattern_properties {
            match u.pattern_properties.iter().find(|(p, _)| *p == pattern) {
                Some(&(_, us)) => self.at(pattern, |d| d.compare(Some(os), Some(us), out)),
                None => {
                    let cover = fallback(u.additional, u.unevaluated);
                    self.at(pattern, |d| {
                        d.member_removed(
                            os,
                            cover,
                            out,
                            [
                                T::PropertyRemovedFromOpenContentModel,
                                T::PropertyRemovedIsCoveredByPartiallyOpenContentModel,
                                T::PropertyRemovedNotCoveredByPartiallyOpenContentModel,
                                T::PropertyWithFalseRemovedFromClosedContentModel,
                                T::PropertyRemovedFromClosedContentModel,
                            ],
                        )
                    });
                }
            }
        }
        for &(pattern, us) in u.pattern_properties {
            if o.pattern_properties.iter().any(|(p, _)| *p == pattern) {
                continue;
            }
            let cover = fallback(o.additional, o.unevaluated);
            self.at(pattern, |d| {
                let upd = d.upd();
                match cover {
                    Cover::Open if d.is_empty_schema(upd, us) => {
                        d.add(out, T::PropertyWithEmptySchemaAddedToOpenContentModel)
                    }
                    Cover::Open => d.add(out, T::OptionalPropertyAddedToOpenContentModel),
                    Cover::Schema(s) => {
                        d.under_partial_model(
                            s,
                            us,
                            [
                                T::PropertyAddedIsCoveredByPartiallyOpenContentModel,
                                T::PropertyAddedNotCoveredByPartiallyOpenContentModel,
                            ],
                            out,
                        );
                    }
                    // Names that were rejected may now appear: only wider, and Confluent
                    // reports nothing for it either.
                    Cover::Closed => {}
                }
            });
        }
        self.path.pop();
    }

    fn dependencies(&mut self, o: &ObjectSchema<'a>, u: &ObjectSchema<'a>, out: &mut Vec<RawDiff>) {
        for od in o.dependent_required {
            let ud = u.dependent_required.iter().find(|d| d.name == od.name);
            let keyword = ud.map_or(od.keyword, |d| d.keyword);
            let kind = match ud {
                None => T::DependencyArrayRemoved,
                Some(ud) if ud.value == od.value => continue,
                Some(ud) if od.value.iter().all(|n| ud.value.contains(n)) => {
                    T::DependencyArrayExtended
                }
                Some(ud) if ud.value.iter().all(|n| od.value.contains(n)) => {
                    T::DependencyArrayNarrowed
                }
                Some(_) => T::DependencyArrayChanged,
            };
            self.at(keyword, |d| d.at(od.name, |d| d.add(out, kind)));
        }
        for ud in u.dependent_required {
            if !o.dependent_required.iter().any(|d| d.name == ud.name) {
                self.at(ud.keyword, |d| {
                    d.at(ud.name, |d| d.add(out, T::DependencyArrayAdded))
                });
            }
        }
        for od in o.dependent_schemas {
            match u.dependent_schemas.iter().find(|d| d.name == od.name) {
                None => self.at(od.keyword, |d| {
                    d.at(od.name, |d| d.add(out, T::DependencySchemaRemoved))
                }),
                Some(ud) => self.at(ud.keyword, |d| {
                    d.at(od.name, |d| d.compare(Some(od.value), Some(ud.value), out))
                }),
            }
        }
        for ud in u.dependent_schemas {
            if !o.dependent_schemas.iter().any(|d| d.name == ud.name) {
                self.at(ud.keyword, |d| {
                    d.at(ud.name, |d| d.add(out, T::DependencySchemaAdded))
                });
            }
        }
    }

    /// `additionalProperties` / `additionalItems`: added, removed, narrowed, extended.
    pub(super) fn extra(&mut self, o: Extra, u: Extra, out: &mut Vec<RawDiff>, t: [T; 4]) {
        if o.permits() != u.permits() {
            self.add(out, if u.permits() { t[0] } else { t[1] });
        } else if o.schema().is_none() && u.schema().is_some() {
            self.add(out, t[2]);
        } else if o.schema().is_some() && u.schema().is_none() {
            self.add(out, t[3]);
        } else {
            self.compare(o.schema(), u.schema(), out);
        }
    }

    /// `unevaluatedProperties` / `unevaluatedItems`: added, removed, narrowed, extended. `true`
    /// and `{}` allow the same as the keyword's absence.
    pub(super) fn unevaluated(
        &mut self,
        key: &'static str,
        o: Extra,
        u: Extra,
        out: &mut Vec<RawDiff>,
        t: [T; 4],
    ) {
        let (orig, upd) = (self.orig(), self.upd());
        let o = self.normalise_extra(orig, o);
        let u = self.normalise_extra(upd, u);
        let kind = match (o, u) {
            (Extra::Absent, Extra::Absent) | (Extra::False, Extra::False) => return,
            (Extra::Absent, Extra::False) | (Extra::Schema(_), Extra::False) => t[1],
            (Extra::Absent, Extra::Schema(_)) => t[2],
            (Extra::False, _) => t[0],
            (Extra::Schema(_), Extra::Absent) => t[3],
            (Extra::Schema(a), Extra::Schema(b)) => {
                return self.at(key, |d| d.compare(Some(a), Some(b), out));
            }
            _ => return,
        };
        self.at(key, |d| d.add(out, kind));
    }

    fn normalise_extra(&mut self, schema: &Schema<'a, J>, e: Extra) -> Extra {
        match e {
            Extra::True => Extra::Absent,
            Extra::Schema(s) if self.is_empty_schema(schema, s) => Extra::Absent,
            Extra::Schema(s) if self.is_false_schema(schema, s) => Extra::False,
            other => other,
        }
    }
}

/// Whether a property's schema gives a default (beside a `$ref` too).
fn has_default<J: Json>(schema: &Schema<'_, J>, id: NodeId) -> bool {
    let mut node = schema.node(id);
    for _ in 0..crate::limits::MAX_REF_CHAIN {
        if node.default.is_some() || node.raw.get("default").is_some() {
            return true;
        }
        match node.kind {
            crate::model::Kind::Reference { target: Some(t) } => node = schema.node(t),
            _ => return false,
        }
    }
    false
}
