//! Snapshots of what `#[handler]` writes (`cargo insta review` after a change).

use quote::quote;

fn expand(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    let item: syn::ItemFn = syn::parse2(item).expect("valid Rust");
    let tokens = super::build(args, &item, &quote!(::herald)).expect("valid input");
    prettyplease::unparse(&syn::parse2(tokens).expect("the expansion parses as a file"))
}

#[test]
fn handler_with_policy_and_permanent_errors() {
    insta::assert_snapshot!(expand(
        quote! {
            name = "billing.charge", max_attempts = 5, initial_delay = "200ms", multiplier = 2.0,
            max_delay = "30s", jitter = "full", lease = "60s",
            permanent(PaymentError::CardDeclined { .. } | PaymentError::Fraud(_))
        },
        quote! {
            pub async fn charge_payment(event: OrderCreated, ctx: &herald::Context) -> Result<(), PaymentError> {
                Ok(())
            }
        },
    ));
}

#[test]
fn handler_with_defaults_passing_handler_error_through() {
    insta::assert_snapshot!(expand(
        quote!(idempotency_key = [order_id], max_attempts = 1),
        quote! {
            async fn ship_order(event: OrderCreated, _ctx: &Context) -> Result<(), HandlerError> {
                Ok(())
            }
        },
    ));
}

#[test]
fn upper_camel_names() {
    use super::valid::upper_camel;
    assert_eq!(upper_camel("charge_payment"), "ChargePayment");
    assert_eq!(upper_camel("_private_thing_"), "PrivateThing");
    assert_eq!(upper_camel("on_v2_event"), "OnV2Event");
    assert_eq!(upper_camel("x"), "X");
}

#[test]
fn invalid_input_keeps_the_fn_and_still_declares_the_handler_type() {
    let item: syn::ItemFn = syn::parse2(quote! {
        pub async fn charge_payment(event: &OrderCreated, ctx: &Context) -> Result<(), PaymentError> {
            Ok(())
        }
    })
    .expect("valid Rust");
    let tokens = super::expand_attribute(
        quote!(name = "billing.charge", max_attempts = 0),
        item,
        &quote!(::herald),
    );
    insta::assert_snapshot!(prettyplease::unparse(
        &syn::parse2(tokens).expect("the expansion parses as a file")
    ));
}

#[test]
fn an_invalid_method_gets_no_fallback_type() {
    // A type cannot be declared inside the `impl` block the method is in.
    let item: syn::ItemFn = syn::parse2(quote! {
        async fn charge(&self, event: OrderCreated, ctx: &Context) -> Result<(), PaymentError> {
            Ok(())
        }
    })
    .expect("valid Rust");
    let tokens = super::expand_attribute(quote!(), item, &quote!(::herald)).to_string();
    assert!(tokens.contains("compile_error"), "{tokens}");
    assert!(!tokens.contains("struct"), "{tokens}");
}
