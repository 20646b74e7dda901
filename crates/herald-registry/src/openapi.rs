//! `/openapi.json`: the OpenAPI document of what this server serves.

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

use crate::AppState;
use crate::extract::Vnd;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "herald-registry",
        description = "Confluent Schema Registry REST API for JSON Schema"
    ),
    paths(
        crate::subjects::list_subjects,
        crate::subjects::list_versions,
        crate::subjects::get_version,
        crate::subjects::get_version_schema,
        crate::subjects::referenced_by,
        crate::subjects::register,
        crate::subjects::lookup,
        crate::subjects::delete_subject,
        crate::subjects::delete_version,
        crate::schemas::by_id,
        crate::schemas::raw_by_id,
        crate::schemas::subjects_of,
        crate::schemas::versions_of,
        crate::schemas::list_schemas,
        crate::schemas::types,
        crate::compatibility::check_all,
        crate::compatibility::check_one,
        crate::config::get_global,
        crate::config::put_global,
        crate::config::delete_global,
        crate::config::get_subject,
        crate::config::put_subject,
        crate::config::delete_subject,
        crate::mode::get_global,
        crate::mode::put_global,
        crate::mode::delete_global,
        crate::mode::get_subject,
        crate::mode::put_subject,
        crate::mode::delete_subject,
        crate::misc::root,
        crate::misc::contexts,
        crate::misc::delete_context,
        crate::misc::metadata_id,
        crate::misc::metadata_version,
        crate::observe::health,
        crate::observe::prometheus,
    ),
    components(schemas(crate::error::ErrorBody))
)]
pub struct ApiDoc;

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Vnd(ApiDoc::openapi()) }))
}
