//! API tokens and roles. Tokens are random, shown once, and stored only as a
//! SHA-256 hash: they carry 256 bits of entropy, so a fast hash is as safe as a
//! slow one and keeps every request cheap. Passwords (low entropy) use argon2.

use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use recado_app::auth::{hash_token, Role};
use recado_app::AppState;

/// The caller of an API request, resolved from its bearer token.
#[derive(Clone, Debug)]
pub struct Caller {
    pub workspace_id: String,
    pub user_id: String,
    pub role: Role,
}

impl Caller {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // A layer in front of the route (idempotency keys) may have resolved
        // the caller already; the token is looked up once per request.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        let hash = hash_token(token);
        let owner = match state.caches.tokens.get(&hash) {
            Some(owner) => owner,
            None => {
                let owner = state
                    .store
                    .token_owner(&hash)
                    .await?
                    .ok_or_else(ApiError::unauthorized)?;
                state.caches.tokens.put(&hash, owner.clone());
                owner
            }
        };
        let role =
            Role::parse(&owner.role).ok_or_else(|| ApiError::internal(format!("unknown role `{}`", owner.role)))?;
        Ok(Caller {
            workspace_id: owner.workspace_id,
            user_id: owner.user_id,
            role,
        })
    }
}
