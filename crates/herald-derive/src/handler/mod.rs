//! `#[handler(...)]`: [`ast`] reads the arguments and the fn's signature, [`valid`] checks
//! them, [`expand`] writes the handler type.

pub mod ast;
mod expand;
pub(crate) mod valid;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

pub fn expand_attribute(args: TokenStream, item: ItemFn, herald: &TokenStream) -> TokenStream {
    match build(args.clone(), &item, herald) {
        Ok(handler) => quote!(#item #handler),
        // The fn is kept as written even then, and the handler type still exists, so their
        // users do not add errors of their own.
        Err(error) => {
            let error = error.into_compile_error();
            let fallback = ast::Input::parse(args, &item)
                .ok()
                .and_then(valid::fallback)
                .map(|f| expand::fallback(&f, herald));
            quote!(#item #error #fallback)
        }
    }
}

pub fn build(args: TokenStream, item: &ItemFn, herald: &TokenStream) -> syn::Result<TokenStream> {
    let parsed = ast::Input::parse(args, item)?;
    let handler = valid::validate(parsed)?;
    Ok(expand::expand(&handler, herald))
}
