//! The application builder shared by `recado serve` and the tests: it opens the
//! database, migrates it, bootstraps the first workspace, binds the listener
//! and returns the server as a future together with the port it got.

use crate::config::Settings;
use crate::error::ApiError;
use crate::{bootstrap, consent, contacts, ops, users, workers};
use axum::extract::DefaultBodyLimit;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use recado_core::clock::{Clock, SystemClock};
use recado_store::Store;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// What every handler and worker shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    pub metrics: PrometheusHandle,
    /// Encrypts provider secrets at rest.
    pub secrets: Arc<crate::secrets::SecretBox>,
    /// The HTTP client for provider APIs (connection pools shared).
    pub http: reqwest::Client,
    pub webhook_writer: crate::webhook_writer::WebhookWriter,
    pub live: tokio::sync::broadcast::Sender<crate::live::LiveEvent>,
    pub channel_cache: Arc<crate::channel_cache::ChannelCache>,
    pub smpp: Arc<crate::sms::smpp::SmppSessions>,
    pub sign_in: Arc<crate::ui::throttle::SignInThrottle>,
}

type ServerFuture = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

pub struct Application {
    port: u16,
    server: ServerFuture,
    pub state: AppState,
    /// The admin token and password generated at first start, to be printed once.
    pub first_start: bootstrap::FirstStart,
    shutdown: watch::Sender<bool>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        if settings.database_url.starts_with("sqlite:") {
            std::fs::create_dir_all(&settings.data_dir)?;
        }
        let store = Store::connect(&settings.database_url).await?;
        store.migrate().await?;
        let first_start = bootstrap::first_start(&store, &settings, clock.as_ref()).await?;
        let secrets =
            crate::secrets::SecretBox::load(settings.secret_key.as_ref().map(|k| k.expose()), &settings.data_dir)?;
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        let webhook_writer = crate::webhook_writer::WebhookWriter::start(store.clone());
        let state = AppState {
            store,
            clock,
            settings: Arc::new(settings),
            metrics: ops::metrics_handle(),
            secrets: Arc::new(secrets),
            http,
            webhook_writer,
            live: crate::live::channel(),
            channel_cache: Default::default(),
            smpp: Default::default(),
            sign_in: Default::default(),
        };
        let listener = TcpListener::bind(state.settings.listen).await?;
        let port = listener.local_addr()?.port();
        let (shutdown, shutdown_rx) = watch::channel(false);
        workers::spawn(&state, shutdown_rx.clone());
        crate::sms::smpp::start_all(&state).await;
        let router = router(state.clone());
        let mut rx = shutdown_rx;
        let server = Box::pin(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                })
                .await
        });
        Ok(Application {
            port,
            server,
            state,
            first_start,
            shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that stops the server and its workers gracefully.
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Every route of the hub.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(contacts::routes())
        .merge(crate::inbox::routes())
        .merge(consent::routes())
        .merge(users::routes())
        .merge(ops::api_routes())
        .merge(crate::sms_api::routes())
        .merge(crate::channels::routes())
        .merge(crate::messages::routes())
        .merge(crate::whatsapp::api_routes())
        .merge(crate::outbound_webhooks::routes());
    Router::new()
        .nest("/api/v1", api)
        .merge(ops::routes())
        .merge(crate::whatsapp::webhook_routes())
        .merge(crate::sms::public_routes())
        .merge(crate::ui::routes())
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this method is not allowed here",
            )
        })
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(axum::middleware::from_fn(crate::extract::refuse_nul_in_uri))
        .layer(axum::middleware::from_fn(ops::track_requests))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::internal("a request handler panicked"))
        }))
        .with_state(state)
}
