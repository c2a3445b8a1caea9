//! `Idempotency-Key` on `POST /api/v1/messages`: the same key and
//! body within 24 h get the first response again, and the route does not run
//! a second time; the key with another body is 409 `idempotency_key_reused`;
//! a key whose first request is still being handled is 409
//! `idempotency_key_in_use`. Keys belong to the caller's workspace.
//!
//! A failure of the hub (5xx) is not stored: the key is released, so the
//! client's retry runs the route again.
//!
//! A key names the node handling it. The send path finishes the key in the
//! transaction that records the send (`recado_app::idempotency`), so a
//! crash after that commit leaves the answer stored, never a second send;
//! a key whose node died before any send was recorded is taken over by the
//! next request with it, once that node is known gone (its restart, or its
//! heartbeat running out on another node).

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{read_body, require_json_content_type};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use recado_app::idempotency::KeyInHand;
use recado_app::AppState;
use recado_store::idempotency::{Claim, Holder, IdempotencyRecord};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How long a key is remembered.
const TTL_MS: i64 = 24 * 3600 * 1000;

/// Keys are visible ASCII (anything else counts as no key), so bytes are
/// characters.
const MAX_KEY_LEN: usize = 255;

/// The middleware (`axum::middleware::from_fn_with_state`). A request
/// without a key goes through untouched.
///
/// The caller is resolved here with the route's own extractor and handed on
/// in the request's extensions, so the route does not look the token up
/// again. Before reading the body, a keyed request is refused as the route
/// would refuse it (no caller, a body not declared as JSON): the key never
/// changes which answer a request gets, and such a refusal spends no key.
pub async fn idempotent(State(state): State<AppState>, caller: Caller, mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(caller.clone());
    let Some(key) = key_of(req.headers()) else {
        return next.run(req).await;
    };
    if let Err(refusal) = require_json_content_type(req.headers()) {
        return refusal.into_response();
    }
    let (parts, body) = req.into_parts();
    let body = match read_body(Request::from_parts(parts.clone(), body), &state).await {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(),
    };
    if key.len() > MAX_KEY_LEN {
        return ApiError::invalid(
            "invalid_idempotency_key",
            "Idempotency-Key",
            "keys are at most 255 characters",
        )
        .into_response();
    }
    let hash = hex::encode(Sha256::digest(&body));
    let now = state.clock.now_ms();
    let holder = Holder {
        node: &state.node.id,
        dead_before: now - recado_app::workers::NODE_DEAD_AFTER_MS,
    };
    match state
        .store
        .claim_idempotency(&caller.workspace_id, &key, &hash, holder, now, TTL_MS)
        .await
    {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Claim::Earlier(earlier)) => answer_again(earlier, &hash),
        Ok(Claim::Claimed) => {
            let in_hand = KeyInHand {
                workspace_id: caller.workspace_id.clone(),
                key: key.clone(),
                holder: state.node.id.clone(),
                answer: Arc::new(crate::messages::routes::answer_for),
            };
            let route = next.run(Request::from_parts(parts, Body::from(body)));
            let response = recado_app::idempotency::scope(in_hand, route).await;
            keep(&state, &caller.workspace_id, &key, response).await
        }
    }
}

/// The key, trimmed; an empty one (or one that is not visible ASCII) counts
/// as none.
fn key_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
}

/// The answer to a key seen before: its stored response, or why not.
fn answer_again(earlier: IdempotencyRecord, hash: &str) -> Response {
    if earlier.request_hash != hash {
        return ApiError::conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used with another request body",
        )
        .into_response();
    }
    if earlier.status_code == 0 {
        return ApiError::conflict(
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still being handled",
        )
        .into_response();
    }
    let status = StatusCode::from_u16(earlier.status_code as u16).unwrap_or(StatusCode::OK);
    (status, [(header::CONTENT_TYPE, "application/json")], earlier.response).into_response()
}

/// Stores the route's response under the key (or releases the key after a
/// failure of the hub) and passes the response on.
async fn keep(state: &AppState, workspace_id: &str, key: &str, response: Response) -> Response {
    let status = response.status();
    if status.is_server_error() {
        let _ = state.store.release_idempotency(workspace_id, key, &state.node.id).await;
        return response;
    }
    let (parts, body) = response.into_parts();
    // The routes behind this layer answer with a small JSON document built
    // in memory, so buffering it whole costs nothing a stream would save.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = state.store.release_idempotency(workspace_id, key, &state.node.id).await;
            return ApiError::internal(format!("the response to store could not be read: {e}")).into_response();
        }
    };
    // JSON, hence UTF-8: nothing is lost here.
    let text = String::from_utf8_lossy(&bytes);
    if let Err(e) = state
        .store
        .finish_idempotency(workspace_id, key, &state.node.id, status.as_u16(), &text)
        .await
    {
        return ApiError::from(e).into_response();
    }
    Response::from_parts(parts, Body::from(bytes))
}
