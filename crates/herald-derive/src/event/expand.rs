//! Writes `impl Event` and the catalog entry: what a careful hand-written impl would be.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned;

use super::attr;
use super::valid::{ContentModel, Event};
use crate::errors::Errors;

pub fn expand(e: &Event<'_>, herald: &TokenStream) -> TokenStream {
    let p = quote!(#herald::__private);
    let ident = e.ident;
    let name = &e.name;
    let version = e.version;
    let aggregate_id = e.aggregate_id;

    let partition_key = e.partition_key.map(|field| {
        quote! {
            fn partition_key(&self) -> ::std::string::String {
                ::std::string::ToString::to_string(&self.#field)
            }
        }
    });

    let idempotency_key = e.idempotency_key.as_ref().map(|fields| {
        let key = match fields.as_slice() {
            [one] => quote!(::std::string::ToString::to_string(&self.#one)),
            many => quote!(#herald::composite_key(&[#(&self.#many),*])),
        };
        quote! {
            fn idempotency_key(&self) -> ::core::option::Option<::std::string::String> {
                ::core::option::Option::Some(#key)
            }
        }
    });

    let (upcast, checks) = match &e.previous {
        None => (None, None),
        Some((span, previous)) => {
            let span = *span;
            let shown = previous.to_token_stream().to_string().replace(' ', "");
            let lower = format!(
                "`previous = {shown}`: {shown}::VERSION must be lower than {ident}'s version {version}"
            );
            let same_name = format!(
                "`previous = {shown}`: {shown}::NAME must be \"{name}\", the same event name as {ident}'s"
            );
            let checks = quote_spanned! {span=>
                const _: () = {
                    ::core::assert!(
                        <#previous as #p::Event>::VERSION < #version,
                        #lower
                    );
                    ::core::assert!(
                        #p::same_name(<#previous as #p::Event>::NAME, #name),
                        #same_name
                    );
                };
            };
            // Spanned on `previous`, so a missing `From` impl is reported there.
            let from = quote_spanned! {previous.span()=>
                <Self as ::core::convert::From<#previous>>::from
            };
            let upcast = quote! {
                fn known_versions() -> ::std::vec::Vec<u32> {
                    let mut versions = <#previous as #p::Event>::known_versions();
                    versions.push(#version);
                    versions
                }

                fn decode_data(
                    version: u32,
                    data: &str,
                ) -> ::core::result::Result<Self, #p::DecodeError> {
                    if version == #version {
                        #p::decode_current::<Self>(data)
                    } else if version < #version {
                        // Older payloads decode into their own type, then upcast one step
                        // at a time through the user's `From` impls.
                        match <#previous as #p::Event>::decode_data(version, data) {
                            ::core::result::Result::Ok(previous) => {
                                ::core::result::Result::Ok(#from(previous))
                            }
                            ::core::result::Result::Err(
                                #p::DecodeError::UnknownVersion { .. },
                            ) => ::core::result::Result::Err(#p::unknown_version::<Self>(version)),
                            ::core::result::Result::Err(error) => {
                                ::core::result::Result::Err(error)
                            }
                        }
                    } else {
                        ::core::result::Result::Err(#p::unknown_version::<Self>(version))
                    }
                }

                fn schema_of_version(version: u32) -> ::core::option::Option<#p::serde_json::Value> {
                    if version == #version {
                        ::core::option::Option::Some(<Self as #p::Event>::schema())
                    } else {
                        <#previous as #p::Event>::schema_of_version(version)
                    }
                }
            };
            (Some(upcast), Some(checks))
        }
    };

    let model = match e.content_model {
        ContentModel::Closed => quote!(Closed),
        ContentModel::Open => quote!(Open),
    };
    let schema = quote! {
        fn schema() -> #p::serde_json::Value {
            #p::event_schema::<Self>(#p::ContentModel::#model)
        }
    };

    let type_name = ident.to_string();
    quote! {
        #[automatically_derived]
        impl #p::Event for #ident {
            const NAME: &'static str = #name;
            const VERSION: u32 = #version;

            fn aggregate_id(&self) -> ::std::string::String {
                ::std::string::ToString::to_string(&self.#aggregate_id)
            }

            #schema
            #partition_key
            #idempotency_key
            #upcast
        }

        #checks

        #p::inventory::submit! {
            #p::EventDescriptor {
                name: #name,
                version: #version,
                rust_type: ::core::concat!(::core::module_path!(), "::", #type_name),
                schema: <#ident as #p::Event>::schema,
            }
        }
    }
}

/// What an invalid input gets besides its errors, as thiserror does: an `impl Event` whose
/// methods are never run (the crate does not compile), so that every use of the type as an
/// event type-checks and the attribute's error is the only one. The name and version are
/// the ones written, when they parse, so a `previous = ThisType` elsewhere is checked
/// against them. A generic type gets none: its `impl` would need bounds on the parameters
/// (and the error says an event cannot be generic).
pub fn fallback(input: &DeriveInput, herald: &TokenStream) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let p = quote!(#herald::__private);
    let ident = &input.ident;
    let attrs = attr::container(&input.attrs, &mut Errors::default());
    let name = attrs.name.map_or_else(String::new, |set| set.value.value());
    let version = attrs
        .version
        .and_then(|set| set.value.base10_parse::<u32>().ok())
        .unwrap_or(0);
    quote! {
        #[automatically_derived]
        impl #p::Event for #ident {
            const NAME: &'static str = #name;
            const VERSION: u32 = #version;

            fn aggregate_id(&self) -> ::std::string::String {
                ::core::unreachable!("#[derive(Event)] on an invalid input does not compile")
            }
        }
    }
}
