//! `#[handler(...)]`: [`ast`] reads the arguments and the fn's signature, [`valid`] checks
//! them, [`expand`] writes the handler type.

pub mod ast;
mod expand;
mod valid;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

pub fn expand_attribute(args: TokenStream, item: ItemFn, herald: &TokenStream) -> TokenStream {
    match build(args, &item, herald) {
        Ok(handler) => quote!(#item #handler),
        // The fn is kept as written even then, so its callers do not add errors of their own.
        Err(error) => {
            let error = error.into_compile_error();
            quote!(#item #error)
        }
    }
}

pub fn build(args: TokenStream, item: &ItemFn, herald: &TokenStream) -> syn::Result<TokenStream> {
    let parsed = ast::Input::parse(args, item)?;
    let handler = valid::validate(parsed)?;
    Ok(expand::expand(&handler, herald))
}
