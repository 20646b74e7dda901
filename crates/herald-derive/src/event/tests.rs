//! Snapshots of what `#[derive(Event)]` writes (`cargo insta review` after a change).

use quote::quote;

fn expand(input: proc_macro2::TokenStream) -> String {
    let input: syn::DeriveInput = syn::parse2(input).expect("valid Rust");
    let tokens = super::derive(&input, &quote!(::herald)).expect("valid input");
    prettyplease::unparse(&syn::parse2(tokens).expect("the expansion parses as a file"))
}

#[test]
fn event_with_previous_version_and_keys() {
    insta::assert_snapshot!(expand(quote! {
        #[event(name = "order.created", version = 2, previous = OrderCreatedV1)]
        #[event(idempotency_key = [order_id, total_cents])]
        struct OrderCreated {
            #[event(aggregate_id)]
            order_id: Uuid,
            #[event(partition_key)]
            customer_id: String,
            total_cents: i64,
        }
    }));
}

#[test]
fn first_version_with_defaults() {
    insta::assert_snapshot!(expand(quote! {
        #[event(name = "order.created", version = 1)]
        struct OrderCreatedV1 {
            #[event(aggregate_id)]
            order_id: Uuid,
            amount: f64,
        }
    }));
}

#[test]
fn event_names() {
    use super::valid::check_name;
    for ok in [
        "order.created",
        "Order_Created-v2",
        "a",
        "billing.invoice.paid",
    ] {
        assert_eq!(check_name(ok), Ok(()), "{ok}");
    }
    for bad in [
        "",
        "order created",
        ".order",
        "order.",
        "order..created",
        "1order",
        "ordér",
        "a/b",
    ] {
        assert!(check_name(bad).is_err(), "{bad:?} should be rejected");
    }
}

#[test]
fn all_errors_of_one_input_are_reported_together() {
    let input: syn::DeriveInput = syn::parse2(quote! {
        #[event(version = 0, colour = "red")]
        struct E {
            #[event(aggregate_id)]
            a: String,
            #[event(aggregate_id)]
            b: String,
        }
    })
    .expect("valid Rust");
    let error = super::derive(&input, &quote!(::herald)).expect_err("invalid");
    let messages: Vec<String> = error.into_iter().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), 4, "{messages:#?}");
    assert!(messages[0].starts_with("unknown event attribute `colour`"));
    assert!(messages.iter().any(|m| m.starts_with("missing event name")));
    assert!(
        messages
            .iter()
            .any(|m| m == "event versions start at 1, not 0")
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("only one field can be `#[event(aggregate_id)]`"))
    );
}

#[test]
fn invalid_input_gets_the_errors_and_a_fallback_impl() {
    let input: syn::DeriveInput = syn::parse2(quote! {
        #[event(name = "order.created", version = 0)]
        struct OrderCreated {
            #[event(aggregate_id)]
            order_id: Uuid,
        }
    })
    .expect("valid Rust");
    let tokens = super::derive_or_fallback(&input, &quote!(::herald));
    insta::assert_snapshot!(prettyplease::unparse(
        &syn::parse2(tokens).expect("the expansion parses as a file")
    ));
}

#[test]
fn a_generic_input_gets_no_fallback_impl() {
    let input: syn::DeriveInput = syn::parse2(quote! {
        #[event(name = "order.created", version = 1)]
        struct OrderCreated<T> {
            #[event(aggregate_id)]
            order_id: T,
        }
    })
    .expect("valid Rust");
    let tokens = super::derive_or_fallback(&input, &quote!(::herald)).to_string();
    assert!(tokens.contains("compile_error"), "{tokens}");
    assert!(!tokens.contains("impl"), "{tokens}");
}
