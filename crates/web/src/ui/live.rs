//! `GET /inbox/events`: server-sent events for the signed-in user's
//! workspace. Each new message (inbound or outbound) is announced with its
//! thread id; pages then fetch what changed. Nothing of the message itself
//! travels on the stream.
//!
//! A stream ends after [`STREAM_LIFETIME`]: the browser reconnects at once
//! (and the page refreshes what it shows), and a graceful shutdown never
//! waits on an open tab for longer than that.

use super::session::WebUser;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::Stream;
use recado_app::live::LiveEvent;
use recado_app::AppState;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

pub const STREAM_LIFETIME: Duration = Duration::from_secs(50);

pub async fn events(
    State(state): State<AppState>,
    user: WebUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.live.subscribe();
    let workspace = user.workspace_id().to_string();
    let deadline = Instant::now() + STREAM_LIFETIME;
    let hello =
        futures::stream::once(async { Ok(Event::default().event("ready").retry(Duration::from_secs(1)).data("{}")) });
    let updates = futures::stream::unfold((rx, workspace), move |(mut rx, workspace)| async move {
        loop {
            let Ok(next) = tokio::time::timeout_at(deadline, rx.recv()).await else {
                return None;
            };
            match next {
                Ok(LiveEvent {
                    workspace_id,
                    thread_id,
                    message_id,
                }) if workspace_id == workspace => {
                    let data = serde_json::json!({ "thread_id": thread_id, "message_id": message_id }).to_string();
                    let event = Event::default().event("message").data(data);
                    return Some((Ok(event), (rx, workspace)));
                }
                Ok(_) => continue,
                // Missed events: tell the page to refresh what it shows.
                Err(RecvError::Lagged(_)) => {
                    let event = Event::default().event("resync").data("{}");
                    return Some((Ok(event), (rx, workspace)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    use futures::StreamExt;
    Sse::new(hello.chain(updates)).keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
}
