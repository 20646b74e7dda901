//! `herald::schemas_test!()`: the drift test, with the line that links the events in.
//!
//! An integration test (`tests/*.rs`) is its own crate and links its package's library only
//! when it names it; the catalog holds only the events linked in. So in an integration test
//! the macro writes `extern crate <the package's library> as _;`, read from the environment
//! cargo gives the compiler (`CARGO_CRATE_NAME`, `CARGO_MANIFEST_DIR`) and the manifest.

use std::path::Path;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Expr, Ident};

pub fn expand(input: TokenStream, herald: &TokenStream) -> syn::Result<TokenStream> {
    let dir: Option<Expr> = if input.is_empty() {
        None
    } else {
        Some(syn::parse2(input)?)
    };
    let dir = dir.map_or_else(
        || {
            quote!(::core::concat!(
                ::core::env!("CARGO_MANIFEST_DIR"),
                "/schemas"
            ))
        },
        |dir| quote!(#dir),
    );
    let link = library_to_link().map(|lib| {
        let lib = Ident::new(&lib, Span::call_site());
        quote! {
            // Links the package's library, so its events are in this test's catalog.
            extern crate #lib as _;
        }
    });
    Ok(quote! {
        #link

        #[test]
        fn herald_schemas_are_in_sync() {
            #herald::schemas::assert_in_sync(#dir);
        }
    })
}

/// The package's library crate name, when the crate being compiled is another target of the
/// package (an integration test); `None` in the library itself, or when there is none.
fn library_to_link() -> Option<String> {
    let compiling = std::env::var("CARGO_CRATE_NAME").ok()?;
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let lib = library_name(Path::new(&manifest_dir))?;
    (lib != compiling).then_some(lib)
}

/// `[lib] name`, or the package name with `-` as `_` when the package has a library
/// (`[lib]` or `src/lib.rs`).
fn library_name(manifest_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest_dir.join("Cargo.toml")).ok()?;
    let manifest: toml::Table = toml::from_str(&text).ok()?;
    let lib = manifest.get("lib").and_then(|l| l.as_table());
    if lib.is_none() && !manifest_dir.join("src/lib.rs").is_file() {
        return None;
    }
    if let Some(name) = lib.and_then(|l| l.get("name")).and_then(|n| n.as_str()) {
        return Some(name.to_owned());
    }
    let package = manifest.get("package")?.get("name")?.as_str()?;
    Some(package.replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::library_name;

    #[test]
    fn the_library_is_named_by_lib_or_package() {
        let dir = std::env::temp_dir().join(format!("herald-derive-lib-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).expect("dir");
        let manifest = dir.join("Cargo.toml");
        std::fs::write(&manifest, "[package]\nname = \"my-app\"\n").expect("write");
        assert_eq!(library_name(&dir), None, "no src/lib.rs, no [lib]");
        std::fs::write(dir.join("src/lib.rs"), "").expect("write");
        assert_eq!(library_name(&dir).as_deref(), Some("my_app"));
        std::fs::write(
            &manifest,
            "[package]\nname = \"my-app\"\n[lib]\nname = \"events\"\n",
        )
        .expect("write");
        assert_eq!(library_name(&dir).as_deref(), Some("events"));
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
