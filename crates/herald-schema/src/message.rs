//! The sentence of each difference: what changed, where, and what it means for data.

use crate::{DifferenceType as T, Direction};

/// Keywords that end a path when the difference is about that keyword's value.
const KEYWORDS: &[&str] = &[
    "maxLength",
    "minLength",
    "pattern",
    "format",
    "contentEncoding",
    "contentMediaType",
    "maximum",
    "minimum",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "multipleOf",
    "maxProperties",
    "minProperties",
    "maxItems",
    "minItems",
    "maxContains",
    "minContains",
    "uniqueItems",
    "enum",
    "const",
    "additionalProperties",
    "unevaluatedProperties",
    "additionalItems",
    "unevaluatedItems",
    "not",
    "if",
];

/// "field `address.zip`", "the items of field `tags`", "the schema".
fn location(path: &str) -> String {
    let path = path.trim_start_matches('#');
    // Names after `properties` / `required` make the field; what follows the last one is the
    // rest, a suffix of the path (one pass, no lists: this runs for every difference).
    let mut field = String::new();
    let mut rest_from = 0;
    let mut segs = path
        .split('/')
        .scan(0usize, |at, seg| {
            let start = *at;
            *at += seg.len() + 1;
            Some((start, seg))
        })
        .filter(|(_, s)| !s.is_empty())
        .peekable();
    while let Some((start, seg)) = segs.next() {
        if matches!(seg, "properties" | "required")
            && let Some(&(name_at, name)) = segs.peek()
        {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(name);
            rest_from = name_at + name.len();
            segs.next();
        } else if rest_from == 0 && field.is_empty() {
            rest_from = start;
        }
    }
    let mut rest = path.get(rest_from..).unwrap_or("").trim_matches('/');
    if let Some((head, last)) = rest.rsplit_once('/').or(Some(("", rest)))
        && KEYWORDS.contains(&last)
    {
        rest = head;
    }
    match (field.is_empty(), rest.is_empty()) {
        (true, true) => "the schema".to_owned(),
        // Concatenation, not `format!`: this runs for every difference.
        (true, false) => ["the schema at `#/", rest, "`"].concat(),
        (false, true) => ["field `", &field, "`"].concat(),
        (false, false) => ["`", rest, "` of field `", &field, "`"].concat(),
    }
}

fn previous_label(index: usize) -> std::borrow::Cow<'static, str> {
    if index == 0 {
        "the previous version".into()
    } else {
        format!("version n-{} (n being the new version)", index + 1).into()
    }
}

/// The sentence for one difference.
pub(crate) fn sentence(
    kind: T,
    path: &str,
    detail: Option<&(String, String)>,
    direction: Direction,
    previous_version: usize,
    compatible: bool,
) -> String {
    let what = what(kind, &location(path), detail);
    if compatible {
        return what + ": still compatible";
    }
    let previous = previous_label(previous_version);
    match direction {
        Direction::Backward => [
            &what,
            ": data written with ",
            &previous,
            " can no longer be read",
        ]
        .concat(),
        Direction::Forward => [
            &what,
            ": consumers still on ",
            &previous,
            " cannot read data written with the new version",
        ]
        .concat(),
    }
}

fn values(detail: Option<&(String, String)>) -> String {
    detail.map_or_else(String::new, |(old, new)| {
        [" (from ", old, " to ", new, ")"].concat()
    })
}

/// For the constraint families: the keyword and the verb of a type name such as
/// `MAX_LENGTH_INCREASED`.
fn keyword_and_verb(kind: T) -> Option<(&'static str, &'static str)> {
    let name = kind.as_str();
    let (stem, verb) = name.rsplit_once('_')?;
    let keyword = match stem {
        "MAX_LENGTH" => "maxLength",
        "MIN_LENGTH" => "minLength",
        "PATTERN" => "pattern",
        "FORMAT" => "format",
        "CONTENT_ENCODING" => "contentEncoding",
        "CONTENT_MEDIA_TYPE" => "contentMediaType",
        "MAXIMUM" => "maximum",
        "MINIMUM" => "minimum",
        "EXCLUSIVE_MAXIMUM" => "exclusiveMaximum",
        "EXCLUSIVE_MINIMUM" => "exclusiveMinimum",
        "MULTIPLE_OF" => "multipleOf",
        "MAX_PROPERTIES" => "maxProperties",
        "MIN_PROPERTIES" => "minProperties",
        "MAX_ITEMS" => "maxItems",
        "MIN_ITEMS" => "minItems",
        "MAX_CONTAINS" => "maxContains",
        "MIN_CONTAINS" => "minContains",
        "UNIQUE_ITEMS" => "uniqueItems",
        "ADDITIONAL_PROPERTIES" => "additionalProperties",
        "UNEVALUATED_PROPERTIES" => "unevaluatedProperties",
        "ADDITIONAL_ITEMS" => "additionalItems",
        "UNEVALUATED_ITEMS" => "unevaluatedItems",
        _ => return None,
    };
    let verb = match verb {
        "ADDED" => "was added",
        "REMOVED" => "was removed",
        "INCREASED" => "increased",
        "DECREASED" => "decreased",
        "CHANGED" => "changed",
        "EXTENDED" => "now allows more",
        "NARROWED" => "now allows less",
        "EXPANDED" => "grew to a multiple of the old step, allowing fewer values",
        "REDUCED" => "shrank to a divisor of the old step, allowing more values",
        _ => return None,
    };
    Some((keyword, verb))
}

fn what(kind: T, loc: &str, detail: Option<&(String, String)>) -> String {
    let v = values(detail);
    // Confluent names these after what the keyword allows, which reads backwards as "the
    // keyword was added/removed" (`additionalProperties: false` added is `..._REMOVED`).
    let others = match kind {
        T::AdditionalPropertiesAdded | T::UnevaluatedPropertiesAdded => {
            Some("now accepts members it does not name")
        }
        T::AdditionalPropertiesRemoved | T::UnevaluatedPropertiesRemoved => {
            Some("no longer accepts members it does not name")
        }
        T::AdditionalPropertiesExtended | T::UnevaluatedPropertiesExtended => {
            Some("accepts more of the members it does not name")
        }
        T::AdditionalPropertiesNarrowed | T::UnevaluatedPropertiesNarrowed => {
            Some("accepts fewer of the members it does not name")
        }
        _ => None,
    };
    if let Some(others) = others {
        let keyword = if kind.as_str().starts_with("UNEVALUATED") {
            "unevaluatedProperties"
        } else {
            "additionalProperties"
        };
        return [loc, " ", others, " (`", keyword, "`)", &v].concat();
    }
    if let Some((keyword, verb)) = keyword_and_verb(kind) {
        return ["`", keyword, "` of ", loc, " ", verb, &v].concat();
    }
    match kind {
        T::TypeChanged => match detail {
            Some((old, new)) => format!("{loc} changed from {old} to {new}"),
            None => format!("{loc} changed type"),
        },
        T::TypeNarrowed => format!("{loc} was narrowed{v}"),
        T::TypeExtended => format!("{loc} was widened{v}"),
        T::IdChanged => format!("the `$id` of {loc} changed"),
        T::TitleChanged => format!("the title of {loc} changed"),
        T::DescriptionChanged => format!("the description of {loc} changed"),
        T::DefaultChanged => format!("the default of {loc} changed"),
        T::SchemaAdded => format!("{loc} gained a schema where any value was accepted"),
        T::SchemaRemoved => format!("{loc} lost its schema and accepts any value"),
        T::RequiredAttributeAdded => format!("{loc} became required"),
        T::RequiredAttributeWithDefaultAdded => format!("{loc} became required, with a default"),
        T::RequiredAttributeRemoved => format!("{loc} is no longer required"),
        T::DependencyArrayAdded => format!("a dependency of {loc} was added"),
        T::DependencyArrayRemoved => format!("a dependency of {loc} was removed"),
        T::DependencyArrayExtended => format!("the dependency of {loc} now requires more members"),
        T::DependencyArrayNarrowed => format!("the dependency of {loc} now requires fewer members"),
        T::DependencyArrayChanged => format!("the dependency of {loc} changed"),
        T::DependencySchemaAdded => format!("a schema dependency of {loc} was added"),
        T::DependencySchemaRemoved => format!("a schema dependency of {loc} was removed"),
        T::PropertyAddedToOpenContentModel | T::OptionalPropertyAddedToOpenContentModel => format!(
            "optional {loc} was added to an object that accepted any member under that name"
        ),
        T::RequiredPropertyAddedToOpenContentModel => {
            format!(
                "required {loc} was added to an object that accepted any member under that name"
            )
        }
        T::RequiredPropertyWithDefaultAddedToOpenContentModel => format!(
            "required {loc} (with a default) was added to an object that accepted any member under that name"
        ),
        T::PropertyWithEmptySchemaAddedToOpenContentModel => {
            format!("{loc} was added with a schema that accepts anything")
        }
        T::RequiredPropertyAddedToUnopenContentModel => {
            format!("required {loc} was added, which data written before does not have")
        }
        T::RequiredPropertyWithDefaultAddedToUnopenContentModel => {
            format!("required {loc} was added with a default")
        }
        T::OptionalPropertyAddedToUnopenContentModel => format!("optional {loc} was added"),
        T::PropertyRemovedFromOpenContentModel => {
            format!("{loc} was removed; the object accepts any member under that name")
        }
        T::PropertyWithFalseRemovedFromClosedContentModel => {
            format!("{loc}, which allowed no value, was removed from a closed object")
        }
        T::PropertyRemovedFromClosedContentModel => {
            format!("{loc} was removed from an object that rejects unknown members")
        }
        T::PropertyRemovedIsCoveredByPartiallyOpenContentModel => {
            format!("{loc} was removed; its values still match the schema for other members")
        }
        T::PropertyRemovedNotCoveredByPartiallyOpenContentModel => {
            format!("{loc} was removed and its values do not match the schema for other members")
        }
        T::PropertyAddedIsCoveredByPartiallyOpenContentModel => {
            format!("{loc} was added and accepts what the schema for other members accepted")
        }
        T::PropertyAddedNotCoveredByPartiallyOpenContentModel => {
            format!("{loc} was added and rejects values the schema for other members accepted")
        }
        T::ReservedPropertyRemoved => format!("reserved {loc} was removed"),
        T::ReservedPropertyConflictsWithProperty => format!("{loc} is reserved"),
        T::ItemAddedToOpenContentModel => {
            format!("{loc} was added to a tuple that accepted any further item")
        }
        T::ItemWithEmptySchemaAddedToOpenContentModel => {
            format!("{loc} was added to a tuple with a schema that accepts anything")
        }
        T::ItemAddedToClosedContentModel => format!("{loc} was added to a closed tuple"),
        T::ItemRemovedFromOpenContentModel => {
            format!("{loc} was removed; the tuple accepts any further item")
        }
        T::ItemWithFalseRemovedFromClosedContentModel => {
            format!("{loc}, which allowed no value, was removed from a closed tuple")
        }
        T::ItemRemovedFromClosedContentModel => {
            format!("{loc} was removed from a tuple that rejects further items")
        }
        T::ItemRemovedIsCoveredByPartiallyOpenContentModel => {
            format!("{loc} was removed; its values still match the schema for further items")
        }
        T::ItemRemovedNotCoveredByPartiallyOpenContentModel => {
            format!("{loc} was removed and its values do not match the schema for further items")
        }
        T::ItemAddedIsCoveredByPartiallyOpenContentModel => {
            format!("{loc} was added and accepts what the schema for further items accepted")
        }
        T::ItemAddedNotCoveredByPartiallyOpenContentModel => {
            format!("{loc} was added and rejects values the schema for further items accepted")
        }
        T::EnumArrayExtended => format!("the allowed values of {loc} were extended{v}"),
        T::EnumArrayNarrowed => format!("the allowed values of {loc} were narrowed{v}"),
        T::EnumArrayChanged => format!("the allowed values of {loc} changed{v}"),
        T::CombinedTypeExtended => format!("the combinator of {loc} was relaxed{v}"),
        T::CombinedTypeChanged => format!("the combinator of {loc} changed{v}"),
        T::ProductTypeExtended => format!("{loc} must now match more schemas (allOf){v}"),
        T::ProductTypeNarrowed => format!("{loc} must now match fewer schemas (allOf){v}"),
        T::SumTypeExtended => format!("{loc} accepts more alternatives{v}"),
        T::SumTypeNarrowed => format!("{loc} accepts fewer alternatives{v}"),
        T::CombinedTypeSubschemasChanged => {
            format!("the alternatives of {loc} changed so that some no longer match one-to-one")
        }
        T::NotTypeExtended => format!("{loc} now rejects more values (not)"),
        T::NotTypeNarrowed => format!("{loc} now rejects fewer values (not)"),
        T::ConditionChanged => format!("the `if` condition of {loc} changed"),
        other => format!("{} at {loc}", other.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_split_the_field_from_the_rest() {
        for (path, want) in [
            ("#/", "the schema"),
            ("#/maxLength", "the schema"),
            ("#/anyOf/0", "the schema at `#/anyOf/0`"),
            ("#/anyOf/0/maxLength", "the schema at `#/anyOf/0`"),
            ("#/properties/a", "field `a`"),
            ("#/properties/a/properties/b/maxLength", "field `a.b`"),
            ("#/required/zip", "field `zip`"),
            ("#/properties/tags/items", "`items` of field `tags`"),
            ("#/properties/a/anyOf/1/maxLength", "`anyOf/1` of field `a`"),
            ("#/anyOf/0/properties/a/items/0", "`items/0` of field `a`"),
            ("#/properties", "the schema at `#/properties`"),
        ] {
            assert_eq!(location(path), want, "{path}");
        }
    }

    #[test]
    fn names_the_field_and_the_consequence() {
        let s = sentence(
            T::TypeChanged,
            "#/properties/address/properties/zip",
            Some(&("string".to_owned(), "integer".to_owned())),
            Direction::Backward,
            0,
            false,
        );
        assert_eq!(
            s,
            "field `address.zip` changed from string to integer: data written with the previous version can no longer be read"
        );
    }

    #[test]
    fn keyword_differences_name_the_keyword() {
        let s = sentence(
            T::MaxLengthIncreased,
            "#/properties/note/maxLength",
            Some(&("32".to_owned(), "64".to_owned())),
            Direction::Forward,
            2,
            true,
        );
        assert_eq!(
            s,
            "`maxLength` of field `note` increased (from 32 to 64): still compatible"
        );
    }

    #[test]
    fn root_and_items() {
        assert_eq!(location("#/"), "the schema");
        assert_eq!(location("#/items/2"), "the schema at `#/items/2`");
        assert_eq!(
            location("#/properties/tags/items"),
            "`items` of field `tags`"
        );
        assert_eq!(location("#/required/foo"), "field `foo`");
    }
}
