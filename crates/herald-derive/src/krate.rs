//! Where generated code finds herald.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

/// `::herald` as the user's `Cargo.toml` names it (`::my_herald` for
/// `my_herald = { package = "herald", ... }`).
///
/// Inside the herald crate itself (its doc tests) this is `::herald` too, which the facade
/// makes valid with `extern crate self as herald`. When no manifest names herald (the
/// macro's own unit tests), `::herald` is the best guess.
pub fn herald_path() -> TokenStream {
    match crate_name("herald") {
        Ok(FoundCrate::Name(name)) => {
            let ident = Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
        Ok(FoundCrate::Itself) | Err(_) => quote!(::herald),
    }
}

/// `::herald_celery` as the user's `Cargo.toml` names it, for `#[task]`. Inside
/// herald-celery (its unit tests) `::herald_celery` too, made valid there with
/// `extern crate self as herald_celery`.
pub fn celery_path() -> TokenStream {
    match crate_name("herald-celery") {
        Ok(FoundCrate::Name(name)) => {
            let ident = Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
        Ok(FoundCrate::Itself) | Err(_) => quote!(::herald_celery),
    }
}
