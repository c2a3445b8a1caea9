//! What the benchmark examples share: a hub built in process on a fresh
//! database (a temporary SQLite file unless a URL is given), a user of a
//! role with an API token, and the peak resident memory.

#![allow(dead_code)] // each example uses its own part

use recado::config::Settings;
use recado_store::workspaces::User;

/// A hub built in process, its default workspace, and its data directory
/// (removed by [`Bench::finish`]).
pub struct Bench {
    pub app: recado::Application,
    pub state: recado_app::AppState,
    pub store: recado_store::Store,
    pub ws: String,
    pub dir: std::path::PathBuf,
}

impl Bench {
    /// Builds the hub with `adjust` applied to its test settings.
    pub async fn start(name: &str, database_url: Option<&str>, adjust: impl FnOnce(&mut Settings)) -> Bench {
        let dir = std::env::temp_dir().join(format!("recado-{name}-bench-{}", std::process::id()));
        let url = database_url
            .map(str::to_string)
            .unwrap_or_else(|| format!("sqlite://{}/recado.db", dir.display()));
        let mut settings = Settings::for_tests(&url, dir.clone());
        adjust(&mut settings);
        let app = recado::Application::build(settings).await.expect("hub builds");
        let state = app.state.clone();
        let store = state.store.clone();
        let ws = store
            .workspace_by_name("default")
            .await
            .unwrap()
            .expect("default workspace")
            .id;
        Bench {
            app,
            state,
            store,
            ws,
            dir,
        }
    }

    /// A user `usr_bench_{role}` of the default workspace, and an API token
    /// of theirs.
    pub async fn user_with_token(&self, role: &str) -> (User, String) {
        let now = self.state.clock.now_ms();
        let user = User {
            id: format!("usr_bench_{role}"),
            workspace_id: self.ws.clone(),
            email: format!("bench-{role}@example.com"),
            name: format!("Bench {role}"),
            role: role.into(),
            password_hash: None,
            created_at: now,
        };
        self.store.create_user(&user).await.unwrap();
        let token = recado_app::auth::generate_token();
        self.store
            .create_token(
                &format!("tok_bench_{role}"),
                &self.ws,
                &user.id,
                "bench",
                &recado_app::auth::hash_token(&token),
                now,
            )
            .await
            .unwrap();
        (user, token)
    }

    pub fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The process's peak resident memory, in MB.
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}
