//! Operations: health, Prometheus metrics, the OpenAPI document, and the job
//! list admins use to see dead jobs.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::list::ListBody;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use recado_app::AppState;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use std::time::Instant;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
}

pub fn api_routes() -> Router<AppState> {
    Router::new().route("/jobs", get(list_jobs))
}

/// Upper bounds, in seconds, of every histogram's buckets: from a fast API
/// answer to a webhook that waited minutes in the queue.
const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// Buckets of a key's way from the DTMF event to its committed
/// `VOICE_KEY_PRESSED`: its goal is tens of milliseconds (a caller hears the
/// menu stop), so the buckets are fine there.
const KEY_BUCKETS: [f64; 12] = [
    0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25,
];

/// The process-wide Prometheus recorder (metrics macros write to a global one).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // Buckets rather than summaries: quantiles of several nodes cannot
            // be added up, bucket counts can (`histogram_quantile` over the sum).
            let recorder = PrometheusBuilder::new()
                .set_buckets(&DURATION_BUCKETS)
                .expect("the bucket list is not empty")
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full("recado_voice_key_seconds".into()),
                    &KEY_BUCKETS,
                )
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only when a recorder is already installed (several apps in
            // one test process): the first one keeps serving all of them.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Counts and times every request by route template (never by raw path, which
/// would carry ids and blow up the label set).
pub async fn track_requests(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("recado_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("recado_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(value_type = String, example = "ok")]
    status: &'static str,
}

/// 200 once the database answers.
#[utoipa::path(get, path = "/healthz", security(()),
    responses((status = 200, description = "the database answers", body = Health),
        (status = 503, description = "the database does not answer", body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(Health { status: "ok" }).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "unavailable" })).into_response()
        }
    }
}

/// Prometheus text: requests by route, jobs, queues, usage and binds.
#[utoipa::path(get, path = "/metrics", security(()),
    responses((status = 200, description = "the metrics in the Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    // The queue, usage and bind figures come from the database; without it the process's
    // own series are still worth serving.
    if let Err(e) = recado_app::scrape_metrics::record(&state).await {
        tracing::warn!(error = %e.message, "the database could not be read for the metrics");
    }
    (
        [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document_json())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// `ready`, `running`, `done` or `dead` (the ones that used up their attempts).
    status: Option<String>,
    /// Items per page: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobView {
    id: String,
    kind: String,
    status: String,
    attempts: i64,
    max_attempts: i64,
    run_at: String,
    last_error: Option<String>,
    created_at: String,
    updated_at: String,
}

/// Jobs of the caller's workspace, newest first (admin); `?status=dead` shows
/// the ones that used up their attempts.
#[utoipa::path(get, path = "/api/v1/jobs", params(JobQuery),
    responses((status = 200, body = ListBody<JobView>), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<JobQuery>,
) -> ApiResult<Json<ListBody<JobView>>> {
    caller.require_admin()?;
    let limit = recado_store::clamp_limit(q.limit);
    let jobs = state
        .store
        .jobs(
            Some(&caller.workspace_id),
            q.status.as_deref(),
            q.cursor.as_deref(),
            limit,
        )
        .await?;
    let next = if jobs.len() as i64 == limit {
        jobs.last().map(|j| j.id.clone())
    } else {
        None
    };
    let ts = recado_core::clock::to_rfc3339;
    let items: Vec<JobView> = jobs
        .into_iter()
        .map(|j| JobView {
            run_at: ts(j.run_at),
            created_at: ts(j.created_at),
            updated_at: ts(j.updated_at),
            id: j.id,
            kind: j.kind.as_str().to_string(),
            status: j.status,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            last_error: j.last_error,
        })
        .collect();
    Ok(Json(ListBody {
        items,
        next_cursor: next,
    }))
}
