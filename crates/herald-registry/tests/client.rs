//! The Rust client against a real server (SQLite and PostgreSQL).

mod common;

use common::{Backend, start};
use herald_registry::client::{ClientError, RegistryClient};

async fn client_round_trip(b: Backend) {
    let (_db, s) = start(b).await;
    let c = RegistryClient::new(&s.base).expect("client");
    let v1 = r#"{"type":"object","properties":{"a":{"type":"string"}}}"#;
    let id = c.register("cl", v1, &[]).await.expect("register");
    assert_eq!(c.register("cl", v1, &[]).await.expect("cached"), id);
    let found = c.lookup("cl", v1).await.expect("lookup");
    assert_eq!((found.id, found.version), (id, 1));
    let fetched = c.schema_by_id(id).await.expect("by id");
    assert_eq!(fetched.schema, v1);
    assert_eq!(fetched.schema_type, "JSON");
    let latest = c.latest("cl").await.expect("latest");
    assert_eq!(
        (latest.subject.as_str(), latest.version, latest.id),
        ("cl", 1, id)
    );
    let compat = c
        .check_compatibility("cl", v1, None, true)
        .await
        .expect("compat");
    assert!(compat.is_compatible);
    let compat = c
        .check_compatibility("cl", v1, Some("latest"), false)
        .await
        .expect("compat");
    assert!(compat.is_compatible);
    assert_eq!(
        c.compatibility_level(None).await.expect("global"),
        "BACKWARD"
    );
    assert_eq!(
        c.set_compatibility_level(Some("cl"), "full")
            .await
            .expect("set"),
        "FULL"
    );
    assert_eq!(
        c.compatibility_level(Some("cl")).await.expect("subject"),
        "FULL"
    );
    assert_eq!(
        c.compatibility_level(Some("unset")).await.expect("default"),
        "BACKWARD"
    );
    assert_eq!(c.subjects().await.expect("subjects"), vec!["cl".to_owned()]);
    // Errors carry Confluent's code.
    let err = c.latest("missing").await.expect_err("missing");
    assert_eq!(err.error_code(), Some(40401));
    let err = c
        .register("cl", "{\"type\":\"nope\"}", &[])
        .await
        .expect_err("invalid");
    assert!(
        matches!(
            err,
            ClientError::Api {
                status: 422,
                error_code: 42201,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(c.delete_subject("cl", false).await.expect("soft"), vec![1]);
    assert_eq!(c.delete_subject("cl", true).await.expect("hard"), vec![1]);
    let err = c
        .schema_by_id(id)
        .await
        .expect_err("gone after permanent delete");
    assert_eq!(err.error_code(), Some(40403));
}

on_both_backends!(client_round_trip);
