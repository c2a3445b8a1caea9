//! Live updates: every new message is announced on a broadcast channel that
//! the web UI's server-sent-events stream listens to (per workspace).

use crate::AppState;
use tokio::sync::broadcast;

#[derive(Clone, Debug, serde::Serialize)]
pub struct LiveEvent {
    pub workspace_id: String,
    pub thread_id: String,
    pub message_id: String,
}

pub fn channel() -> broadcast::Sender<LiveEvent> {
    broadcast::channel(1024).0
}

/// Announces a new message; nobody listening is fine.
pub fn publish(state: &AppState, workspace_id: &str, thread_id: &str, message_id: &str) {
    let _ = state.live.send(LiveEvent {
        workspace_id: workspace_id.into(),
        thread_id: thread_id.into(),
        message_id: message_id.into(),
    });
}
