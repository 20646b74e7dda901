//! `#[derive(Event)]`: [`ast`] reads the input, [`attr`] its `#[event(...)]` attributes,
//! [`valid`] checks them, [`expand`] writes the impl.

pub mod ast;
mod attr;
mod expand;
mod valid;

use proc_macro2::TokenStream;
use syn::DeriveInput;

pub fn derive(input: &DeriveInput, herald: &TokenStream) -> syn::Result<TokenStream> {
    let parsed = ast::Input::from_syn(input)?;
    let event = valid::validate(parsed)?;
    Ok(expand::expand(&event, herald))
}

#[cfg(test)]
mod tests;
