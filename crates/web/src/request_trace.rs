//! Request tracing: every request runs in a span that names its method, its
//! route template and its request id, and records the status and latency
//! when the response is ready, so every line a handler logs can be traced
//! back to one request and the client that got its `x-request-id`.
//!
//! The span holds the matched route template (`/api/v1/contacts/{id}`),
//! never the URI: paths and query strings carry phone numbers and search
//! text, which must not reach the logs.

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use std::time::Duration;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::field::Empty;
use tracing::Span;

/// The span of every request, and the completion that fills it in. Nothing
/// else is logged here: not the start, not the body's chunks, and not a
/// failure, since an internal error is logged once, with its cause, where
/// it happens (inside this span, so with its request id).
pub type RequestTraceLayer = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    fn(&Request<Body>) -> Span,
    (),
    fn(&Response<Body>, Duration, &Span),
    (),
    (),
    (),
>;

pub fn trace_layer() -> RequestTraceLayer {
    TraceLayer::new_for_http()
        .make_span_with(request_span as fn(&Request<Body>) -> Span)
        .on_request(())
        .on_response(record_response as fn(&Response<Body>, Duration, &Span))
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

/// Gives a request without an `x-request-id` a new one (a UUID); a caller's
/// own id is kept, so it can follow its request through the hub's logs.
pub fn set_request_id_layer() -> SetRequestIdLayer<MakeRequestUuid> {
    SetRequestIdLayer::x_request_id(MakeRequestUuid)
}

/// Answers every request with its `x-request-id`.
pub fn propagate_request_id_layer() -> PropagateRequestIdLayer {
    PropagateRequestIdLayer::x_request_id()
}

fn request_span(req: &Request<Body>) -> Span {
    // Requests that match no route (404, fallback) share one name, as in
    // the request metrics.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or("unmatched");
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %req.method(),
        route,
        request_id,
        status = Empty,
        latency_ms = Empty,
    )
}

fn record_response(res: &Response<Body>, latency: Duration, span: &Span) {
    span.record("status", res.status().as_u16());
    span.record("latency_ms", latency.as_secs_f64() * 1000.0);
    tracing::debug!("request finished");
}
