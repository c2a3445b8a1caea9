//! The application builder shared by `recado serve` and the tests: it opens the
//! database, migrates it, bootstraps the first workspace, binds the listener
//! and returns the server as a future together with the port it got.

use recado_app::Settings;
use recado_app::{bootstrap, workers, AppState};
use recado_core::clock::{Clock, SystemClock};
use recado_store::Store;
use recado_web::{ops, router};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

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
        // Before anything else: a second process on this data directory stops here.
        let node = recado_app::node::Node::claim(&settings.data_dir)?;
        let store = Store::connect(settings.database_url.expose()).await?;
        store.migrate().await?;
        let first_start = bootstrap::first_start(&store, &settings, clock.as_ref()).await?;
        let secrets =
            recado_app::secrets::SecretBox::load(settings.secret_key.as_ref().map(|k| k.expose()), &settings.data_dir)?;
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        let webhook_writer = recado_app::webhook_writer::WebhookWriter::start(store.clone());
        let sends = recado_app::dispatch::Sends::start(store.clone(), clock.clone());
        let state = AppState {
            store,
            clock,
            settings: Arc::new(settings),
            metrics: ops::metrics_handle(),
            secrets: Arc::new(secrets),
            http,
            webhook_writer,
            sends,
            live: recado_app::live::channel(),
            channel_cache: Default::default(),
            caches: Default::default(),
            smpp: Default::default(),
            asterisk: Default::default(),
            health: Default::default(),
            node: Arc::new(node),
        };
        // Registered before the listener opens: a key claimed by this node
        // is never taken for a dead one's.
        state
            .store
            .start_node(&state.node.name, &state.node.id, state.clock.now_ms())
            .await?;
        let listener = TcpListener::bind(state.settings.listen).await?;
        let port = listener.local_addr()?.port();
        let (shutdown, shutdown_rx) = watch::channel(false);
        let workers = workers::spawn(&state, shutdown_rx.clone());
        let binder = tokio::spawn(recado_app::sms::smpp::run_binder(state.clone(), shutdown_rx.clone()));
        let router = router(state.clone());
        let mut rx = shutdown_rx;
        let drained = state.clone();
        let server = Box::pin(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                })
                .await;
            // Workers finish the jobs they hold before the process ends.
            workers.drain(&drained).await;
            // SMPP sessions end and free their binds for the other nodes.
            let _ = binder.await;
            served
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
