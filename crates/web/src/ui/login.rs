//! `/login` (password sign-in with argon2), `POST /logout`, and `/`.

use super::page::{error_page, UiResult};
use super::session::{
    cookie, current_user, random_token, safe_next, same_secret, set_cookie, Posted, LOGIN_CSRF_COOKIE, SESSION_COOKIE,
    WEB_SESSION_MS,
};
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use recado_app::auth::{hash_password, hash_token, verify_password, PasswordCost};
use recado_app::throttle;
use recado_app::AppState;
use recado_store::inbox::WebSessionWrite;
use serde::Deserialize;
use std::sync::OnceLock;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `/`: the inbox when signed in, else the sign-in form.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> UiResult<Response> {
    Ok(match current_user(&state, &headers).await? {
        Some(_) => Redirect::to("/inbox").into_response(),
        None => Redirect::to("/login").into_response(),
    })
}

fn login_form(
    state: &AppState,
    next: String,
    email: String,
    error: Option<String>,
    status: StatusCode,
) -> UiResult<Response> {
    let csrf = random_token();
    let page = LoginPage {
        csrf: csrf.clone(),
        next,
        email,
        error,
    };
    let mut response = (status, Html(page.render()?)).into_response();
    let value = set_cookie(state, LOGIN_CSRF_COOKIE, &csrf, "/login", 3600);
    response
        .headers_mut()
        .insert(header::SET_COOKIE, value.parse().map_err(ApiError::internal)?);
    Ok(response)
}

pub async fn login_page(
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let next = safe_next(q.next.as_deref().unwrap_or("/inbox"));
    if current_user(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    login_form(&state, next, String::new(), None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

/// Verifying against this when the e-mail is unknown takes as long as a
/// real check, so response times do not tell which e-mails have accounts.
fn decoy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    // Hashed at the standard cost: a decoy cheaper than real hashes would
    // tell unknown addresses apart by time.
    HASH.get_or_init(|| {
        hash_password("decoy password that matches nothing", PasswordCost::Standard).unwrap_or_default()
    })
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> UiResult<Response> {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same_secret(&form.csrf, &expected) {
        return Ok(super::session::forbidden_form());
    }
    let next = safe_next(form.next.as_deref().unwrap_or("/inbox"));
    let email = form.email.trim().to_lowercase();
    if recado_core::text::has_nul(&email) {
        return login_form(
            &state,
            next,
            String::new(),
            Some("The e-mail address holds a character no address has.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    if let Some(wait_ms) = throttle::blocked_for(&state.store, &email, state.clock.now_ms()).await? {
        let minutes = (wait_ms + 59_999) / 60_000;
        return login_form(
            &state,
            next,
            email,
            Some(format!(
                "Too many failed sign-ins for this address. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            )),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let user = state.store.user_by_email(&email).await?;
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| decoy_hash().to_string());
    let password = form.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|u| ok && u.password_hash.is_some()) else {
        throttle::record_failure(&state.store, &email, state.clock.now_ms()).await?;
        return login_form(
            &state,
            next,
            email,
            Some("Wrong e-mail or password.".into()),
            StatusCode::UNAUTHORIZED,
        );
    };
    throttle::record_success(&state.store, &email).await?;
    let token = random_token();
    let now = state.clock.now_ms();
    state
        .store
        .create_web_session(&WebSessionWrite {
            token_hash: &hash_token(&token),
            workspace_id: &user.workspace_id,
            user_id: &user.id,
            csrf_token: &random_token(),
            now,
            expires_at: now + WEB_SESSION_MS,
        })
        .await?;
    let mut response = Redirect::to(&next).into_response();
    let headers = response.headers_mut();
    let session = set_cookie(&state, SESSION_COOKIE, &token, "/", WEB_SESSION_MS / 1000);
    let cleared = set_cookie(&state, LOGIN_CSRF_COOKIE, "", "/login", 0);
    headers.append(header::SET_COOKIE, session.parse().map_err(ApiError::internal)?);
    headers.append(header::SET_COOKIE, cleared.parse().map_err(ApiError::internal)?);
    Ok(response)
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn logout(State(state): State<AppState>, posted: Posted<Empty>) -> UiResult<Response> {
    state.store.delete_web_session(&posted.user.session.token_hash).await?;
    let mut response = Redirect::to("/login").into_response();
    let cleared = set_cookie(&state, SESSION_COOKIE, "", "/", 0);
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cleared.parse().map_err(ApiError::internal)?);
    Ok(response)
}

/// Pages an agent may not open.
pub fn admins_only() -> Response {
    error_page(StatusCode::FORBIDDEN, "Not allowed", "Only admins can manage users.")
}
