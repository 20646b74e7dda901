//! Authentication (API keys as `Bearer`, users and keys by HTTP basic) and roles:
//! read < write < admin. The entries and how secrets are kept: [`crate::credentials`].

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
pub use crate::credentials::{Credentials, Principal};
use crate::error::Error;

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads, lookups and compatibility checks.
    Read,
    /// Registration and soft deletes.
    Write,
    /// Config and mode changes, permanent deletes, context deletes.
    Admin,
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Ok(Role::Read),
            "write" => Ok(Role::Write),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role `{other}` (expected read, write or admin)"
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        })
    }
}

/// The role an operation needs at least, by method and route template (`/subjects/{subject}`:
/// the template, not the request path, so that no spelling of a path changes the answer).
/// A handler may need more for what the request asks (a permanent delete needs admin): it
/// checks with [`Caller::require`] on the values it acts on.
pub fn required_role(method: &Method, route: &str) -> Role {
    let admin_path = route.starts_with("/config") || route.starts_with("/mode");
    match *method {
        Method::GET | Method::HEAD | Method::OPTIONS => Role::Read,
        Method::PUT if admin_path => Role::Admin,
        Method::DELETE if admin_path || route.starts_with("/contexts") => Role::Admin,
        Method::DELETE => Role::Write,
        Method::POST if route.starts_with("/compatibility") || route == "/" => Role::Read,
        // `POST /subjects/{subject}` is a lookup; `POST /subjects/{subject}/versions` registers.
        Method::POST if route == "/subjects/{subject}" => Role::Read,
        _ => Role::Write,
    }
}

/// Middleware: 401 without valid credentials, 429 after too many failed ones from the
/// client's address, 403 without the role the route needs. The caller goes on in the
/// request's extensions as a [`Principal`].
pub async fn require_role(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(creds) = state.settings.auth.as_ref() else {
        return next.run(req).await;
    };
    let Some(authorization) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Error::Unauthorized.into_response();
    };
    // Known when served with connect info (`serve` does); without it, no per-address limit.
    let addr = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(addr) = addr
        && let Err(wait) = state.logins.check(addr)
    {
        return Error::TooManyRequests(wait).into_response();
    }
    let Some(principal) = creds.authenticate(authorization).await else {
        if let Some(addr) = addr
            && let Err(wait) = state.logins.failed(addr)
        {
            tracing::warn!(%addr, blocked_for = ?wait, "too many failed logins");
        }
        return Error::Unauthorized.into_response();
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_owned(), |m| m.as_str().to_owned());
    let needed = required_role(req.method(), &route);
    if principal.role < needed {
        return forbidden(needed, principal.role, "this operation").into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

fn forbidden(needed: Role, has: Role, what: &str) -> Error {
    Error::Forbidden(format!(
        "Forbidden: {what} needs the {needed} role, the caller has {has}"
    ))
}

/// The authenticated caller of a request, for handlers whose needs depend on what the
/// request asks; `None` when the server runs without credentials.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Principal>);

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if state.settings.auth.is_none() {
            return Ok(Caller(None));
        }
        // With credentials configured, no principal means the middleware did not run: refuse.
        match parts.extensions.get::<Principal>() {
            Some(p) => Ok(Caller(Some(p.clone()))),
            None => Err(Error::Unauthorized),
        }
    }
}

impl Caller {
    /// 403 unless the caller has `needed` (always fine when served without credentials).
    pub fn require(&self, needed: Role, what: &str) -> Result<(), Error> {
        match &self.0 {
            Some(p) if p.role < needed => Err(forbidden(needed, p.role, what)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_by_operation() {
        assert_eq!(required_role(&Method::GET, "/subjects"), Role::Read);
        assert_eq!(
            required_role(&Method::POST, "/subjects/{subject}/versions"),
            Role::Write
        );
        assert_eq!(
            required_role(&Method::POST, "/subjects/{subject}"),
            Role::Read
        );
        assert_eq!(required_role(&Method::PUT, "/config"), Role::Admin);
        assert_eq!(
            required_role(&Method::DELETE, "/contexts/{context}"),
            Role::Admin
        );
        assert_eq!(
            required_role(&Method::DELETE, "/subjects/{subject}"),
            Role::Write
        );
    }
}
