//! Writes run to their end. A request's future is dropped when its client goes away or its
//! deadline passes; dropped inside a transaction, between sending COMMIT and reading the
//! answer, it leaves sqlx to send a ROLLBACK after the COMMIT, outside any transaction
//! (PostgreSQL: "there is no transaction in progress"), and nobody learns whether the write
//! committed. So every request that may write runs in its own task: the client that left
//! gets nothing, the one that timed out gets 50002, and the write ends as it would have.

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

pub(crate) async fn writes_run_to_completion(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    match tokio::spawn(next.run(req)).await {
        Ok(response) => response,
        // Panics are answered by the panic layer outside this one, as for reads.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => axum::response::IntoResponse::into_response(crate::Error::Internal(format!(
            "the request's task ended early: {e}"
        ))),
    }
}
