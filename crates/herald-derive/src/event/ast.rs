//! The derive input as the macro sees it: a struct with named fields and its attributes.

use syn::{Data, DeriveInput, Fields, Generics, Ident};

use super::attr::{self, Container, FieldMarkers};
use crate::errors::Errors;

pub struct Input<'a> {
    pub ident: &'a Ident,
    pub generics: &'a Generics,
    pub attrs: Container,
    pub fields: Vec<Field<'a>>,
    /// Errors found while reading; reported with validation's.
    pub errors: Errors,
}

pub struct Field<'a> {
    pub ident: &'a Ident,
    pub markers: FieldMarkers,
}

impl<'a> Input<'a> {
    pub fn from_syn(input: &'a DeriveInput) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let attrs = attr::container(&input.attrs, &mut errors);
        let named = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(_) | Fields::Unit => {
                    return Err(errors.fail(
                        input.ident.span(),
                        "#[derive(Event)] needs a struct with named fields: the aggregate id is marked on a field, and the fields are the event's JSON object",
                    ));
                }
            },
            Data::Enum(e) => {
                return Err(errors.fail(
                    e.enum_token.span,
                    "#[derive(Event)] supports structs with named fields, not enums: wrap the enum in a struct that carries the aggregate id",
                ));
            }
            Data::Union(u) => {
                return Err(errors.fail(
                    u.union_token.span,
                    "#[derive(Event)] supports structs with named fields, not unions",
                ));
            }
        };
        let fields = named
            .named
            .iter()
            .filter_map(|f| {
                Some(Field {
                    ident: f.ident.as_ref()?,
                    markers: attr::field(&f.attrs, &mut errors),
                })
            })
            .collect();
        Ok(Input {
            ident: &input.ident,
            generics: &input.generics,
            attrs,
            fields,
            errors,
        })
    }
}
