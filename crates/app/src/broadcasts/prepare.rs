//! The `broadcast.prepare` job: prepares a broadcast's recipients a page at
//! a time, in contact-id order, while few of its messages wait to be sent
//! (back-pressure: a broadcast never floods the send queue), and writes each
//! page — its messages, send jobs and refusals — in the transaction that
//! moves the broadcast's cursor, so no recipient is prepared twice whatever
//! crashes or runs twice. The job runs again until every recipient is
//! prepared; the dispatcher then sends them like any other send.

use super::{prepare_recipient, Spec};
use crate::messages::prepared::{Prepared, Written};
use crate::workers::JobError;
use crate::workflows::sends::Channels;
use crate::AppState;
use recado_core::broadcasts::Status;
use recado_core::consent::Channel;
use recado_store::broadcasts::{BroadcastRecord, PageWritten};
use recado_store::consent::SubscriptionRecord;
use std::collections::HashMap;

/// Recipients prepared per page (one transaction).
pub const PAGE: u32 = 500;

/// A broadcast prepares its next page only while fewer of its messages
/// than this wait to be sent.
pub const WAITING_MAX: i64 = 2 * PAGE as i64;

/// How soon a broadcast whose queue is full looks again.
const FULL_RETRY_MS: i64 = 100;

/// How soon a broadcast whose every recipient is prepared checks whether
/// its messages are all sent.
const SENDING_RETRY_MS: i64 = 1000;

pub async fn job(state: AppState, workspace_id: String, broadcast_id: String) -> Result<(), JobError> {
    let Ok(b) = state.store.broadcast(&workspace_id, &broadcast_id).await else {
        return Ok(());
    };
    let now = state.clock.now_ms();
    match b.status {
        Status::Scheduled if b.scheduled_at > now => Err(JobError::Later {
            after_ms: b.scheduled_at - now,
        }),
        Status::Scheduled => {
            state
                .store
                .move_broadcast(&b.id, Status::Scheduled, Status::Preparing, None, now)
                .await?;
            Err(JobError::Later { after_ms: 0 })
        }
        Status::Preparing => prepare_page(&state, b).await,
        Status::Sending => {
            if state.store.queued_in_campaign(&b.campaign_id).await? == 0 {
                state
                    .store
                    .move_broadcast(&b.id, Status::Sending, Status::Done, None, now)
                    .await?;
                Ok(())
            } else {
                Err(JobError::Later {
                    after_ms: SENDING_RETRY_MS,
                })
            }
        }
        // Paused: resuming queues the job again. Done and cancelled: over.
        Status::Paused | Status::Done | Status::Cancelled => Ok(()),
    }
}

/// Prepares and writes the page after the cursor, unless too many of the
/// broadcast's messages still wait.
async fn prepare_page(state: &AppState, b: BroadcastRecord) -> Result<(), JobError> {
    if state.store.queued_in_campaign(&b.campaign_id).await? >= WAITING_MAX {
        return Err(JobError::Later {
            after_ms: FULL_RETRY_MS,
        });
    }
    let after_ms = match write_next_page(state, &b).await? {
        Page::Written { last: true, .. } => SENDING_RETRY_MS,
        Page::Written { last: false, .. } => 0,
        // Paused, cancelled or written by another run meanwhile.
        Page::NotKept => return Ok(()),
    };
    Err(JobError::Later { after_ms })
}

/// What writing a page did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Written {
        recipients: usize,
        last: bool,
    },
    /// The broadcast was no longer preparing from that cursor: nothing kept.
    NotKept,
}

/// Prepares the page of recipients after the broadcast's cursor and writes
/// it with the cursor move, whatever is waiting (the job paces itself
/// before calling this; benchmarks measure preparation alone with it).
pub async fn write_next_page(state: &AppState, b: &BroadcastRecord) -> Result<Page, JobError> {
    let ws = state.store.workspace(&b.workspace_id).await?;
    let segment = state.store.segment(&b.workspace_id, &b.segment_id).await?;
    let spec = Spec::of(b)?;
    let now = state.clock.now_ms();
    let after = (!b.cursor.is_empty()).then_some(b.cursor.as_str());
    let contacts = state
        .store
        .matching_contacts(&b.workspace_id, &segment.filter, now, after, PAGE)
        .await?;
    let ids: Vec<&str> = contacts.iter().map(|c| c.id.as_str()).collect();
    let mut subscriptions: HashMap<String, Vec<SubscriptionRecord>> = HashMap::new();
    for (contact, record) in state.store.subscriptions_of_contacts(&b.workspace_id, &ids).await? {
        subscriptions.entry(contact).or_default().push(record);
    }
    let campaign = state.store.campaign(&b.workspace_id, &b.campaign_id).await?;
    let mut channels = Channels::default();
    let mut prepared = Vec::with_capacity(contacts.len());
    for contact in &contacts {
        let subs = subscriptions.get(contact.id.as_str()).map_or(&[][..], Vec::as_slice);
        let mut p = prepare_recipient(state, &ws, contact, subs, &spec, &mut channels).await?;
        // Filed under the broadcast's own campaign, whatever its name now.
        let message = match &mut p {
            Prepared::Queued(send) => &mut send.message,
            Prepared::Refused { message, .. } => message,
        };
        message.campaign = Some(campaign.name.clone());
        message.campaign_id = Some(campaign.id.clone());
        prepared.push(p);
    }
    let last = contacts.len() < PAGE as usize;
    let to_cursor = contacts.last().map_or(b.cursor.clone(), |c| c.id.to_string());
    let mut tx = state.store.write().await?;
    let mut rows = Vec::new();
    let mut written: Vec<Written> = Vec::new();
    for p in prepared {
        match p {
            Prepared::Queued(send) => match send.into_outbound_row() {
                Ok(row) => rows.push(row),
                Err(send) => written.push(Prepared::Queued(send).write(&mut tx, now).await?),
            },
            refused => written.push(refused.write(&mut tx, now).await?),
        }
    }
    tx.queue_outbound_many(&mut rows, now).await?;
    let page = PageWritten {
        broadcast_id: &b.id,
        from_cursor: &b.cursor,
        to_cursor: &to_cursor,
        recipients: i64::try_from(contacts.len()).unwrap_or(i64::MAX),
        last,
        now,
    };
    if !tx.page_written(&page).await? {
        // Rolled back when `tx` drops.
        return Ok(Page::NotKept);
    }
    tx.commit().await?;
    state.sends.accepted.notify_waiters();
    for r in &rows {
        crate::messages::delivery::count_status(&r.message);
    }
    for w in &written {
        crate::messages::delivery::count_status(w.message());
        if w.message().channel == Channel::Whatsapp {
            crate::whatsapp::send::after_written(state, w).await?;
        }
    }
    metrics::counter!("recado_broadcast_recipients_prepared_total").increment(contacts.len() as u64);
    Ok(Page::Written {
        recipients: contacts.len(),
        last,
    })
}
