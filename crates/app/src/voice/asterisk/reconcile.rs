//! What happened while nobody read an application's events (the hub was
//! down, the connection broke, another node held it): on each connection,
//! every call of its channels that may hold a line is looked up in Asterisk
//! (`GET /channels/{id}`). A channel that is gone ends its call (its
//! reports were lost: the call hung up); one still up is taken as placed —
//! answered when it is up. Anything else the call's own timer closes.

use super::links::{CallOf, Link};
use crate::voice::engine::{feed, read};
use crate::workers::JobError;
use crate::AppState;
use recado_channels::voice::asterisk::ChannelRef;
use recado_core::voice::call::{AnsweredBy, Input, Phase, ProviderEvent};
use recado_store::calls::CallRecord;

/// Calls read at a time.
const PAGE: i64 = 200;

pub(super) async fn run(state: &AppState, link: &Link) {
    let mut looked = 0usize;
    for channel_id in link.channel_ids() {
        let mut after = String::new();
        loop {
            let page = match state.store.calls_on_line(&channel_id, &after, PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(channel = %channel_id, error = %e, "calls could not be reconciled");
                    break;
                }
            };
            for row in &page {
                looked += 1;
                if let Err(e) = one(state, link, &channel_id, row).await {
                    tracing::warn!(message_id = %row.message_id, error = ?e, "a call could not be reconciled");
                }
            }
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => after = last.message_id.clone(),
                _ => break,
            }
        }
    }
    if looked > 0 {
        tracing::info!(app = %link.client.config().app, calls = looked, "calls reconciled with Asterisk");
    }
}

async fn one(state: &AppState, link: &Link, channel_id: &str, row: &CallRecord) -> Result<(), JobError> {
    let (now, _) = read(row)?;
    if now.attempt == 0 {
        return Ok(());
    }
    let contact = ChannelRef::main(row.message_id.clone(), now.attempt);
    link.remember(
        &row.message_id,
        CallOf {
            workspace_id: row.workspace_id.clone(),
            channel_id: channel_id.to_string(),
        },
    );
    let report = |event| Input::Provider {
        attempt: now.attempt,
        event,
    };
    let (ws, id) = (&row.workspace_id, &row.message_id);
    let found = match link.client.channel(&contact.channel_id()).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(call = %contact, error = %e, "Asterisk could not say whether a call is up");
            return Ok(());
        }
    };
    match found {
        // A dial under way may not have created its channel yet: the dial
        // (or the call's timer) settles it.
        None if now.phase == Phase::Dialing => {}
        None => {
            feed(state, ws, id, report(ProviderEvent::HungUp), None).await?;
            link.forget(id);
        }
        Some(channel) => {
            if now.phase == Phase::Dialing {
                let name = contact.channel_id();
                feed(state, ws, id, report(ProviderEvent::Accepted), Some(&name)).await?;
            }
            if channel.is_up() && now.phase != Phase::Answered {
                let answered = ProviderEvent::Answered {
                    answered_by: AnsweredBy::Unknown,
                };
                feed(state, ws, id, report(answered), None).await?;
            }
        }
    }
    Ok(())
}
