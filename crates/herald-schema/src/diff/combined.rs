//! `allOf` / `anyOf` / `oneOf` against each other: the criterion, the number of branches, and a
//! maximum matching of compatible branch pairs (Confluent's CombinedSchemaDiff).

use super::matching::maximum_matching;
use super::{Differ, RawDiff, T};
use crate::json::{Json, json_eq};
use crate::model::{Criterion, NodeId, Schema};

impl<'a, J: Json> Differ<'_, 'a, J> {
    pub(super) fn combined(
        &mut self,
        (oc, osubs, osynth): (Criterion, &[NodeId], bool),
        (uc, usubs, usynth): (Criterion, &[NodeId], bool),
        out: &mut Vec<RawDiff>,
    ) {
        if oc != uc {
            let extended = match uc {
                // Any branch may now match, not exactly one or all.
                Criterion::Any => true,
                // A singleton anything, or a product down to one factor, can become exactly-one.
                Criterion::One => osubs.len() == 1 || (oc == Criterion::All && usubs.len() == 1),
                Criterion::All => osubs.len() == 1 && usubs.len() == 1,
            };
            if extended {
                self.add_detail(out, T::CombinedTypeExtended, oc.keyword(), uc.keyword());
            } else {
                return self.add_detail(out, T::CombinedTypeChanged, oc.keyword(), uc.keyword());
            }
        }
        let (orig, upd) = (self.orig(), self.upd());
        if osynth && usynth && aligned(orig, osubs, upd, usubs) {
            return self.pairwise(oc, osubs, usubs, out);
        }
        // Identical branches count once.
        let osubs = distinct(orig, osubs, osynth);
        let usubs = distinct(upd, usubs, usynth);
        let (on, un) = (osubs.len(), usubs.len());
        if on != un {
            // More branches are judged by what the update does with them, fewer by what the
            // original did: dropping a factor of a product only relaxes it.
            let kind = match (on < un, uc == Criterion::All, oc == Criterion::All) {
                (true, true, _) => T::ProductTypeExtended,
                (true, false, _) => T::SumTypeExtended,
                (false, _, true) => T::ProductTypeNarrowed,
                (false, _, false) => T::SumTypeNarrowed,
            };
            self.add_detail(
                out,
                kind,
                format!("{on} branches"),
                format!("{un} branches"),
            );
        }

        // Loud, each pair is probed and only the matched pairs are compared in full. Already
        // probing, the probe's differences are kept instead: comparing matched pairs again at
        // every level of nested combinators would multiply the work.
        let keep = self.quiet;
        let mut edges: Vec<Vec<usize>> = Vec::with_capacity(on);
        let mut kept: Vec<Vec<Vec<RawDiff>>> = Vec::new();
        for (i, &os) in osubs.iter().enumerate() {
            let mut targets = Vec::new();
            for (j, &us) in usubs.iter().enumerate() {
                if keep {
                    let sub = self.sub(Some(os), Some(us));
                    if self.compatible(&sub) {
                        targets.push((j, sub.len(), sub));
                    }
                } else {
                    let (ok, count) = self.probe(os, us);
                    if ok {
                        targets.push((j, count, Vec::new()));
                    }
                }
            }
            // Prefer the branch with the fewest differences, and on a tie the one in the same
            // place: a schema compared with itself then pairs each branch with itself.
            targets.sort_by_key(|&(j, count, _)| (count, j != i));
            edges.push(targets.iter().map(|&(j, _, _)| j).collect());
            kept.push(targets.into_iter().map(|(_, _, sub)| sub).collect());
        }
        let matching = maximum_matching(&edges, un);
        let mut matched = 0;
        for (i, m) in matching.into_iter().enumerate() {
            if let Some(k) = m {
                matched += 1;
                if keep {
                    out.append(&mut kept[i][k]);
                    continue;
                }
                let (os, us) = (osubs[i], usubs[edges[i][k]]);
                self.at(format!("{}/{i}", oc.keyword()), |d| {
                    d.compare(Some(os), Some(us), out)
                });
            }
        }
        if matched < on.min(un) {
            self.add(out, T::CombinedTypeSubschemasChanged);
        }
    }
}

impl<'a, J: Json> Differ<'_, 'a, J> {
    /// [`aligned`] parts: only part `i` can match part `i`, so the maximum matching is the
    /// compatible ones among those pairs (same verdict and differences, without probing every
    /// pair: most typed schemas with an `enum` or `const` are such a pair of parts).
    fn pairwise(
        &mut self,
        criterion: Criterion,
        osubs: &[NodeId],
        usubs: &[NodeId],
        out: &mut Vec<RawDiff>,
    ) {
        let mut matched = 0;
        for (i, (&os, &us)) in osubs.iter().zip(usubs).enumerate() {
            let sub = self.at(format!("{}/{i}", criterion.keyword()), |d| {
                d.sub(Some(os), Some(us))
            });
            if self.compatible(&sub) {
                matched += 1;
                out.extend(sub);
            }
        }
        if matched < osubs.len() {
            self.add(out, T::CombinedTypeSubschemasChanged);
        }
    }
}

/// Whether two synthetic combinations (the parts the loader split a schema object into)
/// have the same number of parts, part `i` of the same class on both sides, and no class
/// twice, none of them one that can accept a part of another class (a combinator or a
/// reference can hold anything; an empty or `false` schema is never a type change).
fn aligned<J>(
    orig: &Schema<'_, J>,
    osubs: &[NodeId],
    upd: &Schema<'_, J>,
    usubs: &[NodeId],
) -> bool {
    use crate::model::Class;
    if osubs.len() != usubs.len() {
        return false;
    }
    let mut seen: Vec<Class> = Vec::with_capacity(osubs.len());
    for (&o, &u) in osubs.iter().zip(usubs) {
        let class = orig.node(o).kind.class();
        if class != upd.node(u).kind.class()
            || seen.contains(&class)
            || matches!(
                class,
                Class::Combined | Class::Reference | Class::Empty | Class::False
            )
        {
            return false;
        }
        seen.push(class);
    }
    true
}

/// The branches without repeats (by JSON equality). Synthetic combinations share one JSON for
/// all their parts, which are distinct by construction.
fn distinct<J: Json>(schema: &Schema<'_, J>, subs: &[NodeId], synthetic: bool) -> Vec<NodeId> {
    if synthetic {
        return subs.to_vec();
    }
    let mut out: Vec<NodeId> = Vec::with_capacity(subs.len());
    for &s in subs {
        if !out
            .iter()
            .any(|&k| json_eq(schema.node(k).raw, schema.node(s).raw))
        {
            out.push(s);
        }
    }
    out
}
