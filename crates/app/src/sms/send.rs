//! Sending an SMS: consent, sender, tokens, links and the segment limit are
//! checked and applied before anything is stored; the message is stored with
//! its send job and short links; `send_job` hands it to the provider.

use super::compose::{compose, random_code, Utm};
use super::unsubscribe::{sign, UnsubscribeClaim};
use crate::channels::registry::LoadedSms;
use crate::error::{AppError, AppResult};
use crate::messages::prepared::{Prepared, QueuedSend, Written};
use crate::messages::refusal::SendRefusal;
use crate::messages::send_job::buried_settlement;
use crate::whatsapp::send::SendSource;
use crate::workers::JobError;
use crate::AppState;
use recado_core::consent::Channel;
use recado_core::consent::{may_send, SendPurpose, SubscriptionStatus};
use recado_core::ids::{new_id, IdKind};
use recado_sms::{analyze, AnalyzeOptions, NationalLanguage, Policy};
use recado_store::contacts::Contact;
use recado_store::jobs::Job;
use recado_store::links::ShortLink;
use recado_store::messages::MessageRecord;
use recado_store::workspaces::Workspace;
use serde_json::json;

pub struct SmsPlan<'a> {
    pub workspace: &'a Workspace,
    pub channel: &'a LoadedSms,
    pub contact: &'a Contact,
    /// Destination in E.164.
    pub to: String,
    pub from: String,
    pub text: String,
    pub campaign: Option<String>,
    pub source: SendSource,
    pub policy: Option<Policy>,
    pub national_language: Option<NationalLanguage>,
    pub shorten_urls: bool,
    pub utm: Utm,
    /// The contact's subscriptions when the caller has read them already
    /// (bulk senders read a batch at once); read here otherwise.
    pub subscriptions: Option<&'a [recado_store::consent::SubscriptionRecord]>,
}

/// The phone number an SMS goes to: mobile first.
pub fn sms_number(contact: &Contact) -> Option<&str> {
    contact
        .phones
        .get("mobilephone")
        .or_else(|| contact.phones.get("phone"))
        .or_else(|| contact.phones.get("whatsapp_phone"))
        .map(String::as_str)
}

/// The text an SMS to `contact` will carry once composed — tokens filled,
/// UTM added, links shortened when asked — with a sample unsubscribe link
/// and short codes of the very length of the real ones, so a meter counts
/// what will be sent while the user types.
pub fn composed_sample(
    state: &AppState,
    workspace_id: &str,
    contact: Option<&Contact>,
    text: &str,
    utm: &Utm,
    shorten_urls: bool,
) -> String {
    let claim = UnsubscribeClaim {
        workspace_id: workspace_id.to_string(),
        contact_id: contact.map_or_else(|| new_id(IdKind::Contact), |c| c.id.to_string()),
        message_id: new_id(IdKind::Message),
    };
    let unsub_url = format!(
        "{}/u/{}",
        state.settings.public_url,
        sign(state.secrets.signing_key(), &claim)
    );
    let empty = Default::default();
    let properties = contact.map_or(&empty, |c| &c.properties);
    let shorten_base = shorten_urls.then_some(state.settings.public_url.as_str());
    compose(text, properties, &unsub_url, utm, shorten_base, random_code).text
}

/// Checks and stores an SMS in its own transaction. A refused send is stored
/// as `not_sent` and returned as the error.
pub async fn send(state: &AppState, plan: SmsPlan<'_>) -> AppResult<MessageRecord> {
    let prepared = prepare(state, plan).await?;
    let written = state.sends.writer.write(prepared).await?;
    crate::messages::delivery::count_status(written.message());
    match written {
        Written::Queued(message) => Ok(message),
        Written::Refused(_, refusal) => Err(refusal.into()),
    }
}

/// Applies every rule of an SMS send, reading only: consent, tokens, the
/// unsubscribe link, UTM and short links, encoding and the part limit.
pub async fn prepare(state: &AppState, plan: SmsPlan<'_>) -> AppResult<Prepared> {
    let now = state.clock.now_ms();
    let id = new_id(IdKind::Message);
    let campaign = crate::campaigns::name_of_send(state, plan.campaign.as_deref(), plan.source, Channel::Sms);
    let mut message = MessageRecord {
        id: id.clone().into(),
        text: Some(plan.text.clone()),
        campaign: Some(campaign),
        campaign_source: Some(plan.source.campaign_source()),
        sender: Some(plan.from.clone()),
        recipient: Some(plan.to.clone()),
        ..MessageRecord::queued_outbound(
            &plan.workspace.id,
            Channel::Sms,
            &plan.channel.record.id,
            Some(plan.contact.id.to_string()),
            now,
        )
    };
    let refused = |message: &MessageRecord, refusal: SendRefusal| Prepared::Refused {
        message: Box::new(message.clone()),
        refusal,
    };
    // Business-initiated: only to subscribed contacts; what the contact asked
    // for in a call, unless they opted out; the hub's own replies (keyword
    // confirmations) answer the contact and are exempt.
    if !consent_allows(state, plan.contact, plan.subscriptions, purpose_of(plan.source)).await? {
        return Ok(refused(&message, SendRefusal::NotSubscribed { channel: Channel::Sms }));
    }
    let claim = UnsubscribeClaim {
        workspace_id: plan.workspace.id.clone(),
        contact_id: plan.contact.id.to_string(),
        message_id: id.clone(),
    };
    let unsub_url = format!(
        "{}/u/{}",
        state.settings.public_url,
        sign(state.secrets.signing_key(), &claim)
    );
    let shorten_base = plan.shorten_urls.then_some(state.settings.public_url.as_str());
    let composed = compose(
        &plan.text,
        &plan.contact.properties,
        &unsub_url,
        &plan.utm,
        shorten_base,
        random_code,
    );
    let options = AnalyzeOptions {
        policy: plan.policy.unwrap_or(plan.channel.sms.policy),
        national_language: plan.national_language,
        max_segments: plan.channel.sms.max_segments,
    };
    let analysis = match analyze(&composed.text, &options) {
        Ok(a) => a,
        Err(_) => return Ok(refused(&message, SendRefusal::EmptyText)),
    };
    message.text = Some(analysis.text.clone());
    message.segments = Some(analysis.segments as i64);
    message.encoding = Some(analysis.encoding.as_str().to_string());
    message.content = json!({
        "policy": options.policy,
        "national_language": analysis.national_language,
        "replaced": analysis.replaced,
        "ucs2_chars": analysis.ucs2_chars,
        "links": composed.links.iter().map(|l| json!({"target": l.target, "code": l.code})).collect::<Vec<_>>(),
    })
    .to_string();
    if analysis.exceeds_max_segments {
        let refusal = SendRefusal::TooManySegments {
            segments: analysis.segments,
            max: options.max_segments,
        };
        return Ok(refused(&message, refusal));
    }
    let links: Vec<ShortLink> = composed
        .links
        .iter()
        .filter_map(|l| {
            l.code.as_ref().map(|code| ShortLink {
                code: code.clone(),
                workspace_id: plan.workspace.id.clone(),
                message_id: id.clone(),
                contact_id: Some(plan.contact.id.to_string()),
                target_url: l.target.clone(),
                clicks: 0,
                created_at: now,
            })
        })
        .collect();
    // The message, its short links, its send job and its timeline entry
    // commit together: a send that is not recorded leaves no link behind.
    Ok(Prepared::Queued(Box::new(QueuedSend {
        message,
        account: plan.from.clone(),
        links,
        timeline_kind: "SMS_QUEUED",
        details: json!({ "segments": analysis.segments, "encoding": analysis.encoding.as_str() }),
        conversation: None,
        call: None,
    })))
}

/// Stores a refused send as `not_sent` with `SMS_NOT_SENT` on the timeline.
pub async fn record_refusal(state: &AppState, message: &MessageRecord, refusal: SendRefusal) -> AppError {
    crate::messages::send_job::record_refusal(state, message, refusal.into(), "SMS_NOT_SENT").await
}

fn purpose_of(source: SendSource) -> SendPurpose {
    match source {
        SendSource::System => SendPurpose::Reply,
        SendSource::IvrKey => SendPurpose::RequestedInCall,
        _ => SendPurpose::BusinessInitiated,
    }
}

async fn consent_allows(
    state: &AppState,
    contact: &Contact,
    known: Option<&[recado_store::consent::SubscriptionRecord]>,
    purpose: SendPurpose,
) -> AppResult<bool> {
    if purpose == SendPurpose::Reply {
        return Ok(true);
    }
    let loaded;
    let subs = match known {
        Some(subs) => subs,
        None => {
            loaded = state.store.subscriptions(&contact.workspace_id, &contact.id).await?;
            &loaded
        }
    };
    let status = subs
        .iter()
        .find(|s| s.channel == "sms")
        .and_then(|s| s.status.parse::<SubscriptionStatus>().ok());
    Ok(may_send(status, purpose))
}

/// Settles the message of a send job that was buried: `failed` with the
/// provider's last error, or `uncertain` if the last attempt may have reached it.
pub async fn send_buried(state: AppState, job: Job, message_id: String) -> Result<(), JobError> {
    if let Some((message, status, error)) = buried_settlement(&state, &job, &message_id).await? {
        super::receipts::apply(&state, &message.id, status, error, None).await?;
    }
    Ok(())
}
