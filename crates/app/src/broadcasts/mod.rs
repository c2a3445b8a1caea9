//! Broadcasts (SPEC §7): one SMS or WhatsApp template to a segment, now or
//! at a set time, with an estimate first. Each recipient goes through the
//! same send path as a workflow send (consent, tokens, unsubscribe link,
//! short links, encoding, conversation limits); recipients are prepared in
//! pages by [`prepare`] and sent by the dispatcher like any other send.

pub mod estimate;
pub mod prepare;

use crate::channels::registry::LoadedSms;
use crate::error::{AppError, AppResult};
use crate::messages::prepared::Prepared;
use crate::messages::refusal::SendRefusal;
use crate::messages::request::{pick_channel, pick_sms_channel};
use crate::state::AppState;
use crate::whatsapp::send::SendSource;
use crate::workflows::sends::{Channels, Recipient};
use recado_core::broadcasts::{apply, Command, Status};
use recado_core::campaigns::{clean_name, default_name, Source};
use recado_core::consent::Channel;
use recado_core::ids::{new_id, IdKind};
use recado_core::jobs::Task;
use recado_flow::definition::{SmsMessage, TemplateRef, Utm, WhatsappTemplateMessage};
use recado_flow::SendAction;
use recado_store::broadcasts::BroadcastRecord;
use recado_store::campaigns::CampaignRecord;
use recado_store::consent::SubscriptionRecord;
use recado_store::contacts::Contact;
use recado_store::jobs::NewJob;
use recado_store::messages::MessageRecord;
use recado_store::workspaces::Workspace;
use serde::{Deserialize, Serialize};

/// What a user asks to broadcast (API "Campaigns and broadcasts").
#[derive(Clone, Debug, Default)]
pub struct BroadcastRequest {
    pub name: Option<String>,
    pub segment_id: String,
    pub channel: Option<Channel>,
    pub channel_id: Option<String>,
    pub from: Option<String>,
    pub text: Option<String>,
    pub template: Option<TemplateRef>,
    pub shorten_urls: bool,
    pub utm: Option<Utm>,
    pub policy: Option<String>,
    /// When to start (ms); now when absent or past.
    pub scheduled_at: Option<i64>,
}

/// The send a broadcast makes to each recipient, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "channel", content = "send", rename_all = "snake_case")]
pub enum Spec {
    Sms(SmsMessage),
    Whatsapp(WhatsappTemplateMessage),
}

impl Spec {
    pub fn action(&self) -> SendAction {
        match self {
            Spec::Sms(m) => SendAction::Sms(m.clone()),
            Spec::Whatsapp(m) => SendAction::WhatsappTemplate(m.clone()),
        }
    }

    pub fn channel(&self) -> Channel {
        match self {
            Spec::Sms(_) => Channel::Sms,
            Spec::Whatsapp(_) => Channel::Whatsapp,
        }
    }

    fn read(b: &BroadcastRecord) -> AppResult<Spec> {
        serde_json::from_str(&b.spec).map_err(AppError::internal)
    }
}

fn invalid(field: &str, message: impl Into<String>) -> AppError {
    AppError::invalid("invalid_broadcast", field, message)
}

/// A checked request: the segment, the send with its sender resolved, and
/// the rate the channel sends at.
pub struct Checked {
    pub segment: recado_store::segments::SegmentRecord,
    pub spec: Spec,
    /// Messages per second the channel sends at (the estimate's duration).
    pub rate_per_sec: u32,
}

/// Checks a request as a whole (what every recipient shares): the segment,
/// the channel and sender, the content.
pub async fn check(state: &AppState, ws: &Workspace, r: &BroadcastRequest) -> AppResult<Checked> {
    let segment = state
        .store
        .segment(&ws.id, &r.segment_id)
        .await
        .map_err(|_| AppError::invalid("unknown_segment", "segment_id", "no segment has this id"))?;
    let channel = r
        .channel
        .ok_or_else(|| invalid("channel", "channel is sms or whatsapp"))?;
    match channel {
        Channel::Sms => {
            if r.template.is_some() {
                return Err(invalid("template", "an SMS broadcast sends a text"));
            }
            let text = r
                .text
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| invalid("text", "an SMS broadcast needs a text"))?;
            if let Some(p) = r.policy.as_deref().filter(|p| !matches!(*p, "transliterate" | "auto")) {
                return Err(invalid("policy", format!("policy `{p}` is not transliterate or auto")));
            }
            let sms: LoadedSms = pick_sms_channel(state, ws, r.channel_id.as_deref()).await?;
            let from = sms.sms.pick_sender(r.from.as_deref())?;
            let spec = Spec::Sms(SmsMessage {
                channel_id: Some(sms.record.id.clone()),
                from,
                text: text.to_string(),
                campaign: None,
                shorten_urls: r.shorten_urls,
                utm: r.utm.clone(),
                policy: r.policy.clone(),
            });
            Ok(Checked {
                segment,
                spec,
                rate_per_sec: sms_rate(&sms),
            })
        }
        Channel::Whatsapp => {
            if r.text.is_some() {
                return Err(invalid(
                    "text",
                    "a WhatsApp broadcast sends an approved template, not free text",
                ));
            }
            let template = r
                .template
                .clone()
                .ok_or_else(|| invalid("template", "a WhatsApp broadcast needs a template"))?;
            let wa = pick_channel(state, ws, r.channel_id.as_deref(), "whatsapp").await?;
            let spec = Spec::Whatsapp(WhatsappTemplateMessage {
                channel_id: Some(wa.record.id.clone()),
                template,
                campaign: None,
            });
            Ok(Checked {
                segment,
                spec,
                rate_per_sec: WHATSAPP_RATE_PER_SEC,
            })
        }
        Channel::Voice => Err(invalid("channel", "a broadcast is sent by SMS or WhatsApp")),
    }
}

/// Meta's default throughput of a business number.
const WHATSAPP_RATE_PER_SEC: u32 = 80;
/// What the send path reaches with the sandbox and an SMSC without a
/// throughput limit (docs/benchmarks.md), rounded down.
const SMS_RATE_PER_SEC: u32 = 1000;
/// An HTTP provider's rate is its own and unknown: a conservative guess.
const SMS_HTTP_RATE_PER_SEC: u32 = 100;

fn sms_rate(sms: &LoadedSms) -> u32 {
    use crate::channels::sms_config::SmsProviderSettings;
    match &sms.sms.provider {
        SmsProviderSettings::Smpp(s) if s.throughput_per_sec > 0 => s.throughput_per_sec,
        SmsProviderSettings::Http(_) => SMS_HTTP_RATE_PER_SEC,
        _ => SMS_RATE_PER_SEC,
    }
}

/// The send to one recipient, through the workflow send path with the
/// broadcast as source: every rule of a single send applies. A contact
/// without a number an SMS can go to is a refusal like any other, so every
/// member of the segment has a message saying what happened.
pub async fn prepare_recipient(
    state: &AppState,
    ws: &Workspace,
    contact: &Contact,
    subscriptions: &[SubscriptionRecord],
    spec: &Spec,
    channels: &mut Channels,
) -> AppResult<Prepared> {
    if let Spec::Sms(m) = spec {
        if crate::sms::send::sms_number(contact).is_none() {
            let message = MessageRecord {
                text: Some(m.text.clone()),
                sender: Some(m.from.clone()),
                campaign_source: Some(Source::Broadcast),
                ..MessageRecord::queued_outbound(
                    &ws.id,
                    Channel::Sms,
                    m.channel_id.as_deref().unwrap_or_default(),
                    Some(contact.id.to_string()),
                    state.clock.now_ms(),
                )
            };
            return Ok(Prepared::Refused {
                message: Box::new(message),
                refusal: SendRefusal::NoPhone,
            });
        }
    }
    let data = serde_json::Map::new();
    let to = Recipient {
        workspace: ws,
        contact,
        trigger_data: &data,
        subscriptions: Some(subscriptions),
        source: SendSource::Broadcast,
    };
    crate::workflows::sends::prepare(state, &to, &spec.action(), channels).await
}

/// A broadcast as the API shows it.
#[derive(Clone, Debug)]
pub struct BroadcastState {
    pub broadcast: BroadcastRecord,
    pub campaign_name: String,
    /// Messages submitted to the provider so far (the campaign's `sent`).
    pub sent: i64,
}

/// Creates a broadcast (and its campaign) after checking it; it starts at
/// `scheduled_at`, or now.
pub async fn create(
    state: &AppState,
    ws: &Workspace,
    user_id: Option<&str>,
    r: &BroadcastRequest,
) -> AppResult<BroadcastState> {
    let checked = check(state, ws, r).await?;
    let now = state.clock.now_ms();
    let channel = checked.spec.channel();
    let name = match r.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(given) => clean_name(given).ok_or_else(|| {
            AppError::invalid(
                "invalid_campaign",
                "name",
                "a campaign name is at most 200 characters, without control characters",
            )
        })?,
        None => free_default_name(state, &ws.id, channel).await?,
    };
    let campaign = CampaignRecord {
        id: new_id(IdKind::Campaign),
        workspace_id: ws.id.clone(),
        name: name.clone(),
        channel,
        source: Source::Broadcast,
        created_at: now,
    };
    let scheduled_at = r.scheduled_at.unwrap_or(now).max(now);
    let mut spec = checked.spec;
    match &mut spec {
        Spec::Sms(m) => m.campaign = Some(name.clone()),
        Spec::Whatsapp(m) => m.campaign = Some(name.clone()),
    }
    let record = BroadcastRecord {
        id: new_id(IdKind::Broadcast),
        workspace_id: ws.id.clone(),
        campaign_id: campaign.id.clone(),
        segment_id: checked.segment.id.clone(),
        channel,
        spec: serde_json::to_string(&spec).map_err(AppError::internal)?,
        status: if scheduled_at > now {
            Status::Scheduled
        } else {
            Status::Preparing
        },
        prepared_all: false,
        scheduled_at,
        cursor: String::new(),
        prepared: 0,
        created_by: user_id.map(str::to_string),
        created_at: now,
        updated_at: now,
        finished_at: None,
    };
    let job = prepare_job(&record, scheduled_at);
    state
        .store
        .insert_broadcast(&record, &campaign, &job)
        .await
        .map_err(|e| match e {
            recado_store::StoreError::Conflict(_) => {
                AppError::conflict("campaign_exists", "another campaign has this name").with_field("name")
            }
            other => other.into(),
        })?;
    Ok(BroadcastState {
        broadcast: record,
        campaign_name: name,
        sent: 0,
    })
}

/// `BROADCAST_{CHANNEL}_{YEAR}_{MONTH}`, or with `_2`, `_3`… when an
/// earlier broadcast of the month has it: each broadcast is its own
/// campaign.
async fn free_default_name(state: &AppState, workspace_id: &str, channel: Channel) -> AppResult<String> {
    let base = default_name(Source::Broadcast, channel, state.clock.now());
    let filter = recado_store::campaigns::CampaignFilter {
        limit: 500,
        ..Default::default()
    };
    let taken: std::collections::HashSet<String> = state
        .store
        .campaigns(workspace_id, &filter)
        .await?
        .into_iter()
        .map(|c| c.name)
        .filter(|n| n.starts_with(&base))
        .collect();
    Ok((1..)
        .map(|n| if n == 1 { base.clone() } else { format!("{base}_{n}") })
        .find(|n| !taken.contains(n))
        .unwrap_or(base))
}

fn prepare_job(b: &BroadcastRecord, run_at: i64) -> NewJob<'_> {
    NewJob {
        task: Task::BroadcastPrepare {
            workspace_id: b.workspace_id.clone(),
            broadcast_id: b.id.clone(),
        },
        workspace_id: Some(&b.workspace_id),
        run_at,
        max_attempts: 20,
    }
}

async fn state_of(state: &AppState, broadcast: BroadcastRecord) -> AppResult<BroadcastState> {
    let broadcast = settle_if_sent(state, broadcast).await?;
    let campaign = state
        .store
        .campaign(&broadcast.workspace_id, &broadcast.campaign_id)
        .await?;
    let counters = state
        .store
        .campaign_counters(&broadcast.workspace_id, &[broadcast.campaign_id.as_str()])
        .await?;
    let sent = counters
        .iter()
        .filter(|(_, key, _)| key == "sent")
        .map(|(_, _, n)| n)
        .sum();
    Ok(BroadcastState {
        broadcast,
        campaign_name: campaign.name,
        sent,
    })
}

/// A broadcast whose recipients are all prepared is done once none of its
/// messages waits to be sent.
async fn settle_if_sent(state: &AppState, mut b: BroadcastRecord) -> AppResult<BroadcastRecord> {
    if b.status == Status::Sending && state.store.queued_in_campaign(&b.campaign_id).await? == 0 {
        let now = state.clock.now_ms();
        if state
            .store
            .move_broadcast(&b.id, Status::Sending, Status::Done, None, now)
            .await?
        {
            b.status = Status::Done;
            b.finished_at = Some(now);
        }
    }
    Ok(b)
}

pub async fn get(state: &AppState, workspace_id: &str, id: &str) -> AppResult<BroadcastState> {
    let b = state
        .store
        .broadcast(workspace_id, id)
        .await
        .map_err(|_| AppError::not_found("broadcast"))?;
    state_of(state, b).await
}

/// Newest first.
pub async fn list(
    state: &AppState,
    workspace_id: &str,
    after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<BroadcastState>> {
    let mut out = Vec::new();
    for b in state.store.broadcasts(workspace_id, after, limit).await? {
        out.push(state_of(state, b).await?);
    }
    Ok(out)
}

/// Pauses, resumes or cancels a broadcast. It takes effect at once: the
/// dispatcher holds back the messages of a paused broadcast that are not
/// submitted yet (and settles those of a cancelled one as not sent), and
/// nothing more is prepared. 409 `broadcast_state` when the command does
/// not apply to the broadcast's status.
pub async fn command(state: &AppState, workspace_id: &str, id: &str, command: Command) -> AppResult<BroadcastState> {
    let current = get(state, workspace_id, id).await?.broadcast;
    let now = state.clock.now_ms();
    let to = apply(
        current.status,
        command,
        current.prepared_all,
        current.scheduled_at > now,
    )
    .map_err(|e| AppError::conflict("broadcast_state", e.to_string()))?;
    let job = (command == Command::Resume).then(|| prepare_job(&current, current.scheduled_at.max(now)));
    let moved = state
        .store
        .move_broadcast(&current.id, current.status, to, job.as_ref(), now)
        .await?;
    if !moved {
        return Err(AppError::conflict(
            "broadcast_state",
            "the broadcast changed meanwhile; read it again",
        ));
    }
    if command == Command::Resume {
        state.sends.accepted.notify_waiters();
    }
    get(state, workspace_id, id).await
}

impl Spec {
    /// The stored spec of a broadcast.
    pub fn of(b: &BroadcastRecord) -> AppResult<Spec> {
        Spec::read(b)
    }
}

/// How soon a message held back by its paused broadcast is looked at again
/// (so a resumed broadcast goes on within this).
pub const HELD_RETRY_MS: i64 = 500;

/// The campaigns among those of `messages` whose broadcast holds its
/// messages back: paused (they wait) or cancelled (they are not sent).
pub async fn holds<'a>(
    state: &AppState,
    messages: impl Iterator<Item = &'a MessageRecord>,
) -> Result<std::collections::HashMap<String, Status>, recado_store::StoreError> {
    let mut campaigns: Vec<&str> = messages.filter_map(|m| m.campaign_id.as_deref()).collect();
    campaigns.sort_unstable();
    campaigns.dedup();
    Ok(state.store.held_campaigns(&campaigns).await?.into_iter().collect())
}

/// The reason a message of a cancelled broadcast is not sent.
pub fn cancelled_reason() -> (String, String) {
    (
        recado_core::broadcasts::CANCELLED_REASON.to_string(),
        "the broadcast was cancelled before this message was sent".to_string(),
    )
}
