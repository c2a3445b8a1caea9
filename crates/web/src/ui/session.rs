//! Web sign-in: the session cookie, the signed-in user extractor, and CSRF
//! protection of every form post.
//!
//! The cookie holds a random token (HttpOnly, SameSite=Lax, Secure behind
//! https); the database keeps only its SHA-256 hash with the session's CSRF
//! token. Every form carries that CSRF token and a post without it, or with
//! another, is refused with 403 before anything else is read.

use super::page::{error_page, UiError};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rand::RngCore;
use recado_app::auth::{hash_token, Role};
use recado_app::AppState;
use recado_store::inbox::WebSession;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "recado_session";
/// The double-submit cookie of the sign-in form (there is no session yet).
pub const LOGIN_CSRF_COOKIE: &str = "recado_login_csrf";
/// How long a sign-in lasts.
pub const WEB_SESSION_MS: i64 = 7 * 24 * 3600 * 1000;

/// 256 random bits, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, path: &str, max_age_secs: i64) -> String {
    let secure = if state.settings.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// Compares two secrets without leaking where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The signed-in user of a page request. Without a live session, a page is
/// redirected to the sign-in form (and back afterwards).
#[derive(Clone, Debug)]
pub struct WebUser {
    pub session: WebSession,
    pub role: Role,
}

impl WebUser {
    pub fn workspace_id(&self) -> &str {
        &self.session.workspace_id
    }

    pub fn user_id(&self) -> &str {
        &self.session.user_id
    }

    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Where to go back to after signing in: a local path only, so the sign-in
/// form can never send anyone to another site.
pub fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/inbox".to_string()
    }
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let found = current_user(state, &parts.headers)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(user) = found else {
            if parts.method == axum::http::Method::GET && !parts.uri.path().starts_with("/inbox/events") {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/inbox");
                let target = format!("/login?next={}", urlencode(next));
                return Err(Redirect::to(&target).into_response());
            }
            return Err(error_page(
                StatusCode::UNAUTHORIZED,
                "Signed out",
                "Your session has ended. Sign in again.",
            ));
        };
        Ok(user)
    }
}

/// The user signed in with this request's cookie, if any.
pub async fn current_user(state: &AppState, headers: &HeaderMap) -> Result<Option<WebUser>, UiError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let session = state
        .store
        .web_session(&hash_token(&token), state.clock.now_ms())
        .await?;
    Ok(session.map(|session| {
        let role = Role::parse(&session.role).unwrap_or(Role::Agent);
        WebUser { session, role }
    }))
}

pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A form post from a signed-in user whose CSRF token was checked: 403
/// without the `csrf` field or with another session's token, 422 when the
/// fields do not fit `T`.
pub struct Posted<T> {
    pub user: WebUser,
    pub form: T,
    /// Every field as sent, for forms with dynamic field names.
    pub fields: Vec<(String, String)>,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let user = WebUser::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| error_page(StatusCode::PAYLOAD_TOO_LARGE, "Too large", "The form is too large."))?;
        let fields: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
        let sent = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if !same_secret(sent, user.csrf()) {
            return Err(forbidden_form());
        }
        if fields
            .iter()
            .any(|(k, v)| recado_core::text::has_nul(k) || recado_core::text::has_nul(v))
        {
            return Err(error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Form not understood",
                "The form holds a NUL character, which cannot be stored. Remove it and try again.",
            ));
        }
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Form not understood",
                &format!("The form could not be read: {e}"),
            )
        })?;
        Ok(Posted { user, form, fields })
    }
}

pub fn forbidden_form() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Form refused",
        "This form has no valid security token (CSRF). Reload the page and try again.",
    )
}
