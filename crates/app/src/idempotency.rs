//! The idempotency key of the request being handled, as the send path sees
//! it. The API layer claims the key and runs the route inside [`scope`];
//! the send writer then finishes the key in the transaction that records the
//! send, with the answer the caller will get. Were the process to die
//! between that commit and the answer, a retry with the key gets the stored
//! answer: the send is never made twice, and the key never stays "in use".
//!
//! A task-local rather than a parameter: the key belongs to the request, not
//! to any of the many send functions between the route and the writer.

use crate::messages::prepared::Written;
use std::sync::Arc;

/// Turns what was written into the answer the caller gets: its status code
/// and JSON body. Supplied by the API layer, which knows the answers.
pub type Answer = Arc<dyn Fn(&Written) -> (u16, String) + Send + Sync>;

/// A claimed key, and how to answer for the send it covers.
#[derive(Clone)]
pub struct KeyInHand {
    pub workspace_id: String,
    pub key: String,
    /// The node holding the claim (this one).
    pub holder: String,
    pub answer: Answer,
}

tokio::task_local! {
    static KEY: KeyInHand;
}

/// Runs `work` (the route) with `key` in hand.
pub async fn scope<F: std::future::Future>(key: KeyInHand, work: F) -> F::Output {
    KEY.scope(key, work).await
}

/// The key of the request being handled, if it came with one.
pub fn in_hand() -> Option<KeyInHand> {
    KEY.try_with(Clone::clone).ok()
}
