//! `#[task(...)]`: [`ast`] reads the arguments and the fn's signature, [`valid`] checks
//! them, [`expand`] writes the task type. The expansion names herald-celery's items
//! (`::herald_celery`, as the user's `Cargo.toml` names it).

mod ast;
mod expand;
mod valid;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

pub fn expand_attribute(args: TokenStream, item: ItemFn, celery: &TokenStream) -> TokenStream {
    match build(args.clone(), &item, celery) {
        Ok(task) => quote!(#item #task),
        // The fn is kept and the task type still exists, so their users add no errors of
        // their own.
        Err(error) => {
            let error = error.into_compile_error();
            let fallback = ast::Input::parse(args, &item)
                .ok()
                .map(|input| expand::fallback(&valid::fallback(&input), celery));
            quote!(#item #error #fallback)
        }
    }
}

pub fn build(args: TokenStream, item: &ItemFn, celery: &TokenStream) -> syn::Result<TokenStream> {
    let parsed = ast::Input::parse(args, item)?;
    let task = valid::validate(parsed)?;
    Ok(expand::expand(&task, celery))
}
