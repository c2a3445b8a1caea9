//! A broadcast's estimate: every member of the segment goes through the
//! same preparation as the real send (nothing is written), so the
//! exclusions by reason, the SMS parts by encoding and the WhatsApp
//! conversations it shows are those the broadcast then meets — unless the
//! segment or the contacts change in between.

use super::{check, prepare_recipient, BroadcastRequest};
use crate::error::AppResult;
use crate::messages::prepared::Prepared;
use crate::state::AppState;
use crate::workflows::sends::Channels;
use recado_core::consent::Channel;
use recado_store::consent::SubscriptionRecord;
use recado_store::workspaces::Workspace;
use std::collections::{BTreeMap, HashMap};

/// Members read per page.
const PAGE: u32 = 2000;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Estimate {
    /// Members of the segment now.
    pub recipients: u64,
    /// Members that will not be sent to, by reason.
    pub excluded: BTreeMap<String, u64>,
    /// Messages that will be sent.
    pub messages: u64,
    /// SMS parts in total.
    pub parts: u64,
    pub gsm7_messages: u64,
    pub ucs2_messages: u64,
    /// WhatsApp conversations the sends open (counted against the quota).
    pub conversations: u64,
    /// What is left of the monthly conversation quota (WhatsApp).
    pub quota_remaining: Option<u64>,
    /// The quota runs out before every conversation is opened: the rest
    /// will be refused `quota_exhausted`.
    pub stops_at_quota: bool,
    /// Seconds the sends take at the channel's rate.
    pub eta_seconds: u64,
}

pub async fn estimate(state: &AppState, ws: &Workspace, r: &BroadcastRequest) -> AppResult<Estimate> {
    let checked = check(state, ws, r).await?;
    let now = state.clock.now_ms();
    let mut e = Estimate::default();
    let mut channels = Channels::default();
    let mut after: Option<String> = None;
    loop {
        let contacts = state
            .store
            .matching_contacts(&ws.id, &checked.segment.filter, now, after.as_deref(), PAGE)
            .await?;
        let ids: Vec<&str> = contacts.iter().map(|c| c.id.as_str()).collect();
        let mut subscriptions: HashMap<String, Vec<SubscriptionRecord>> = HashMap::new();
        for (contact, record) in state.store.subscriptions_of_contacts(&ws.id, &ids).await? {
            subscriptions.entry(contact).or_default().push(record);
        }
        for contact in &contacts {
            e.recipients += 1;
            let subs = subscriptions.get(contact.id.as_str()).map_or(&[][..], Vec::as_slice);
            match prepare_recipient(state, ws, contact, subs, &checked.spec, &mut channels).await {
                Ok(Prepared::Queued(send)) => {
                    e.messages += 1;
                    let m = &send.message;
                    if m.channel == Channel::Sms {
                        e.parts += u64::try_from(m.segments.unwrap_or(1)).unwrap_or(0);
                        match m.encoding.as_deref() {
                            Some("UCS-2") => e.ucs2_messages += 1,
                            _ => e.gsm7_messages += 1,
                        }
                    }
                    if send.conversation.is_some() {
                        e.conversations += 1;
                    }
                }
                Ok(Prepared::Refused { refusal, .. }) => {
                    *e.excluded.entry(refusal.code().to_string()).or_default() += 1;
                }
                Err(err) if err.is_internal() => return Err(err),
                Err(err) => *e.excluded.entry(err.code.to_string()).or_default() += 1,
            }
        }
        if contacts.len() < PAGE as usize {
            break;
        }
        after = contacts.last().map(|c| c.id.to_string());
    }
    if checked.spec.channel() == Channel::Whatsapp {
        let usage = crate::whatsapp::usage::current(state, &ws.id).await?;
        let remaining = usage.limit.saturating_sub(usage.used);
        e.quota_remaining = Some(remaining);
        e.stops_at_quota = e.conversations > remaining;
        if e.stops_at_quota {
            let refused = e.conversations - remaining;
            *e.excluded.entry("quota_exhausted".into()).or_default() += refused;
            e.messages -= refused;
        }
    }
    e.eta_seconds = e.messages.div_ceil(u64::from(checked.rate_per_sec.max(1)));
    Ok(e)
}
