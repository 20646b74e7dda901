//! `enum` and `const` (a one-value enum, so `{"const": x}` equals `{"enum": [x]}`).

use super::{Differ, RawDiff, T};
use crate::json::{Json, json_eq, render};

fn subset<J: Json>(a: &[J], b: &[J]) -> bool {
    a.iter().all(|x| b.iter().any(|y| json_eq(x, y)))
}

fn show<J: Json>(values: &[J]) -> String {
    const SHOWN: usize = 8;
    let mut s: Vec<String> = values.iter().take(SHOWN).map(render).collect();
    if values.len() > SHOWN {
        s.push(format!("… ({} more)", values.len() - SHOWN));
    }
    format!("[{}]", s.join(", "))
}

impl<'a, J: Json> Differ<'_, 'a, J> {
    pub(super) fn enums(
        &mut self,
        o: &'a [J],
        _o_const: bool,
        u: &'a [J],
        u_const: bool,
        out: &mut Vec<RawDiff>,
    ) {
        let (o_in_u, u_in_o) = (subset(o, u), subset(u, o));
        let kind = match (o_in_u, u_in_o) {
            (true, true) => return,
            (true, false) => T::EnumArrayExtended,
            (false, true) => T::EnumArrayNarrowed,
            (false, false) => T::EnumArrayChanged,
        };
        let key = if u_const { "const" } else { "enum" };
        if self.quiet {
            return self.add(out, kind);
        }
        self.at(key, |d| d.add_detail(out, kind, show(o), show(u)));
    }
}
