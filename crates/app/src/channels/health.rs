//! Each channel's health as its admin sees it (last webhook received, last
//! accepted submission, last provider error). The intake and send paths
//! note events in memory; the node's heartbeat writes them in one
//! transaction every few seconds (`flush`), so noting costs no database
//! write on the hot paths. A page flushes before it reads, so what this
//! node saw is always shown.

use crate::AppState;
use recado_store::channel_health::ChannelHealth;
use std::collections::HashMap;
use std::sync::Mutex;

/// Longest provider error message kept, in characters.
const MAX_ERROR_CHARS: usize = 300;

#[derive(Default)]
pub struct HealthBoard {
    noted: Mutex<HashMap<String, ChannelHealth>>,
}

impl HealthBoard {
    fn note(&self, workspace_id: &str, channel_id: &str, change: impl FnOnce(&mut ChannelHealth)) {
        let mut noted = self.noted.lock().unwrap_or_else(|p| p.into_inner());
        let entry = noted.entry(channel_id.to_string()).or_insert_with(|| ChannelHealth {
            channel_id: channel_id.to_string(),
            workspace_id: workspace_id.to_string(),
            ..ChannelHealth::default()
        });
        change(entry);
    }

    /// A webhook of the channel was stored.
    pub fn webhook(&self, workspace_id: &str, channel_id: &str, at: i64) {
        self.note(workspace_id, channel_id, |h| {
            h.last_webhook_at = h.last_webhook_at.max(Some(at));
        });
    }

    /// The provider accepted a submission.
    pub fn sent(&self, workspace_id: &str, channel_id: &str, at: i64) {
        self.note(workspace_id, channel_id, |h| {
            h.last_send_at = h.last_send_at.max(Some(at));
        });
    }

    /// The provider refused a submission or could not be reached.
    pub fn failed(&self, workspace_id: &str, channel_id: &str, at: i64, code: &str, message: &str) {
        self.note(workspace_id, channel_id, |h| {
            if h.last_error_at.is_none_or(|t| at >= t) {
                h.last_error_at = Some(at);
                h.last_error_code = Some(code.to_string());
                h.last_error_message = Some(message.chars().take(MAX_ERROR_CHARS).collect());
            }
        });
    }

    fn take(&self) -> Vec<ChannelHealth> {
        let mut noted = self.noted.lock().unwrap_or_else(|p| p.into_inner());
        noted.drain().map(|(_, h)| h).collect()
    }

    fn put_back(&self, rows: Vec<ChannelHealth>) {
        for row in rows {
            let (ws, ch) = (row.workspace_id.clone(), row.channel_id.clone());
            self.note(&ws, &ch, |h| {
                h.last_webhook_at = h.last_webhook_at.max(row.last_webhook_at);
                h.last_send_at = h.last_send_at.max(row.last_send_at);
                if row.last_error_at > h.last_error_at {
                    h.last_error_at = row.last_error_at;
                    h.last_error_code = row.last_error_code;
                    h.last_error_message = row.last_error_message;
                }
            });
        }
    }
}

/// Whether a channel's latest provider answer was an error (no accepted
/// submission since its last error).
pub fn in_error(h: &ChannelHealth) -> bool {
    match (h.last_error_at, h.last_send_at) {
        (Some(error), Some(sent)) => error > sent,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Writes what was noted since the last flush; kept for the next one when
/// the database cannot take it now.
pub async fn flush(state: &AppState) {
    let rows = state.health.take();
    if let Err(e) = state.store.record_channel_health(&rows).await {
        tracing::warn!(error = %e, "channel health could not be written; kept for the next attempt");
        state.health.put_back(rows);
    }
}

/// Every channel's health in a workspace, by channel id, after writing what
/// this node noted.
pub async fn of_workspace(state: &AppState, workspace_id: &str) -> crate::AppResult<HashMap<String, ChannelHealth>> {
    flush(state).await;
    Ok(state
        .store
        .channel_health(workspace_id)
        .await?
        .into_iter()
        .map(|h| (h.channel_id.clone(), h))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_error_replaces_an_earlier_one_and_never_the_reverse() {
        let board = HealthBoard::default();
        board.failed("ws", "ch", 20, "late", "later error");
        board.failed("ws", "ch", 10, "early", "earlier error");
        let rows = board.take();
        assert_eq!(rows[0].last_error_code.as_deref(), Some("late"));
        assert_eq!(rows[0].last_error_at, Some(20));
    }

    #[test]
    fn rows_put_back_after_a_failed_write_keep_the_latest_times() {
        let board = HealthBoard::default();
        board.sent("ws", "ch", 5);
        let rows = board.take();
        board.sent("ws", "ch", 9);
        board.put_back(rows);
        let rows = board.take();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].last_send_at, Some(9));
    }
}
