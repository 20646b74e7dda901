//! `#[derive(Event)]`: [`ast`] reads the input, [`attr`] its `#[event(...)]` attributes,
//! [`valid`] checks them, [`expand`] writes the impl.

pub mod ast;
mod attr;
mod expand;
mod valid;

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

/// The impl, or the errors and a [fallback](expand::fallback) impl so that uses of the type
/// add no errors of their own.
pub fn derive_or_fallback(input: &DeriveInput, herald: &TokenStream) -> TokenStream {
    derive(input, herald).unwrap_or_else(|error| {
        let error = error.into_compile_error();
        let fallback = expand::fallback(input, herald);
        quote!(#error #fallback)
    })
}

pub fn derive(input: &DeriveInput, herald: &TokenStream) -> syn::Result<TokenStream> {
    let parsed = ast::Input::from_syn(input)?;
    let event = valid::validate(parsed)?;
    Ok(expand::expand(&event, herald))
}

#[cfg(test)]
mod tests;
