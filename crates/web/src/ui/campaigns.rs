//! The campaign pages: the list (sortable by date, sent, delivery and click
//! rate), a campaign's page (counters with rates, the chart over time, the
//! error breakdown, recipients filtered by state, the CSV download, and the
//! controls of its broadcast), and the broadcast composer with the SMS meter
//! and the estimate. Every change goes through the same services as the API.

use super::chart;
use super::login::admins_only;
use super::page::{html, local_time, timezone, Chrome, Opt, UiResult};
use super::session::{Posted, WebUser};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::broadcasts::{self as broadcasts, BroadcastRequest};
use recado_app::campaigns::{self as service, CampaignWithStats};
use recado_app::{AppError, AppState};
use recado_core::broadcasts::Command;
use recado_core::campaigns::{Bucket, Stats, RECIPIENT_STATES};
use recado_core::consent::Channel;
use recado_flow::definition::TemplateRef;
use recado_store::campaigns::CampaignFilter;
use serde::Deserialize;

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_string(), |r| format!("{:.1} %", r * 100.0))
}

pub struct ListRow {
    pub id: String,
    pub name: String,
    pub channel: &'static str,
    pub source: &'static str,
    pub created: String,
    pub sent: i64,
    pub delivery: String,
    pub click: String,
}

pub struct SortLink {
    pub label: &'static str,
    pub href: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<ListRow>,
    sorts: Vec<SortLink>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    sort: Option<String>,
}

/// `GET /campaigns?sort=date|sent|delivery|click` (highest first).
pub async fn list(State(state): State<AppState>, user: WebUser, Query(q): Query<ListQuery>) -> UiResult<Response> {
    let ws = user.workspace_id().to_string();
    let tz = timezone(&state, &ws).await?;
    let filter = CampaignFilter {
        limit: 500,
        ..Default::default()
    };
    let mut campaigns = service::list(&state, &ws, &filter).await?;
    let sort = q.sort.as_deref().unwrap_or("date");
    let key = |c: &CampaignWithStats| -> f64 {
        #[allow(clippy::cast_precision_loss)]
        match sort {
            "sent" => c.stats.sent as f64,
            "delivery" => c.stats.rates.delivery.unwrap_or(-1.0),
            "click" => c.stats.rates.click.unwrap_or(-1.0),
            _ => c.campaign.created_at as f64,
        }
    };
    campaigns.sort_by(|a, b| key(b).total_cmp(&key(a)));
    let rows = campaigns
        .into_iter()
        .map(|c| ListRow {
            channel: c.campaign.channel.as_str(),
            source: c.campaign.source.as_str(),
            created: local_time(c.campaign.created_at, &tz),
            sent: c.stats.sent,
            delivery: percent(c.stats.rates.delivery),
            click: percent(c.stats.rates.click),
            id: c.campaign.id,
            name: c.campaign.name,
        })
        .collect();
    let sorts = [
        ("date", "Newest"),
        ("sent", "Most sent"),
        ("delivery", "Delivery rate"),
        ("click", "Click rate"),
    ]
    .into_iter()
    .map(|(k, label)| SortLink {
        label,
        href: format!("/campaigns?sort={k}"),
        active: k == sort,
    })
    .collect();
    html(ListPage {
        chrome: Chrome::build(&state, &user, "Campaigns", "").await?,
        rows,
        sorts,
    })
}

pub struct Counter {
    pub label: &'static str,
    pub key: &'static str,
    pub value: i64,
    /// The rate this counter is the numerator of, with its denominator.
    pub rate: Option<String>,
}

pub struct RecipientRow {
    pub contact_id: String,
    /// The contact's name (or number) as lists show it; empty when the
    /// contact was erased.
    pub name: String,
    pub phone: String,
    pub state: &'static str,
    pub reason: String,
    pub sent: String,
    pub delivered: String,
    pub clicked: String,
}

pub struct BroadcastBox {
    pub id: String,
    pub status: &'static str,
    pub prepared: i64,
    pub can_pause: bool,
    pub can_resume: bool,
    pub can_cancel: bool,
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct CampaignPage {
    chrome: Chrome,
    id: String,
    name: String,
    channel: &'static str,
    source: &'static str,
    created: String,
    counters: Vec<Counter>,
    chart: String,
    bucket: &'static str,
    not_sent: Vec<(String, i64)>,
    not_delivered: Vec<(String, i64)>,
    keys: Vec<(String, i64)>,
    states: Vec<Opt>,
    recipients: Vec<RecipientRow>,
    more: Option<String>,
    broadcast: Option<BroadcastBox>,
}

/// The counters a campaign of `channel` can have: calls have no links,
/// parts or conversations, but answered calls.
fn counters(s: &Stats, channel: Channel) -> Vec<Counter> {
    let rate = |r: Option<f64>, of: &str| Some(format!("{} of {of}", percent(r)));
    let all = vec![
        Counter {
            label: "Recipients",
            key: "recipients",
            value: s.recipients,
            rate: None,
        },
        Counter {
            label: "Sent",
            key: "sent",
            value: s.sent,
            rate: None,
        },
        Counter {
            label: "Not sent",
            key: "not_sent",
            value: s.not_sent,
            rate: None,
        },
        Counter {
            label: "Delivered",
            key: "delivered",
            value: s.delivered,
            rate: rate(s.rates.delivery, "sent"),
        },
        Counter {
            label: "Not delivered",
            key: "not_delivered",
            value: s.not_delivered,
            rate: None,
        },
        Counter {
            label: "Clicked (unique)",
            key: "clicked_unique",
            value: s.clicked_unique,
            rate: rate(s.rates.click, "delivered"),
        },
        Counter {
            label: "Clicks",
            key: "clicked",
            value: s.clicked,
            rate: None,
        },
        Counter {
            label: "Replied",
            key: "replied",
            value: s.replied,
            rate: rate(s.rates.reply, "delivered"),
        },
        Counter {
            label: "Unsubscribed",
            key: "unsubscribed",
            value: s.unsubscribed,
            rate: rate(s.rates.unsubscribe, "delivered"),
        },
        Counter {
            label: "SMS parts",
            key: "parts",
            value: s.parts,
            rate: None,
        },
        Counter {
            label: "WhatsApp conversations",
            key: "conversations",
            value: s.conversations,
            rate: None,
        },
        Counter {
            label: "Calls answered",
            key: "calls_answered",
            value: s.calls_answered,
            rate: None,
        },
    ];
    let shown = |key: &str| match key {
        "clicked_unique" | "clicked" => channel != Channel::Voice,
        "parts" => channel == Channel::Sms,
        "conversations" => channel == Channel::Whatsapp,
        "calls_answered" => channel == Channel::Voice,
        _ => true,
    };
    all.into_iter().filter(|c| shown(c.key)).collect()
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    bucket: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

const RECIPIENTS_SHOWN: i64 = 100;

/// `GET /campaigns/{id}`.
pub async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> UiResult<Response> {
    let ws = user.workspace_id().to_string();
    let tz = timezone(&state, &ws).await?;
    let c = service::get(&state, &ws, &id).await?;
    let bucket = if q.bucket.as_deref() == Some("day") {
        Bucket::Day
    } else {
        Bucket::Hour
    };
    let points: Vec<(String, recado_core::campaigns::Point)> = service::time_series(&state, &ws, &id, bucket)
        .await?
        .into_iter()
        .map(|(at, p)| {
            let local = recado_core::clock::from_ms(at).with_timezone(&tz);
            let label = match bucket {
                Bucket::Hour => local.format("%d %b %H:%M").to_string(),
                Bucket::Day => local.format("%d %b").to_string(),
            };
            (label, p)
        })
        .collect();
    let filter = q.state.as_deref().filter(|s| RECIPIENT_STATES.contains(s));
    let rows = service::recipients(&state, &ws, &id, filter, q.after.as_deref(), RECIPIENTS_SHOWN).await?;
    let more = (rows.len() as i64 == RECIPIENTS_SHOWN)
        .then(|| {
            rows.last().map(|r| {
                format!(
                    "/campaigns/{id}?after={}{}",
                    r.message_id,
                    filter.map(|s| format!("&state={s}")).unwrap_or_default()
                )
            })
        })
        .flatten();
    let time = |t: Option<i64>| t.map(|t| local_time(t, &tz)).unwrap_or_default();
    // The names of the page's contacts, in one read.
    let ids: Vec<&str> = rows.iter().filter_map(|r| r.contact_id.as_deref()).collect();
    let names: std::collections::HashMap<String, String> = state
        .store
        .contacts_by_ids(&ws, &ids)
        .await?
        .iter()
        .map(|c| (c.id.to_string(), super::contact_page::display_name(c)))
        .collect();
    let recipients = rows
        .into_iter()
        .map(|r| RecipientRow {
            state: recado_core::campaigns::recipient_state(
                &r.status,
                r.clicked_at.is_some(),
                r.replied_at.is_some(),
                r.unsubscribed_at.is_some(),
            ),
            reason: matches!(r.status.as_str(), "not_sent" | "not_delivered" | "failed")
                .then(|| r.error_code.clone())
                .flatten()
                .unwrap_or_default(),
            sent: time(r.sent_at),
            delivered: time(r.delivered_at),
            clicked: time(r.clicked_at),
            name: r
                .contact_id
                .as_ref()
                .and_then(|id| names.get(id).cloned())
                .unwrap_or_default(),
            contact_id: r.contact_id.unwrap_or_default(),
            phone: r.recipient.unwrap_or_default(),
        })
        .collect();
    let mut states = vec![Opt {
        value: String::new(),
        label: "Every state".into(),
        selected: filter.is_none(),
    }];
    states.extend(RECIPIENT_STATES.iter().map(|s| Opt {
        value: (*s).to_string(),
        label: s.replace('_', " "),
        selected: filter == Some(*s),
    }));
    let broadcast = match state.store.broadcast_of_campaign(&ws, &id).await? {
        Some(b) => {
            let b = broadcasts::get(&state, &ws, &b.id).await?.broadcast;
            Some(BroadcastBox {
                can_pause: b.status.is_active(),
                can_resume: b.status == recado_core::broadcasts::Status::Paused,
                can_cancel: !b.status.is_final(),
                status: b.status.as_str(),
                prepared: b.prepared,
                id: b.id,
            })
        }
        None => None,
    };
    let stats = &c.stats;
    html(CampaignPage {
        chrome: Chrome::build(&state, &user, &c.campaign.name, "").await?,
        counters: counters(stats, c.campaign.channel),
        chart: chart::svg(&points, c.campaign.channel == Channel::Voice),
        bucket: if bucket == Bucket::Day { "day" } else { "hour" },
        not_sent: stats.not_sent_by_reason.clone().into_iter().collect(),
        not_delivered: stats.not_delivered_by_code.clone().into_iter().collect(),
        keys: stats.keys.clone().into_iter().collect(),
        states,
        recipients,
        more,
        broadcast,
        channel: c.campaign.channel.as_str(),
        source: c.campaign.source.as_str(),
        created: local_time(c.campaign.created_at, &tz),
        id: c.campaign.id,
        name: c.campaign.name,
    })
}

/// `GET /campaigns/{id}/export.csv`: the API's export, for the signed-in user.
pub async fn export(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> Response {
    let caller = crate::auth::Caller {
        workspace_id: user.workspace_id().to_string(),
        user_id: user.user_id().to_string(),
        role: if user.is_admin() {
            recado_app::auth::Role::Admin
        } else {
            recado_app::auth::Role::Agent
        },
    };
    match crate::campaigns::export_recipients(State(state), caller, Path(id)).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// `POST /campaigns/broadcasts/{id}/{pause|resume|cancel}`.
pub async fn command(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    posted: Posted<serde::de::IgnoredAny>,
) -> UiResult<Response> {
    let user = posted.user;
    if !user.is_admin() {
        return Ok(admins_only());
    }
    let command = match action.as_str() {
        "pause" => Command::Pause,
        "resume" => Command::Resume,
        "cancel" => Command::Cancel,
        _ => return Err(AppError::not_found("action").into()),
    };
    let b = broadcasts::command(&state, user.workspace_id(), &id, command).await?;
    Ok(Redirect::to(&format!("/campaigns/{}", b.broadcast.campaign_id)).into_response())
}

// ---- the broadcast composer --------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
pub struct ComposerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    segment_id: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    template: String,
    #[serde(default)]
    parameters: String,
    #[serde(default)]
    shorten_urls: Option<String>,
    #[serde(default)]
    scheduled_at: String,
    /// `estimate` or `send`.
    #[serde(default)]
    action: String,
}

pub struct EstimateBox {
    pub recipients: u64,
    pub messages: u64,
    pub excluded: Vec<(String, u64)>,
    pub parts: u64,
    pub gsm7: u64,
    pub ucs2: u64,
    pub conversations: u64,
    pub quota_remaining: Option<u64>,
    pub stops_at_quota: bool,
    pub eta: String,
}

#[derive(Template)]
#[template(path = "broadcast_new.html")]
struct ComposerPage {
    chrome: Chrome,
    form: ComposerForm,
    segments: Vec<Opt>,
    channels: Vec<Opt>,
    templates: Vec<Opt>,
    estimate: Option<EstimateBox>,
    error: Option<String>,
}

async fn composer(
    state: &AppState,
    user: &WebUser,
    form: ComposerForm,
    estimate: Option<EstimateBox>,
    error: Option<String>,
) -> UiResult<Response> {
    let ws = user.workspace_id();
    let segments = state
        .store
        .segments(ws, None, 500)
        .await?
        .into_iter()
        .map(|s| Opt {
            selected: s.id == form.segment_id,
            value: s.id,
            label: s.name,
        })
        .collect();
    let channels = [("sms", "SMS"), ("whatsapp", "WhatsApp template")]
        .into_iter()
        .map(|(v, l)| Opt {
            value: v.into(),
            label: l.into(),
            selected: form.channel == v || (form.channel.is_empty() && v == "sms"),
        })
        .collect();
    let templates = state
        .store
        .templates(ws, None)
        .await?
        .into_iter()
        .filter(|t| t.status == recado_core::whatsapp::TemplateStatus::Approved)
        .map(|t| {
            let value = format!("{}|{}", t.name, t.language);
            Opt {
                selected: value == form.template,
                label: format!("{} ({})", t.name, t.language),
                value,
            }
        })
        .collect();
    html(ComposerPage {
        chrome: Chrome::build(state, user, "New broadcast", "").await?,
        form,
        segments,
        channels,
        templates,
        estimate,
        error,
    })
}

/// `GET /broadcasts/new`.
pub async fn new_page(State(state): State<AppState>, user: WebUser) -> UiResult<Response> {
    if !user.is_admin() {
        return Ok(admins_only());
    }
    composer(&state, &user, ComposerForm::default(), None, None).await
}

fn request_of(form: &ComposerForm, tz: &chrono_tz::Tz) -> Result<BroadcastRequest, AppError> {
    let channel = match form.channel.as_str() {
        "whatsapp" => Channel::Whatsapp,
        _ => Channel::Sms,
    };
    let scheduled_at = match form.scheduled_at.trim() {
        "" => None,
        text => Some(
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .ok()
                .and_then(|t| t.and_local_timezone(*tz).earliest())
                .map(|t| t.timestamp_millis())
                .ok_or_else(|| AppError::invalid("invalid_time", "scheduled_at", "the time is not a date and time"))?,
        ),
    };
    let template = (channel == Channel::Whatsapp)
        .then(|| {
            form.template.split_once('|').map(|(name, language)| TemplateRef {
                name: name.to_string(),
                language: language.to_string(),
                parameters: if form.parameters.trim().is_empty() {
                    serde_json::Value::Null
                } else {
                    serde_json::json!({"body": form.parameters.split(',').map(str::trim).collect::<Vec<_>>()})
                },
            })
        })
        .flatten();
    Ok(BroadcastRequest {
        name: Some(form.name.clone()).filter(|n| !n.trim().is_empty()),
        segment_id: form.segment_id.clone(),
        channel: Some(channel),
        channel_id: None,
        from: Some(form.from.clone()).filter(|f| !f.trim().is_empty()),
        text: (channel == Channel::Sms).then(|| form.text.clone()),
        template,
        shorten_urls: form.shorten_urls.is_some(),
        utm: None,
        policy: None,
        scheduled_at,
    })
}

fn duration(seconds: u64) -> String {
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

/// `POST /broadcasts/new`: estimates (`action=estimate`) or creates the
/// broadcast and goes to its campaign's page.
pub async fn new_post(State(state): State<AppState>, posted: Posted<ComposerForm>) -> UiResult<Response> {
    let user = posted.user;
    if !user.is_admin() {
        return Ok(admins_only());
    }
    let form = posted.form;
    let ws = state.store.workspace(user.workspace_id()).await?;
    let tz = timezone(&state, &ws.id).await?;
    let request = match request_of(&form, &tz) {
        Ok(r) => r,
        Err(e) => return composer(&state, &user, form, None, Some(e.message)).await,
    };
    if form.action == "send" {
        return match broadcasts::create(&state, &ws, Some(user.user_id()), &request).await {
            Ok(b) => Ok(Redirect::to(&format!("/campaigns/{}", b.broadcast.campaign_id)).into_response()),
            Err(e) if !e.is_internal() => composer(&state, &user, form, None, Some(e.message)).await,
            Err(e) => Err(e.into()),
        };
    }
    match broadcasts::estimate::estimate(&state, &ws, &request).await {
        Ok(e) => {
            let shown = EstimateBox {
                recipients: e.recipients,
                messages: e.messages,
                excluded: e.excluded.into_iter().collect(),
                parts: e.parts,
                gsm7: e.gsm7_messages,
                ucs2: e.ucs2_messages,
                conversations: e.conversations,
                quota_remaining: e.quota_remaining,
                stops_at_quota: e.stops_at_quota,
                eta: duration(e.eta_seconds),
            };
            composer(&state, &user, form, Some(shown), None).await
        }
        Err(e) if !e.is_internal() => composer(&state, &user, form, None, Some(e.message)).await,
        Err(e) => Err(e.into()),
    }
}
