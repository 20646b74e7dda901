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
    let segs: Vec<&str> = path
        .trim_start_matches('#')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let mut field: Vec<&str> = Vec::new();
    let mut rest: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < segs.len() {
        match segs[i] {
            "properties" | "required" if i + 1 < segs.len() => {
                field.push(segs[i + 1]);
                rest.clear();
                i += 2;
            }
            seg => {
                rest.push(seg);
                i += 1;
            }
        }
    }
    if rest.last().is_some_and(|k| KEYWORDS.contains(k)) {
        rest.pop();
    }
    match (field.is_empty(), rest.is_empty()) {
        (true, true) => "the schema".to_owned(),
        (true, false) => format!("the schema at `#/{}`", rest.join("/")),
        (false, true) => format!("field `{}`", field.join(".")),
        (false, false) => format!("`{}` of field `{}`", rest.join("/"), field.join(".")),
    }
}

fn previous_label(index: usize) -> String {
    if index == 0 {
        "the previous version".to_owned()
    } else {
        format!("version n-{} (n being the new version)", index + 1)
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
        return format!("{what}: still compatible");
    }
    let previous = previous_label(previous_version);
    match direction {
        Direction::Backward => {
            format!("{what}: data written with {previous} can no longer be read")
        }
        Direction::Forward => format!(
            "{what}: consumers still on {previous} cannot read data written with the new version"
        ),
    }
}

fn values(detail: Option<&(String, String)>) -> String {
    detail.map_or_else(String::new, |(old, new)| format!(" (from {old} to {new})"))
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
    if let Some((keyword, verb)) = keyword_and_verb(kind) {
        return format!("`{keyword}` of {loc} {verb}{v}");
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
