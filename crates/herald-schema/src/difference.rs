//! Every difference type the engine reports: Confluent's `Difference.Type` names, which of them
//! each policy accepts, and a few herald extensions for keywords Confluent does not compare.

use crate::Policy;

/// A Confluent difference type (`TYPE_CHANGED`, `PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL`, ...).
///
/// The variants are Confluent's `Difference.Type` (json-schema-provider), plus the herald
/// extensions listed in [`DifferenceType::is_herald_extension`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DifferenceType {
    /// `ID_CHANGED`
    IdChanged,
    /// `DESCRIPTION_CHANGED`
    DescriptionChanged,
    /// `TITLE_CHANGED`
    TitleChanged,
    /// `DEFAULT_CHANGED`
    DefaultChanged,
    /// `SCHEMA_ADDED`
    SchemaAdded,
    /// `SCHEMA_REMOVED`
    SchemaRemoved,
    /// `TYPE_EXTENDED`
    TypeExtended,
    /// `TYPE_NARROWED`
    TypeNarrowed,
    /// `TYPE_CHANGED`
    TypeChanged,
    /// `MAX_LENGTH_ADDED`
    MaxLengthAdded,
    /// `MAX_LENGTH_REMOVED`
    MaxLengthRemoved,
    /// `MAX_LENGTH_INCREASED`
    MaxLengthIncreased,
    /// `MAX_LENGTH_DECREASED`
    MaxLengthDecreased,
    /// `MIN_LENGTH_ADDED`
    MinLengthAdded,
    /// `MIN_LENGTH_REMOVED`
    MinLengthRemoved,
    /// `MIN_LENGTH_INCREASED`
    MinLengthIncreased,
    /// `MIN_LENGTH_DECREASED`
    MinLengthDecreased,
    /// `PATTERN_ADDED`
    PatternAdded,
    /// `PATTERN_REMOVED`
    PatternRemoved,
    /// `PATTERN_CHANGED`
    PatternChanged,
    /// `MAXIMUM_ADDED`
    MaximumAdded,
    /// `MAXIMUM_REMOVED`
    MaximumRemoved,
    /// `MAXIMUM_INCREASED`
    MaximumIncreased,
    /// `MAXIMUM_DECREASED`
    MaximumDecreased,
    /// `MINIMUM_ADDED`
    MinimumAdded,
    /// `MINIMUM_REMOVED`
    MinimumRemoved,
    /// `MINIMUM_INCREASED`
    MinimumIncreased,
    /// `MINIMUM_DECREASED`
    MinimumDecreased,
    /// `EXCLUSIVE_MAXIMUM_ADDED`
    ExclusiveMaximumAdded,
    /// `EXCLUSIVE_MAXIMUM_REMOVED`
    ExclusiveMaximumRemoved,
    /// `EXCLUSIVE_MAXIMUM_INCREASED`
    ExclusiveMaximumIncreased,
    /// `EXCLUSIVE_MAXIMUM_DECREASED`
    ExclusiveMaximumDecreased,
    /// `EXCLUSIVE_MINIMUM_ADDED`
    ExclusiveMinimumAdded,
    /// `EXCLUSIVE_MINIMUM_REMOVED`
    ExclusiveMinimumRemoved,
    /// `EXCLUSIVE_MINIMUM_INCREASED`
    ExclusiveMinimumIncreased,
    /// `EXCLUSIVE_MINIMUM_DECREASED`
    ExclusiveMinimumDecreased,
    /// `MULTIPLE_OF_ADDED`
    MultipleOfAdded,
    /// `MULTIPLE_OF_REMOVED`
    MultipleOfRemoved,
    /// `MULTIPLE_OF_EXPANDED`
    MultipleOfExpanded,
    /// `MULTIPLE_OF_REDUCED`
    MultipleOfReduced,
    /// `MULTIPLE_OF_CHANGED`
    MultipleOfChanged,
    /// `REQUIRED_ATTRIBUTE_ADDED`
    RequiredAttributeAdded,
    /// `REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED`
    RequiredAttributeWithDefaultAdded,
    /// `REQUIRED_ATTRIBUTE_REMOVED`
    RequiredAttributeRemoved,
    /// `MAX_PROPERTIES_ADDED`
    MaxPropertiesAdded,
    /// `MAX_PROPERTIES_REMOVED`
    MaxPropertiesRemoved,
    /// `MAX_PROPERTIES_INCREASED`
    MaxPropertiesIncreased,
    /// `MAX_PROPERTIES_DECREASED`
    MaxPropertiesDecreased,
    /// `MIN_PROPERTIES_ADDED`
    MinPropertiesAdded,
    /// `MIN_PROPERTIES_REMOVED`
    MinPropertiesRemoved,
    /// `MIN_PROPERTIES_INCREASED`
    MinPropertiesIncreased,
    /// `MIN_PROPERTIES_DECREASED`
    MinPropertiesDecreased,
    /// `ADDITIONAL_PROPERTIES_ADDED`
    AdditionalPropertiesAdded,
    /// `ADDITIONAL_PROPERTIES_REMOVED`
    AdditionalPropertiesRemoved,
    /// `ADDITIONAL_PROPERTIES_EXTENDED`
    AdditionalPropertiesExtended,
    /// `ADDITIONAL_PROPERTIES_NARROWED`
    AdditionalPropertiesNarrowed,
    /// `DEPENDENCY_ARRAY_ADDED`
    DependencyArrayAdded,
    /// `DEPENDENCY_ARRAY_REMOVED`
    DependencyArrayRemoved,
    /// `DEPENDENCY_ARRAY_EXTENDED`
    DependencyArrayExtended,
    /// `DEPENDENCY_ARRAY_NARROWED`
    DependencyArrayNarrowed,
    /// `DEPENDENCY_ARRAY_CHANGED`
    DependencyArrayChanged,
    /// `DEPENDENCY_SCHEMA_ADDED`
    DependencySchemaAdded,
    /// `DEPENDENCY_SCHEMA_REMOVED`
    DependencySchemaRemoved,
    /// `PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL`
    PropertyAddedToOpenContentModel,
    /// `REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL`
    RequiredPropertyAddedToOpenContentModel,
    /// `REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL`
    RequiredPropertyWithDefaultAddedToOpenContentModel,
    /// `OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL`
    OptionalPropertyAddedToOpenContentModel,
    /// `PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL`
    PropertyWithEmptySchemaAddedToOpenContentModel,
    /// `REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL`
    RequiredPropertyAddedToUnopenContentModel,
    /// `REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL`
    RequiredPropertyWithDefaultAddedToUnopenContentModel,
    /// `OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL`
    OptionalPropertyAddedToUnopenContentModel,
    /// `PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL`
    PropertyRemovedFromOpenContentModel,
    /// `PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL`
    PropertyWithFalseRemovedFromClosedContentModel,
    /// `PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL`
    PropertyRemovedFromClosedContentModel,
    /// `PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL`
    PropertyRemovedIsCoveredByPartiallyOpenContentModel,
    /// `PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL`
    PropertyRemovedNotCoveredByPartiallyOpenContentModel,
    /// `PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL`
    PropertyAddedIsCoveredByPartiallyOpenContentModel,
    /// `PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL`
    PropertyAddedNotCoveredByPartiallyOpenContentModel,
    /// `RESERVED_PROPERTY_REMOVED`
    ReservedPropertyRemoved,
    /// `RESERVED_PROPERTY_CONFLICTS_WITH_PROPERTY`
    ReservedPropertyConflictsWithProperty,
    /// `UNEVALUATED_PROPERTIES_ADDED`
    UnevaluatedPropertiesAdded,
    /// `UNEVALUATED_PROPERTIES_REMOVED`
    UnevaluatedPropertiesRemoved,
    /// `UNEVALUATED_PROPERTIES_EXTENDED`
    UnevaluatedPropertiesExtended,
    /// `UNEVALUATED_PROPERTIES_NARROWED`
    UnevaluatedPropertiesNarrowed,
    /// `MAX_ITEMS_ADDED`
    MaxItemsAdded,
    /// `MAX_ITEMS_REMOVED`
    MaxItemsRemoved,
    /// `MAX_ITEMS_INCREASED`
    MaxItemsIncreased,
    /// `MAX_ITEMS_DECREASED`
    MaxItemsDecreased,
    /// `MIN_ITEMS_ADDED`
    MinItemsAdded,
    /// `MIN_ITEMS_REMOVED`
    MinItemsRemoved,
    /// `MIN_ITEMS_INCREASED`
    MinItemsIncreased,
    /// `MIN_ITEMS_DECREASED`
    MinItemsDecreased,
    /// `MAX_CONTAINS_ADDED`
    MaxContainsAdded,
    /// `MAX_CONTAINS_REMOVED`
    MaxContainsRemoved,
    /// `MAX_CONTAINS_INCREASED`
    MaxContainsIncreased,
    /// `MAX_CONTAINS_DECREASED`
    MaxContainsDecreased,
    /// `MIN_CONTAINS_ADDED`
    MinContainsAdded,
    /// `MIN_CONTAINS_REMOVED`
    MinContainsRemoved,
    /// `MIN_CONTAINS_INCREASED`
    MinContainsIncreased,
    /// `MIN_CONTAINS_DECREASED`
    MinContainsDecreased,
    /// `UNIQUE_ITEMS_ADDED`
    UniqueItemsAdded,
    /// `UNIQUE_ITEMS_REMOVED`
    UniqueItemsRemoved,
    /// `ADDITIONAL_ITEMS_ADDED`
    AdditionalItemsAdded,
    /// `ADDITIONAL_ITEMS_REMOVED`
    AdditionalItemsRemoved,
    /// `ADDITIONAL_ITEMS_EXTENDED`
    AdditionalItemsExtended,
    /// `ADDITIONAL_ITEMS_NARROWED`
    AdditionalItemsNarrowed,
    /// `UNEVALUATED_ITEMS_ADDED`
    UnevaluatedItemsAdded,
    /// `UNEVALUATED_ITEMS_REMOVED`
    UnevaluatedItemsRemoved,
    /// `UNEVALUATED_ITEMS_EXTENDED`
    UnevaluatedItemsExtended,
    /// `UNEVALUATED_ITEMS_NARROWED`
    UnevaluatedItemsNarrowed,
    /// `ITEM_ADDED_TO_OPEN_CONTENT_MODEL`
    ItemAddedToOpenContentModel,
    /// `ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL`
    ItemWithEmptySchemaAddedToOpenContentModel,
    /// `ITEM_ADDED_TO_CLOSED_CONTENT_MODEL`
    ItemAddedToClosedContentModel,
    /// `ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL`
    ItemRemovedFromOpenContentModel,
    /// `ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL`
    ItemWithFalseRemovedFromClosedContentModel,
    /// `ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL`
    ItemRemovedFromClosedContentModel,
    /// `ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL`
    ItemRemovedIsCoveredByPartiallyOpenContentModel,
    /// `ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL`
    ItemRemovedNotCoveredByPartiallyOpenContentModel,
    /// `ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL`
    ItemAddedIsCoveredByPartiallyOpenContentModel,
    /// `ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL`
    ItemAddedNotCoveredByPartiallyOpenContentModel,
    /// `ENUM_ARRAY_EXTENDED`
    EnumArrayExtended,
    /// `ENUM_ARRAY_NARROWED`
    EnumArrayNarrowed,
    /// `ENUM_ARRAY_CHANGED`
    EnumArrayChanged,
    /// `COMBINED_TYPE_EXTENDED`
    CombinedTypeExtended,
    /// `COMBINED_TYPE_CHANGED`
    CombinedTypeChanged,
    /// `PRODUCT_TYPE_EXTENDED`
    ProductTypeExtended,
    /// `PRODUCT_TYPE_NARROWED`
    ProductTypeNarrowed,
    /// `SUM_TYPE_EXTENDED`
    SumTypeExtended,
    /// `SUM_TYPE_NARROWED`
    SumTypeNarrowed,
    /// `COMBINED_TYPE_SUBSCHEMAS_CHANGED`
    CombinedTypeSubschemasChanged,
    /// `NOT_TYPE_EXTENDED`
    NotTypeExtended,
    /// `NOT_TYPE_NARROWED`
    NotTypeNarrowed,
    /// `FORMAT_ADDED` (herald extension)
    FormatAdded,
    /// `FORMAT_REMOVED` (herald extension)
    FormatRemoved,
    /// `FORMAT_CHANGED` (herald extension)
    FormatChanged,
    /// `CONTENT_ENCODING_ADDED` (herald extension)
    ContentEncodingAdded,
    /// `CONTENT_ENCODING_REMOVED` (herald extension)
    ContentEncodingRemoved,
    /// `CONTENT_ENCODING_CHANGED` (herald extension)
    ContentEncodingChanged,
    /// `CONTENT_MEDIA_TYPE_ADDED` (herald extension)
    ContentMediaTypeAdded,
    /// `CONTENT_MEDIA_TYPE_REMOVED` (herald extension)
    ContentMediaTypeRemoved,
    /// `CONTENT_MEDIA_TYPE_CHANGED` (herald extension)
    ContentMediaTypeChanged,
    /// `CONDITION_CHANGED` (herald extension)
    ConditionChanged,
}

/// How a difference type counts under each policy.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Compatible under STRICT and LENIENT.
    Compatible,
    /// Compatible under LENIENT only.
    Lenient,
    /// Never compatible.
    Incompatible,
}

impl DifferenceType {
    /// Every type, in declaration order.
    pub const ALL: &'static [DifferenceType] = &[
        Self::IdChanged,
        Self::DescriptionChanged,
        Self::TitleChanged,
        Self::DefaultChanged,
        Self::SchemaAdded,
        Self::SchemaRemoved,
        Self::TypeExtended,
        Self::TypeNarrowed,
        Self::TypeChanged,
        Self::MaxLengthAdded,
        Self::MaxLengthRemoved,
        Self::MaxLengthIncreased,
        Self::MaxLengthDecreased,
        Self::MinLengthAdded,
        Self::MinLengthRemoved,
        Self::MinLengthIncreased,
        Self::MinLengthDecreased,
        Self::PatternAdded,
        Self::PatternRemoved,
        Self::PatternChanged,
        Self::MaximumAdded,
        Self::MaximumRemoved,
        Self::MaximumIncreased,
        Self::MaximumDecreased,
        Self::MinimumAdded,
        Self::MinimumRemoved,
        Self::MinimumIncreased,
        Self::MinimumDecreased,
        Self::ExclusiveMaximumAdded,
        Self::ExclusiveMaximumRemoved,
        Self::ExclusiveMaximumIncreased,
        Self::ExclusiveMaximumDecreased,
        Self::ExclusiveMinimumAdded,
        Self::ExclusiveMinimumRemoved,
        Self::ExclusiveMinimumIncreased,
        Self::ExclusiveMinimumDecreased,
        Self::MultipleOfAdded,
        Self::MultipleOfRemoved,
        Self::MultipleOfExpanded,
        Self::MultipleOfReduced,
        Self::MultipleOfChanged,
        Self::RequiredAttributeAdded,
        Self::RequiredAttributeWithDefaultAdded,
        Self::RequiredAttributeRemoved,
        Self::MaxPropertiesAdded,
        Self::MaxPropertiesRemoved,
        Self::MaxPropertiesIncreased,
        Self::MaxPropertiesDecreased,
        Self::MinPropertiesAdded,
        Self::MinPropertiesRemoved,
        Self::MinPropertiesIncreased,
        Self::MinPropertiesDecreased,
        Self::AdditionalPropertiesAdded,
        Self::AdditionalPropertiesRemoved,
        Self::AdditionalPropertiesExtended,
        Self::AdditionalPropertiesNarrowed,
        Self::DependencyArrayAdded,
        Self::DependencyArrayRemoved,
        Self::DependencyArrayExtended,
        Self::DependencyArrayNarrowed,
        Self::DependencyArrayChanged,
        Self::DependencySchemaAdded,
        Self::DependencySchemaRemoved,
        Self::PropertyAddedToOpenContentModel,
        Self::RequiredPropertyAddedToOpenContentModel,
        Self::RequiredPropertyWithDefaultAddedToOpenContentModel,
        Self::OptionalPropertyAddedToOpenContentModel,
        Self::PropertyWithEmptySchemaAddedToOpenContentModel,
        Self::RequiredPropertyAddedToUnopenContentModel,
        Self::RequiredPropertyWithDefaultAddedToUnopenContentModel,
        Self::OptionalPropertyAddedToUnopenContentModel,
        Self::PropertyRemovedFromOpenContentModel,
        Self::PropertyWithFalseRemovedFromClosedContentModel,
        Self::PropertyRemovedFromClosedContentModel,
        Self::PropertyRemovedIsCoveredByPartiallyOpenContentModel,
        Self::PropertyRemovedNotCoveredByPartiallyOpenContentModel,
        Self::PropertyAddedIsCoveredByPartiallyOpenContentModel,
        Self::PropertyAddedNotCoveredByPartiallyOpenContentModel,
        Self::ReservedPropertyRemoved,
        Self::ReservedPropertyConflictsWithProperty,
        Self::UnevaluatedPropertiesAdded,
        Self::UnevaluatedPropertiesRemoved,
        Self::UnevaluatedPropertiesExtended,
        Self::UnevaluatedPropertiesNarrowed,
        Self::MaxItemsAdded,
        Self::MaxItemsRemoved,
        Self::MaxItemsIncreased,
        Self::MaxItemsDecreased,
        Self::MinItemsAdded,
        Self::MinItemsRemoved,
        Self::MinItemsIncreased,
        Self::MinItemsDecreased,
        Self::MaxContainsAdded,
        Self::MaxContainsRemoved,
        Self::MaxContainsIncreased,
        Self::MaxContainsDecreased,
        Self::MinContainsAdded,
        Self::MinContainsRemoved,
        Self::MinContainsIncreased,
        Self::MinContainsDecreased,
        Self::UniqueItemsAdded,
        Self::UniqueItemsRemoved,
        Self::AdditionalItemsAdded,
        Self::AdditionalItemsRemoved,
        Self::AdditionalItemsExtended,
        Self::AdditionalItemsNarrowed,
        Self::UnevaluatedItemsAdded,
        Self::UnevaluatedItemsRemoved,
        Self::UnevaluatedItemsExtended,
        Self::UnevaluatedItemsNarrowed,
        Self::ItemAddedToOpenContentModel,
        Self::ItemWithEmptySchemaAddedToOpenContentModel,
        Self::ItemAddedToClosedContentModel,
        Self::ItemRemovedFromOpenContentModel,
        Self::ItemWithFalseRemovedFromClosedContentModel,
        Self::ItemRemovedFromClosedContentModel,
        Self::ItemRemovedIsCoveredByPartiallyOpenContentModel,
        Self::ItemRemovedNotCoveredByPartiallyOpenContentModel,
        Self::ItemAddedIsCoveredByPartiallyOpenContentModel,
        Self::ItemAddedNotCoveredByPartiallyOpenContentModel,
        Self::EnumArrayExtended,
        Self::EnumArrayNarrowed,
        Self::EnumArrayChanged,
        Self::CombinedTypeExtended,
        Self::CombinedTypeChanged,
        Self::ProductTypeExtended,
        Self::ProductTypeNarrowed,
        Self::SumTypeExtended,
        Self::SumTypeNarrowed,
        Self::CombinedTypeSubschemasChanged,
        Self::NotTypeExtended,
        Self::NotTypeNarrowed,
        Self::FormatAdded,
        Self::FormatRemoved,
        Self::FormatChanged,
        Self::ContentEncodingAdded,
        Self::ContentEncodingRemoved,
        Self::ContentEncodingChanged,
        Self::ContentMediaTypeAdded,
        Self::ContentMediaTypeRemoved,
        Self::ContentMediaTypeChanged,
        Self::ConditionChanged,
    ];

    /// Confluent's name for the type, e.g. `TYPE_CHANGED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdChanged => "ID_CHANGED",
            Self::DescriptionChanged => "DESCRIPTION_CHANGED",
            Self::TitleChanged => "TITLE_CHANGED",
            Self::DefaultChanged => "DEFAULT_CHANGED",
            Self::SchemaAdded => "SCHEMA_ADDED",
            Self::SchemaRemoved => "SCHEMA_REMOVED",
            Self::TypeExtended => "TYPE_EXTENDED",
            Self::TypeNarrowed => "TYPE_NARROWED",
            Self::TypeChanged => "TYPE_CHANGED",
            Self::MaxLengthAdded => "MAX_LENGTH_ADDED",
            Self::MaxLengthRemoved => "MAX_LENGTH_REMOVED",
            Self::MaxLengthIncreased => "MAX_LENGTH_INCREASED",
            Self::MaxLengthDecreased => "MAX_LENGTH_DECREASED",
            Self::MinLengthAdded => "MIN_LENGTH_ADDED",
            Self::MinLengthRemoved => "MIN_LENGTH_REMOVED",
            Self::MinLengthIncreased => "MIN_LENGTH_INCREASED",
            Self::MinLengthDecreased => "MIN_LENGTH_DECREASED",
            Self::PatternAdded => "PATTERN_ADDED",
            Self::PatternRemoved => "PATTERN_REMOVED",
            Self::PatternChanged => "PATTERN_CHANGED",
            Self::MaximumAdded => "MAXIMUM_ADDED",
            Self::MaximumRemoved => "MAXIMUM_REMOVED",
            Self::MaximumIncreased => "MAXIMUM_INCREASED",
            Self::MaximumDecreased => "MAXIMUM_DECREASED",
            Self::MinimumAdded => "MINIMUM_ADDED",
            Self::MinimumRemoved => "MINIMUM_REMOVED",
            Self::MinimumIncreased => "MINIMUM_INCREASED",
            Self::MinimumDecreased => "MINIMUM_DECREASED",
            Self::ExclusiveMaximumAdded => "EXCLUSIVE_MAXIMUM_ADDED",
            Self::ExclusiveMaximumRemoved => "EXCLUSIVE_MAXIMUM_REMOVED",
            Self::ExclusiveMaximumIncreased => "EXCLUSIVE_MAXIMUM_INCREASED",
            Self::ExclusiveMaximumDecreased => "EXCLUSIVE_MAXIMUM_DECREASED",
            Self::ExclusiveMinimumAdded => "EXCLUSIVE_MINIMUM_ADDED",
            Self::ExclusiveMinimumRemoved => "EXCLUSIVE_MINIMUM_REMOVED",
            Self::ExclusiveMinimumIncreased => "EXCLUSIVE_MINIMUM_INCREASED",
            Self::ExclusiveMinimumDecreased => "EXCLUSIVE_MINIMUM_DECREASED",
            Self::MultipleOfAdded => "MULTIPLE_OF_ADDED",
            Self::MultipleOfRemoved => "MULTIPLE_OF_REMOVED",
            Self::MultipleOfExpanded => "MULTIPLE_OF_EXPANDED",
            Self::MultipleOfReduced => "MULTIPLE_OF_REDUCED",
            Self::MultipleOfChanged => "MULTIPLE_OF_CHANGED",
            Self::RequiredAttributeAdded => "REQUIRED_ATTRIBUTE_ADDED",
            Self::RequiredAttributeWithDefaultAdded => "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
            Self::RequiredAttributeRemoved => "REQUIRED_ATTRIBUTE_REMOVED",
            Self::MaxPropertiesAdded => "MAX_PROPERTIES_ADDED",
            Self::MaxPropertiesRemoved => "MAX_PROPERTIES_REMOVED",
            Self::MaxPropertiesIncreased => "MAX_PROPERTIES_INCREASED",
            Self::MaxPropertiesDecreased => "MAX_PROPERTIES_DECREASED",
            Self::MinPropertiesAdded => "MIN_PROPERTIES_ADDED",
            Self::MinPropertiesRemoved => "MIN_PROPERTIES_REMOVED",
            Self::MinPropertiesIncreased => "MIN_PROPERTIES_INCREASED",
            Self::MinPropertiesDecreased => "MIN_PROPERTIES_DECREASED",
            Self::AdditionalPropertiesAdded => "ADDITIONAL_PROPERTIES_ADDED",
            Self::AdditionalPropertiesRemoved => "ADDITIONAL_PROPERTIES_REMOVED",
            Self::AdditionalPropertiesExtended => "ADDITIONAL_PROPERTIES_EXTENDED",
            Self::AdditionalPropertiesNarrowed => "ADDITIONAL_PROPERTIES_NARROWED",
            Self::DependencyArrayAdded => "DEPENDENCY_ARRAY_ADDED",
            Self::DependencyArrayRemoved => "DEPENDENCY_ARRAY_REMOVED",
            Self::DependencyArrayExtended => "DEPENDENCY_ARRAY_EXTENDED",
            Self::DependencyArrayNarrowed => "DEPENDENCY_ARRAY_NARROWED",
            Self::DependencyArrayChanged => "DEPENDENCY_ARRAY_CHANGED",
            Self::DependencySchemaAdded => "DEPENDENCY_SCHEMA_ADDED",
            Self::DependencySchemaRemoved => "DEPENDENCY_SCHEMA_REMOVED",
            Self::PropertyAddedToOpenContentModel => "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
            Self::RequiredPropertyAddedToOpenContentModel => {
                "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
            }
            Self::RequiredPropertyWithDefaultAddedToOpenContentModel => {
                "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL"
            }
            Self::OptionalPropertyAddedToOpenContentModel => {
                "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
            }
            Self::PropertyWithEmptySchemaAddedToOpenContentModel => {
                "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
            }
            Self::RequiredPropertyAddedToUnopenContentModel => {
                "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
            }
            Self::RequiredPropertyWithDefaultAddedToUnopenContentModel => {
                "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"
            }
            Self::OptionalPropertyAddedToUnopenContentModel => {
                "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
            }
            Self::PropertyRemovedFromOpenContentModel => "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
            Self::PropertyWithFalseRemovedFromClosedContentModel => {
                "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
            }
            Self::PropertyRemovedFromClosedContentModel => {
                "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"
            }
            Self::PropertyRemovedIsCoveredByPartiallyOpenContentModel => {
                "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            Self::PropertyRemovedNotCoveredByPartiallyOpenContentModel => {
                "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            Self::PropertyAddedIsCoveredByPartiallyOpenContentModel => {
                "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            Self::PropertyAddedNotCoveredByPartiallyOpenContentModel => {
                "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            Self::ReservedPropertyRemoved => "RESERVED_PROPERTY_REMOVED",
            Self::ReservedPropertyConflictsWithProperty => {
                "RESERVED_PROPERTY_CONFLICTS_WITH_PROPERTY"
            }
            Self::UnevaluatedPropertiesAdded => "UNEVALUATED_PROPERTIES_ADDED",
            Self::UnevaluatedPropertiesRemoved => "UNEVALUATED_PROPERTIES_REMOVED",
            Self::UnevaluatedPropertiesExtended => "UNEVALUATED_PROPERTIES_EXTENDED",
            Self::UnevaluatedPropertiesNarrowed => "UNEVALUATED_PROPERTIES_NARROWED",
            Self::MaxItemsAdded => "MAX_ITEMS_ADDED",
            Self::MaxItemsRemoved => "MAX_ITEMS_REMOVED",
            Self::MaxItemsIncreased => "MAX_ITEMS_INCREASED",
            Self::MaxItemsDecreased => "MAX_ITEMS_DECREASED",
            Self::MinItemsAdded => "MIN_ITEMS_ADDED",
            Self::MinItemsRemoved => "MIN_ITEMS_REMOVED",
            Self::MinItemsIncreased => "MIN_ITEMS_INCREASED",
            Self::MinItemsDecreased => "MIN_ITEMS_DECREASED",
            Self::MaxContainsAdded => "MAX_CONTAINS_ADDED",
            Self::MaxContainsRemoved => "MAX_CONTAINS_REMOVED",
            Self::MaxContainsIncreased => "MAX_CONTAINS_INCREASED",
            Self::MaxContainsDecreased => "MAX_CONTAINS_DECREASED",
            Self::MinContainsAdded => "MIN_CONTAINS_ADDED",
            Self::MinContainsRemoved => "MIN_CONTAINS_REMOVED",
            Self::MinContainsIncreased => "MIN_CONTAINS_INCREASED",
            Self::MinContainsDecreased => "MIN_CONTAINS_DECREASED",
            Self::UniqueItemsAdded => "UNIQUE_ITEMS_ADDED",
            Self::UniqueItemsRemoved => "UNIQUE_ITEMS_REMOVED",
            Self::AdditionalItemsAdded => "ADDITIONAL_ITEMS_ADDED",
            Self::AdditionalItemsRemoved => "ADDITIONAL_ITEMS_REMOVED",
            Self::AdditionalItemsExtended => "ADDITIONAL_ITEMS_EXTENDED",
            Self::AdditionalItemsNarrowed => "ADDITIONAL_ITEMS_NARROWED",
            Self::UnevaluatedItemsAdded => "UNEVALUATED_ITEMS_ADDED",
            Self::UnevaluatedItemsRemoved => "UNEVALUATED_ITEMS_REMOVED",
            Self::UnevaluatedItemsExtended => "UNEVALUATED_ITEMS_EXTENDED",
            Self::UnevaluatedItemsNarrowed => "UNEVALUATED_ITEMS_NARROWED",
            Self::ItemAddedToOpenContentModel => "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
            Self::ItemWithEmptySchemaAddedToOpenContentModel => {
                "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
            }
            Self::ItemAddedToClosedContentModel => "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
            Self::ItemRemovedFromOpenContentModel => "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
            Self::ItemWithFalseRemovedFromClosedContentModel => {
                "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"
            }
            Self::ItemRemovedFromClosedContentModel => "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
            Self::ItemRemovedIsCoveredByPartiallyOpenContentModel => {
                "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            Self::ItemRemovedNotCoveredByPartiallyOpenContentModel => {
                "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            Self::ItemAddedIsCoveredByPartiallyOpenContentModel => {
                "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            Self::ItemAddedNotCoveredByPartiallyOpenContentModel => {
                "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
            }
            Self::EnumArrayExtended => "ENUM_ARRAY_EXTENDED",
            Self::EnumArrayNarrowed => "ENUM_ARRAY_NARROWED",
            Self::EnumArrayChanged => "ENUM_ARRAY_CHANGED",
            Self::CombinedTypeExtended => "COMBINED_TYPE_EXTENDED",
            Self::CombinedTypeChanged => "COMBINED_TYPE_CHANGED",
            Self::ProductTypeExtended => "PRODUCT_TYPE_EXTENDED",
            Self::ProductTypeNarrowed => "PRODUCT_TYPE_NARROWED",
            Self::SumTypeExtended => "SUM_TYPE_EXTENDED",
            Self::SumTypeNarrowed => "SUM_TYPE_NARROWED",
            Self::CombinedTypeSubschemasChanged => "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
            Self::NotTypeExtended => "NOT_TYPE_EXTENDED",
            Self::NotTypeNarrowed => "NOT_TYPE_NARROWED",
            Self::FormatAdded => "FORMAT_ADDED",
            Self::FormatRemoved => "FORMAT_REMOVED",
            Self::FormatChanged => "FORMAT_CHANGED",
            Self::ContentEncodingAdded => "CONTENT_ENCODING_ADDED",
            Self::ContentEncodingRemoved => "CONTENT_ENCODING_REMOVED",
            Self::ContentEncodingChanged => "CONTENT_ENCODING_CHANGED",
            Self::ContentMediaTypeAdded => "CONTENT_MEDIA_TYPE_ADDED",
            Self::ContentMediaTypeRemoved => "CONTENT_MEDIA_TYPE_REMOVED",
            Self::ContentMediaTypeChanged => "CONTENT_MEDIA_TYPE_CHANGED",
            Self::ConditionChanged => "CONDITION_CHANGED",
        }
    }

    /// The type named `name` (Confluent's spelling).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == name)
    }

    fn class(self) -> Class {
        match self {
            Self::IdChanged
            | Self::DescriptionChanged
            | Self::TitleChanged
            | Self::DefaultChanged
            | Self::SchemaRemoved
            | Self::TypeExtended
            | Self::MaxLengthRemoved
            | Self::MaxLengthIncreased
            | Self::MinLengthRemoved
            | Self::MinLengthDecreased
            | Self::PatternRemoved
            | Self::MaximumRemoved
            | Self::MaximumIncreased
            | Self::MinimumRemoved
            | Self::MinimumDecreased
            | Self::ExclusiveMaximumRemoved
            | Self::ExclusiveMaximumIncreased
            | Self::ExclusiveMinimumRemoved
            | Self::ExclusiveMinimumDecreased
            | Self::MultipleOfRemoved
            | Self::MultipleOfReduced
            | Self::RequiredAttributeWithDefaultAdded
            | Self::RequiredAttributeRemoved
            | Self::MaxPropertiesRemoved
            | Self::MaxPropertiesIncreased
            | Self::MinPropertiesRemoved
            | Self::MinPropertiesDecreased
            | Self::AdditionalPropertiesAdded
            | Self::AdditionalPropertiesExtended
            | Self::DependencyArrayRemoved
            | Self::DependencyArrayNarrowed
            | Self::DependencySchemaRemoved
            | Self::PropertyWithEmptySchemaAddedToOpenContentModel
            | Self::RequiredPropertyWithDefaultAddedToUnopenContentModel
            | Self::OptionalPropertyAddedToUnopenContentModel
            | Self::PropertyRemovedFromOpenContentModel
            | Self::PropertyWithFalseRemovedFromClosedContentModel
            | Self::PropertyRemovedIsCoveredByPartiallyOpenContentModel
            | Self::PropertyAddedIsCoveredByPartiallyOpenContentModel
            | Self::UnevaluatedPropertiesAdded
            | Self::UnevaluatedPropertiesExtended
            | Self::MaxItemsRemoved
            | Self::MaxItemsIncreased
            | Self::MinItemsRemoved
            | Self::MinItemsDecreased
            | Self::MaxContainsRemoved
            | Self::MaxContainsIncreased
            | Self::MinContainsRemoved
            | Self::MinContainsDecreased
            | Self::UniqueItemsRemoved
            | Self::AdditionalItemsAdded
            | Self::AdditionalItemsExtended
            | Self::UnevaluatedItemsAdded
            | Self::UnevaluatedItemsExtended
            | Self::ItemWithEmptySchemaAddedToOpenContentModel
            | Self::ItemAddedToClosedContentModel
            | Self::ItemRemovedFromOpenContentModel
            | Self::ItemWithFalseRemovedFromClosedContentModel
            | Self::ItemRemovedIsCoveredByPartiallyOpenContentModel
            | Self::ItemAddedIsCoveredByPartiallyOpenContentModel
            | Self::EnumArrayExtended
            | Self::CombinedTypeExtended
            | Self::ProductTypeNarrowed
            | Self::SumTypeExtended
            | Self::NotTypeNarrowed
            | Self::FormatRemoved
            | Self::ContentEncodingRemoved
            | Self::ContentMediaTypeRemoved => Class::Compatible,
            Self::AdditionalPropertiesRemoved
            | Self::AdditionalPropertiesNarrowed
            | Self::RequiredPropertyWithDefaultAddedToOpenContentModel
            | Self::OptionalPropertyAddedToOpenContentModel
            | Self::PropertyRemovedFromClosedContentModel
            | Self::PropertyRemovedNotCoveredByPartiallyOpenContentModel
            | Self::PropertyAddedNotCoveredByPartiallyOpenContentModel
            | Self::UnevaluatedPropertiesRemoved
            | Self::UnevaluatedPropertiesNarrowed => Class::Lenient,
            Self::SchemaAdded
            | Self::TypeNarrowed
            | Self::TypeChanged
            | Self::MaxLengthAdded
            | Self::MaxLengthDecreased
            | Self::MinLengthAdded
            | Self::MinLengthIncreased
            | Self::PatternAdded
            | Self::PatternChanged
            | Self::MaximumAdded
            | Self::MaximumDecreased
            | Self::MinimumAdded
            | Self::MinimumIncreased
            | Self::ExclusiveMaximumAdded
            | Self::ExclusiveMaximumDecreased
            | Self::ExclusiveMinimumAdded
            | Self::ExclusiveMinimumIncreased
            | Self::MultipleOfAdded
            | Self::MultipleOfExpanded
            | Self::MultipleOfChanged
            | Self::RequiredAttributeAdded
            | Self::MaxPropertiesAdded
            | Self::MaxPropertiesDecreased
            | Self::MinPropertiesAdded
            | Self::MinPropertiesIncreased
            | Self::DependencyArrayAdded
            | Self::DependencyArrayExtended
            | Self::DependencyArrayChanged
            | Self::DependencySchemaAdded
            | Self::PropertyAddedToOpenContentModel
            | Self::RequiredPropertyAddedToOpenContentModel
            | Self::RequiredPropertyAddedToUnopenContentModel
            | Self::ReservedPropertyRemoved
            | Self::ReservedPropertyConflictsWithProperty
            | Self::MaxItemsAdded
            | Self::MaxItemsDecreased
            | Self::MinItemsAdded
            | Self::MinItemsIncreased
            | Self::MaxContainsAdded
            | Self::MaxContainsDecreased
            | Self::MinContainsAdded
            | Self::MinContainsIncreased
            | Self::UniqueItemsAdded
            | Self::AdditionalItemsRemoved
            | Self::AdditionalItemsNarrowed
            | Self::UnevaluatedItemsRemoved
            | Self::UnevaluatedItemsNarrowed
            | Self::ItemAddedToOpenContentModel
            | Self::ItemRemovedFromClosedContentModel
            | Self::ItemRemovedNotCoveredByPartiallyOpenContentModel
            | Self::ItemAddedNotCoveredByPartiallyOpenContentModel
            | Self::EnumArrayNarrowed
            | Self::EnumArrayChanged
            | Self::CombinedTypeChanged
            | Self::ProductTypeExtended
            | Self::SumTypeNarrowed
            | Self::CombinedTypeSubschemasChanged
            | Self::NotTypeExtended
            | Self::FormatAdded
            | Self::FormatChanged
            | Self::ContentEncodingAdded
            | Self::ContentEncodingChanged
            | Self::ContentMediaTypeAdded
            | Self::ContentMediaTypeChanged
            | Self::ConditionChanged => Class::Incompatible,
        }
    }

    /// Whether a change of this type keeps the schemas compatible under `policy`
    /// (Confluent's `COMPATIBLE_CHANGES_STRICT` / `COMPATIBLE_CHANGES_LENIENT`).
    pub fn is_compatible(self, policy: Policy) -> bool {
        match self.class() {
            Class::Compatible => true,
            Class::Lenient => policy == Policy::Lenient,
            Class::Incompatible => false,
        }
    }

    /// Whether herald reports this type although Confluent does not (keywords Confluent ignores:
    /// `format`, `contentEncoding`, `contentMediaType`, `if`). See the crate README.
    pub fn is_herald_extension(self) -> bool {
        matches!(
            self,
            Self::FormatAdded
                | Self::FormatRemoved
                | Self::FormatChanged
                | Self::ContentEncodingAdded
                | Self::ContentEncodingRemoved
                | Self::ContentEncodingChanged
                | Self::ContentMediaTypeAdded
                | Self::ContentMediaTypeRemoved
                | Self::ContentMediaTypeChanged
                | Self::ConditionChanged
        )
    }
}

impl std::fmt::Display for DifferenceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way a difference was found: new readers of old data (backward) or old readers of new
/// data (forward).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The new schema reads data written with a previous version.
    Backward,
    /// A previous version reads data written with the new schema.
    Forward,
}

/// One difference between a previous schema and the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub kind: DifferenceType,
    /// JSON path in the new schema (`#/properties/address/properties/zip`).
    pub path: String,
    /// A sentence a person understands.
    pub message: String,
    /// Which previous version this difference is against: an index into `previous` as given to
    /// [`check`](crate::check) (0 is the newest previous version).
    pub previous_version: usize,
    /// Which way the difference was found.
    pub direction: Direction,
    /// Whether this difference alone keeps the schemas compatible under the policy checked.
    pub compatible: bool,
}
