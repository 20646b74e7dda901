//! Credentials the client sends.

/// Credentials sent with every request.
#[derive(Clone)]
pub enum Auth {
    Bearer(String),
    Basic { user: String, password: String },
}

// By hand: the derived Debug would print the secret.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::Basic { user, .. } => write!(f, "Basic({user}:***)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Auth;

    #[test]
    fn debug_hides_secrets() {
        let bearer = format!("{:?}", Auth::Bearer("s3cret-token".into()));
        let basic = format!(
            "{:?}",
            Auth::Basic {
                user: "ci".into(),
                password: "p@ss".into()
            }
        );
        assert_eq!(bearer, "Bearer(***)");
        assert_eq!(basic, "Basic(ci:***)");
    }
}
