//! Numeric constraints, compared exactly: bounds and `multipleOf` are decimals (`0.1` is one
//! tenth), so `0.5` and `0.50` are equal and `0.3` is a multiple of `0.1`.

use bigdecimal::{BigDecimal, Zero};

use super::{Differ, RawDiff, T};
use crate::json::{Json, Num};
use crate::model::NumberSchema;

/// One side of a range: which keyword holds it and its value.
#[derive(Clone, Copy)]
struct Bound {
    exclusive: bool,
    value: Num,
}

fn single(inclusive: Option<Num>, exclusive: Option<Num>) -> Option<Option<Bound>> {
    match (inclusive, exclusive) {
        (Some(v), None) => Some(Some(Bound {
            exclusive: false,
            value: v,
        })),
        (None, Some(v)) => Some(Some(Bound {
            exclusive: true,
            value: v,
        })),
        (None, None) => Some(None),
        (Some(_), Some(_)) => None,
    }
}

fn dec(n: Num) -> BigDecimal {
    n.to_decimal().unwrap_or_default()
}

impl<J: Json> Differ<'_, '_, J> {
    pub(super) fn number(&mut self, o: &NumberSchema, u: &NumberSchema, out: &mut Vec<RawDiff>) {
        use T::*;
        self.range(
            out,
            Side::Upper,
            (o.maximum, o.exclusive_maximum),
            (u.maximum, u.exclusive_maximum),
        );
        self.range(
            out,
            Side::Lower,
            (o.minimum, o.exclusive_minimum),
            (u.minimum, u.exclusive_minimum),
        );
        self.multiple_of(out, o.multiple_of, u.multiple_of);
        if o.integer && !u.integer {
            self.add_detail(out, TypeExtended, "integer", "number");
        } else if !o.integer && u.integer {
            self.add_detail(out, TypeNarrowed, "number", "integer");
        }
    }

    fn range(
        &mut self,
        out: &mut Vec<RawDiff>,
        side: Side,
        (o_inc, o_exc): (Option<Num>, Option<Num>),
        (u_inc, u_exc): (Option<Num>, Option<Num>),
    ) {
        // A bound that moved between `minimum` and `exclusiveMinimum` is one bound that changed,
        // not one removed and another added: compare where it lies.
        if let (Some(Some(ob)), Some(Some(ub))) = (single(o_inc, o_exc), single(u_inc, u_exc))
            && ob.exclusive != ub.exclusive
        {
            let order = ub
                .value
                .cmp_value(ob.value)
                .unwrap_or(std::cmp::Ordering::Equal);
            let looser = match side {
                Side::Upper => order.is_gt() || (order.is_eq() && ob.exclusive),
                Side::Lower => order.is_lt() || (order.is_eq() && ob.exclusive),
            };
            let [_, removed, _, _] = side.types(ob.exclusive);
            let [_, _, increased, decreased] = side.types(ub.exclusive);
            let moved = match (side, looser) {
                (Side::Upper, true) | (Side::Lower, false) => increased,
                _ => decreased,
            };
            let (ok, uk) = (side.keyword(ob.exclusive), side.keyword(ub.exclusive));
            let show =
                |b: Bound| format!("{}{}", if b.exclusive { "exclusive " } else { "" }, b.value);
            self.at(ok, |d| d.add_detail(out, removed, show(ob), "none"));
            self.at(uk, |d| d.add_detail(out, moved, show(ob), show(ub)));
            return;
        }
        self.bound(out, side, false, o_inc, u_inc);
        self.bound(out, side, true, o_exc, u_exc);
    }

    fn bound(
        &mut self,
        out: &mut Vec<RawDiff>,
        side: Side,
        exclusive: bool,
        o: Option<Num>,
        u: Option<Num>,
    ) {
        let [added, removed, increased, decreased] = side.types(exclusive);
        let kind = match (o, u) {
            (None, None) => return,
            (None, Some(_)) => added,
            (Some(_), None) => removed,
            (Some(a), Some(b)) => match a.cmp_value(b) {
                Some(std::cmp::Ordering::Less) => increased,
                Some(std::cmp::Ordering::Greater) => decreased,
                _ => return,
            },
        };
        let show = |v: Option<Num>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
        self.at(side.keyword(exclusive), |d| {
            d.add_detail(out, kind, show(o), show(u))
        });
    }

    fn multiple_of(&mut self, out: &mut Vec<RawDiff>, o: Option<Num>, u: Option<Num>) {
        let kind = match (o, u) {
            (None, None) => return,
            (None, Some(_)) => T::MultipleOfAdded,
            (Some(_), None) => T::MultipleOfRemoved,
            (Some(a), Some(b)) => {
                let (a, b) = (dec(a), dec(b));
                if a == b {
                    return;
                } else if (&b % &a).is_zero() {
                    // Every multiple of the new step is a multiple of the old: fewer values.
                    T::MultipleOfExpanded
                } else if (&a % &b).is_zero() {
                    T::MultipleOfReduced
                } else {
                    T::MultipleOfChanged
                }
            }
        };
        let show = |v: Option<Num>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
        self.at("multipleOf", |d| d.add_detail(out, kind, show(o), show(u)));
    }
}

#[derive(Clone, Copy)]
enum Side {
    Upper,
    Lower,
}

impl Side {
    fn keyword(self, exclusive: bool) -> &'static str {
        match (self, exclusive) {
            (Side::Upper, false) => "maximum",
            (Side::Upper, true) => "exclusiveMaximum",
            (Side::Lower, false) => "minimum",
            (Side::Lower, true) => "exclusiveMinimum",
        }
    }

    /// Added, removed, increased, decreased.
    fn types(self, exclusive: bool) -> [T; 4] {
        use T::*;
        match (self, exclusive) {
            (Side::Upper, false) => [
                MaximumAdded,
                MaximumRemoved,
                MaximumIncreased,
                MaximumDecreased,
            ],
            (Side::Upper, true) => [
                ExclusiveMaximumAdded,
                ExclusiveMaximumRemoved,
                ExclusiveMaximumIncreased,
                ExclusiveMaximumDecreased,
            ],
            (Side::Lower, false) => [
                MinimumAdded,
                MinimumRemoved,
                MinimumIncreased,
                MinimumDecreased,
            ],
            (Side::Lower, true) => [
                ExclusiveMinimumAdded,
                ExclusiveMinimumRemoved,
                ExclusiveMinimumIncreased,
                ExclusiveMinimumDecreased,
            ],
        }
    }
}
