//! Group commit for inbound webhooks: requests queue their raw event, one
//! task writes everything queued in a single transaction and answers each
//! request after that commit. Under load many events share one fsync, which
//! is what lets SQLite accept tens of thousands of signed webhooks a second
//! while every 200 still means "stored".

use crate::error::AppError;
use recado_core::jobs::Task;
use recado_store::webhooks::IncomingWebhook;
use recado_store::Store;
use tokio::sync::{mpsc, oneshot};

/// An event to store, owned so it can cross to the writer task.
#[derive(Debug)]
pub struct OwnedWebhook {
    pub id: String,
    pub workspace_id: String,
    pub channel_id: String,
    pub dedupe_key: String,
    pub body: String,
    pub received_at: i64,
}

pub fn owned(e: &IncomingWebhook<'_>) -> OwnedWebhook {
    OwnedWebhook {
        id: e.id.to_string(),
        workspace_id: e.workspace_id.to_string(),
        channel_id: e.channel_id.to_string(),
        dedupe_key: e.dedupe_key.to_string(),
        body: e.body.to_string(),
        received_at: e.received_at,
    }
}

struct Request {
    event: OwnedWebhook,
    job: fn(event_id: String) -> Task,
    reply: oneshot::Sender<Result<bool, String>>,
}

/// Most events written in one transaction.
const MAX_BATCH: usize = 512;

#[derive(Clone)]
pub struct WebhookWriter {
    tx: mpsc::Sender<Request>,
}

impl WebhookWriter {
    pub fn start(store: Store) -> WebhookWriter {
        let (tx, mut rx) = mpsc::channel::<Request>(8 * MAX_BATCH);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let events: Vec<IncomingWebhook<'_>> = batch
                    .iter()
                    .map(|r: &Request| IncomingWebhook {
                        id: &r.event.id,
                        workspace_id: &r.event.workspace_id,
                        channel_id: &r.event.channel_id,
                        dedupe_key: &r.event.dedupe_key,
                        body: &r.event.body,
                        received_at: r.event.received_at,
                        job: r.job,
                    })
                    .collect();
                let result = store.store_webhooks(&events).await;
                drop(events);
                match result {
                    Ok(stored) => {
                        for (request, new) in batch.drain(..).zip(stored) {
                            let _ = request.reply.send(Ok(new));
                        }
                    }
                    Err(e) => {
                        let message = e.to_string();
                        for request in batch.drain(..) {
                            let _ = request.reply.send(Err(message.clone()));
                        }
                    }
                }
            }
        });
        WebhookWriter { tx }
    }

    /// Stores `event` durably; true when new, false for a repeated delivery.
    pub async fn store(&self, event: OwnedWebhook, job: fn(event_id: String) -> Task) -> Result<bool, AppError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request { event, job, reply })
            .await
            .map_err(|_| AppError::internal("webhook writer stopped"))?;
        match answer.await {
            Ok(Ok(new)) => Ok(new),
            Ok(Err(e)) => Err(AppError::internal(e)),
            Err(_) => Err(AppError::internal("webhook writer dropped the request")),
        }
    }
}
