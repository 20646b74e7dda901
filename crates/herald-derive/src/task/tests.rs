//! Snapshots of what `#[task]` writes (`cargo insta review` after a change).

use quote::quote;

fn expand(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    let item: syn::ItemFn = syn::parse2(item).expect("valid Rust");
    let tokens = super::build(args, &item, &quote!(::herald_celery)).expect("valid input");
    prettyplease::unparse(&syn::parse2(tokens).expect("the expansion parses as a file"))
}

#[test]
fn task_with_options_request_and_optional_argument() {
    insta::assert_snapshot!(expand(
        quote! {
            name = "tasks.process_order", max_retries = 5, default_retry_delay = 10,
            autoretry_for = ["ConnectionError"], retry_backoff = true, retry_backoff_max = "10m",
            retry_jitter = false, acks_late = true, time_limit = "30s", soft_time_limit = 20,
            rate_limit = "10/m"
        },
        quote! {
            pub async fn process_order(order_id: String, note: Option<String>, req: &TaskRequest) -> Result<u32, TaskError> {
                Ok(req.retries())
            }
        },
    ));
}
