//! Writes the task type: `NAME`, `options()`, `task()` and `From<T> for Task`.

use std::time::Duration;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::Ident;

use super::valid::{Fallback, Param, Task};

fn duration(d: Duration) -> TokenStream {
    let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    quote!(::core::time::Duration::from_nanos(#nanos))
}

fn options(task: &Task<'_>, c: &TokenStream) -> TokenStream {
    let o = &task.options;
    let mut sets = Vec::new();
    if let Some(max) = o.max_retries {
        let value = match max {
            Some(n) => quote!(::core::option::Option::Some(#n)),
            None => quote!(::core::option::Option::None),
        };
        sets.push(quote!(options.max_retries = #value;));
    }
    let durations = [
        ("default_retry_delay", o.default_retry_delay, false),
        ("retry_backoff_max", o.retry_backoff_max, false),
        ("time_limit", o.time_limit, true),
        ("soft_time_limit", o.soft_time_limit, true),
    ];
    for (field, value, optional) in durations {
        if let Some(d) = value {
            let field = Ident::new(field, Span::call_site());
            let d = duration(d);
            sets.push(if optional {
                quote!(options.#field = ::core::option::Option::Some(#d);)
            } else {
                quote!(options.#field = #d;)
            });
        }
    }
    let flags = [
        ("retry_jitter", o.retry_jitter),
        ("acks_late", o.acks_late),
        ("reject_on_worker_lost", o.reject_on_worker_lost),
        ("ignore_result", o.ignore_result),
        ("track_started", o.track_started),
    ];
    for (field, value) in flags {
        if let Some(v) = value {
            let field = Ident::new(field, Span::call_site());
            sets.push(quote!(options.#field = #v;));
        }
    }
    if let Some(b) = o.retry_backoff {
        sets.push(quote!(options.retry_backoff = #b;));
    }
    if !o.autoretry_for.is_empty() {
        let names = &o.autoretry_for;
        sets.push(
            quote!(options.autoretry_for = ::std::vec![#(::std::string::String::from(#names)),*];),
        );
    }
    if let Some(r) = o.rate_limit {
        sets.push(quote!(options.rate_limit = ::core::option::Option::Some(#r);));
    }
    quote! {
        let mut options = <#c::TaskOptions as ::core::default::Default>::default();
        #(#sets)*
        options
    }
}

pub fn expand(task: &Task<'_>, c: &TokenStream) -> TokenStream {
    let Task {
        fn_ident,
        vis,
        struct_ident,
        name,
        params,
        ..
    } = task;
    let request = Ident::new("__herald_request", Span::call_site());
    let mut names = Vec::new();
    let mut lets = Vec::new();
    let mut call = Vec::new();
    for (i, param) in params.iter().enumerate() {
        match param {
            Param::Request => call.push(quote!(&#request)),
            Param::Arg {
                ident,
                ty,
                optional,
            } => {
                let position = names.len();
                let text = ident.to_string();
                let text = text.strip_prefix("r#").unwrap_or(&text).to_owned();
                let var = Ident::new(&format!("__herald_arg_{i}"), Span::call_site());
                lets.push(if *optional {
                    quote!(let #var: #ty = #request.arg_or(#position, #text, || ::core::option::Option::None)?;)
                } else {
                    quote!(let #var: #ty = #request.arg(#position, #text)?;)
                });
                call.push(quote!(#var));
                names.push(text);
            }
        }
    }
    let options = options(task, c);
    let doc = format!("The Celery task `{name}` (`#[herald::task]` on `{fn_ident}`).");
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Copy, Default)]
        #vis struct #struct_ident;

        impl #struct_ident {
            /// The name Python sends.
            pub const NAME: &'static str = #name;

            /// The options given to the attribute, Celery's defaults for the others.
            pub fn options() -> #c::TaskOptions {
                #options
            }

            /// The task, to register with a worker.
            pub fn task() -> #c::Task {
                #c::Task::new(Self::NAME, |#request: #c::TaskRequest| async move {
                    #request.check_arguments(&[#(#names),*])?;
                    #(#lets)*
                    #fn_ident(#(#call),*)
                        .await
                        .map_err(::core::convert::Into::<#c::TaskError>::into)
                })
                .options(Self::options())
            }
        }

        impl ::core::convert::From<#struct_ident> for #c::Task {
            fn from(_: #struct_ident) -> Self {
                #struct_ident::task()
            }
        }
    }
}

/// The type alone, for an input with errors: its users then compile.
pub fn fallback(f: &Fallback<'_>, c: &TokenStream) -> TokenStream {
    let Fallback { vis, struct_ident } = f;
    quote! {
        #[derive(Debug, Clone, Copy, Default)]
        #vis struct #struct_ident;

        impl #struct_ident {
            pub fn task() -> #c::Task {
                ::core::unreachable!("#[herald::task] on an invalid input does not compile")
            }
        }

        impl ::core::convert::From<#struct_ident> for #c::Task {
            fn from(_: #struct_ident) -> Self {
                #struct_ident::task()
            }
        }
    }
}
