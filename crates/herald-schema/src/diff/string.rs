//! String constraints. `format`, `contentEncoding` and `contentMediaType` are herald extensions:
//! Confluent ignores them, yet a changed format rejects data the old one accepted.

use super::{Differ, RawDiff, T};
use crate::json::Json;
use crate::model::StringSchema;

impl<'a, J: Json> Differ<'_, 'a, J> {
    pub(super) fn string(
        &mut self,
        o: &StringSchema<'a>,
        u: &StringSchema<'a>,
        out: &mut Vec<RawDiff>,
    ) {
        use T::*;
        self.counts(
            out,
            "maxLength",
            o.max_length,
            u.max_length,
            [
                MaxLengthAdded,
                MaxLengthRemoved,
                MaxLengthIncreased,
                MaxLengthDecreased,
            ],
        );
        self.counts(
            out,
            "minLength",
            o.min_length,
            u.min_length,
            [
                MinLengthAdded,
                MinLengthRemoved,
                MinLengthIncreased,
                MinLengthDecreased,
            ],
        );
        self.text(
            out,
            "pattern",
            o.pattern,
            u.pattern,
            [PatternAdded, PatternRemoved, PatternChanged],
        );
        self.text(
            out,
            "format",
            o.format,
            u.format,
            [FormatAdded, FormatRemoved, FormatChanged],
        );
        self.text(
            out,
            "contentEncoding",
            o.content_encoding,
            u.content_encoding,
            [
                ContentEncodingAdded,
                ContentEncodingRemoved,
                ContentEncodingChanged,
            ],
        );
        self.text(
            out,
            "contentMediaType",
            o.content_media_type,
            u.content_media_type,
            [
                ContentMediaTypeAdded,
                ContentMediaTypeRemoved,
                ContentMediaTypeChanged,
            ],
        );
    }

    /// A keyword whose value is compared as text: added, removed or changed.
    fn text(
        &mut self,
        out: &mut Vec<RawDiff>,
        key: &'static str,
        o: Option<&str>,
        u: Option<&str>,
        types: [T; 3],
    ) {
        let kind = match (o, u) {
            (None, None) => return,
            (Some(a), Some(b)) if a == b => return,
            (None, Some(_)) => types[0],
            (Some(_), None) => types[1],
            (Some(_), Some(_)) => types[2],
        };
        let show = |v: Option<&str>| v.map_or_else(|| "none".to_owned(), |v| format!("{v:?}"));
        self.at(key, |d| d.add_detail(out, kind, show(o), show(u)));
    }
}
