//! Group commit for sends: requests hand over their prepared send (every
//! rule already applied, reads only), one task writes everything handed
//! over meanwhile in a single transaction and answers each request after
//! that commit. Under load hundreds of sends share one fsync, and a 202
//! still means "recorded". The webhook intake does the same
//! ([`crate::webhook_writer`]).

use crate::error::{AppError, AppResult};
use crate::idempotency::KeyInHand;
use crate::messages::prepared::{Prepared, Written};
use recado_core::clock::Clock;
use recado_store::idempotency::KeyFinish;
use recado_store::{OutboundRow, Store, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

struct Request {
    prepared: Prepared,
    /// The idempotency key of the request that made the send, finished in
    /// the send's own transaction.
    key: Option<KeyInHand>,
    reply: oneshot::Sender<AppResult<Written>>,
}

/// Most sends written in one transaction.
const MAX_BATCH: usize = 512;

#[derive(Clone)]
pub struct SendWriter {
    tx: mpsc::Sender<Request>,
}

impl SendWriter {
    /// Starts the writer task. `written` is notified after each commit, so
    /// the dispatcher picks the new sends up at once.
    pub fn start(store: Store, clock: Arc<dyn Clock>, written: Arc<Notify>) -> SendWriter {
        let (tx, mut rx) = mpsc::channel::<Request>(4 * MAX_BATCH);
        tokio::spawn(async move {
            let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
            while let Some(first) = rx.recv().await {
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(r) => batch.push(r),
                        Err(_) => break,
                    }
                }
                let now = clock.now_ms();
                let sends: Vec<(Prepared, Option<KeyInHand>)> =
                    batch.iter().map(|r| (r.prepared.clone(), r.key.clone())).collect();
                let result = write_together(&store, sends, now).await;
                match result {
                    Ok(written) => {
                        for (request, w) in batch.drain(..).zip(written) {
                            let _ = request.reply.send(Ok(w));
                        }
                    }
                    // One send's failure must not fail the others: each is
                    // written again on its own.
                    Err(_) => {
                        for request in batch.drain(..) {
                            let result = write_together(&store, vec![(request.prepared, request.key)], now)
                                .await
                                .map(|mut w| w.remove(0))
                                .map_err(AppError::from);
                            let _ = request.reply.send(result);
                        }
                    }
                }
                written.notify_one();
            }
        });
        SendWriter { tx }
    }

    /// Records `prepared` durably (queued with its send job, or refused),
    /// finishing the idempotency key of the request being handled, if any.
    pub async fn write(&self, prepared: Prepared) -> AppResult<Written> {
        let (reply, answer) = oneshot::channel();
        let key = crate::idempotency::in_hand();
        self.tx
            .send(Request { prepared, key, reply })
            .await
            .map_err(|_| AppError::internal("send writer stopped"))?;
        answer
            .await
            .map_err(|_| AppError::internal("send writer dropped the request"))?
    }
}

/// Writes `sends` in one transaction: plain queued sends many rows per
/// statement, the others (refusals, WhatsApp conversations to admit) one by
/// one. Returns what was written, in order.
async fn write_together(
    store: &Store,
    sends: Vec<(Prepared, Option<KeyInHand>)>,
    now: i64,
) -> Result<Vec<Written>, StoreError> {
    let asked = std::time::Instant::now();
    let mut tx = store.write().await?;
    let began = std::time::Instant::now();
    let mut written: Vec<Option<Written>> = Vec::with_capacity(sends.len());
    let mut rows: Vec<OutboundRow> = Vec::new();
    let mut row_slots: Vec<usize> = Vec::new();
    let mut keys: Vec<(usize, KeyInHand)> = Vec::new();
    for (prepared, key) in sends {
        if let Some(key) = key {
            keys.push((written.len(), key));
        }
        let plain = match prepared {
            Prepared::Queued(send) => match send.into_outbound_row() {
                Ok(row) => Ok(row),
                Err(send) => Err(Prepared::Queued(send)),
            },
            other => Err(other),
        };
        match plain {
            Ok(row) => {
                row_slots.push(written.len());
                written.push(None);
                rows.push(row);
            }
            Err(prepared) => written.push(Some(prepared.write(&mut tx, now).await?)),
        }
    }
    tx.queue_outbound_many(&mut rows, now).await?;
    let queued_rows = rows.len();
    for (slot, row) in row_slots.into_iter().zip(rows) {
        written[slot] = Some(Written::Queued(row.message));
    }
    for (slot, key) in keys {
        let Some(w) = &written[slot] else { continue };
        let (status_code, response) = (key.answer)(w);
        tx.finish_idempotency(&KeyFinish {
            workspace_id: &key.workspace_id,
            key: &key.key,
            holder: &key.holder,
            status_code,
            response: &response,
            message_id: w.message().id.as_ref(),
        })
        .await?;
    }
    let wrote = std::time::Instant::now();
    tx.commit().await?;
    tracing::debug!(
        rows = queued_rows,
        wait_ms = (began - asked).as_secs_f64() * 1e3,
        write_ms = (wrote - began).as_secs_f64() * 1e3,
        commit_ms = wrote.elapsed().as_secs_f64() * 1e3,
        "accept transaction"
    );
    Ok(written.into_iter().flatten().collect())
}
