//! Settings → Channels: the list with each channel's health, the connect
//! form of each kind, a channel's page (webhook URL, health, test, edit)
//! and its removal. Every change goes through the channel service the API
//! uses, so the form refuses exactly what the API refuses, next to the
//! field it names.

use super::channel_form::{config_of, fields, kind_label, shown_value, Field, Input, KINDS};
use super::{admin_form, admins_only, Admin, Notice, SettingsNav};
use crate::ui::page::{html, local_time, timezone, Chrome, Opt, UiResult};
use crate::ui::session::{urlencode, Posted, WebUser};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::channels::admin::{self, Connected};
use recado_app::channels::check::{self, Checked};
use recado_app::channels::health::{self, in_error};
use recado_app::channels::registry::{decode, decode_sms, decode_voice, stored};
use recado_app::channels::{webhook_url, SmsKind, VoiceKind};
use recado_app::{AppError, AppState};
use recado_store::channel_health::ChannelHealth;
use recado_store::channels::ChannelRecord;
use serde::Deserialize;
use serde_json::Value;

/// A field of a form as the template draws it.
pub struct FormField {
    pub key: &'static str,
    pub label: &'static str,
    /// `text`, `password`, `number`, `url`, `textarea` or `select`.
    pub control: &'static str,
    pub options: Vec<Opt>,
    pub value: String,
    pub required: bool,
    pub help: &'static str,
    pub error: Option<String>,
    pub secret: bool,
}

fn form_field(f: &Field, value: String, error: Option<&AppError>, editing: bool) -> FormField {
    let control = match f.input {
        Input::Text => "text",
        Input::Secret => "password",
        Input::Number => "number",
        Input::Url => "url",
        Input::Lines | Input::PhoneNumbers => "textarea",
        Input::Choice(_) => "select",
    };
    let options = match f.input {
        Input::Choice(choices) => choices
            .iter()
            .map(|c| Opt {
                value: c.to_string(),
                label: c.to_string(),
                selected: *c == value,
            })
            .collect(),
        _ => Vec::new(),
    };
    FormField {
        key: f.key,
        label: f.label,
        control,
        options,
        value,
        // A stored secret is kept when its field is left empty on edit.
        required: f.required && !(editing && f.input == Input::Secret),
        help: f.help,
        error: error.filter(|e| field_of(e) == Some(f.key)).map(|e| e.message.clone()),
        secret: f.input == Input::Secret,
    }
}

/// The form field an error names (`config.port` → `port`).
fn field_of(e: &AppError) -> Option<&str> {
    e.field.as_deref().map(|f| f.strip_prefix("config.").unwrap_or(f))
}

/// An error that no field of the form shows is shown above the form.
fn form_error(kind: &str, e: Option<&AppError>) -> Option<String> {
    let e = e?;
    let shown = field_of(e).is_some_and(|f| f == "name" || fields(kind).iter().any(|x| x.key == f));
    (!shown).then(|| e.message.clone())
}

fn name_error(e: Option<&AppError>) -> Option<String> {
    e.filter(|e| field_of(e) == Some("name")).map(|e| e.message.clone())
}

pub struct ChannelRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub kind_label: &'static str,
    pub numbers: String,
    pub last_webhook: String,
    pub last_send: String,
    pub last_error: String,
    /// `ok`, `error`, `unreadable` or `new` (nothing happened yet).
    pub status: &'static str,
    /// SMPP only: whether this node holds the bind.
    pub bound: Option<bool>,
}

/// Numbers or senders of a channel, from its public settings.
fn numbers_of(kind: &str, config: &Value) -> String {
    let list = if kind.starts_with("whatsapp") {
        config["phone_numbers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|n| {
                        n["display_phone_number"]
                            .as_str()
                            .or(n["phone_number_id"].as_str())
                            .unwrap_or_default()
                            .to_string()
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    } else if kind.starts_with("voice") {
        let mut ids: Vec<String> = config["caller_ids"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        if let Some(default) = config["default_caller_id"].as_str() {
            match ids.iter_mut().find(|id| *id == default) {
                Some(id) => *id = format!("{default} (default)"),
                None => ids.insert(0, format!("{default} (default)")),
            }
        }
        if ids.is_empty() {
            return "no caller id (the trunk's own)".into();
        }
        return format!("caller ids: {}", ids.join(", "));
    } else {
        config["senders"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    };
    if list.is_empty() {
        "any valid sender".into()
    } else {
        list.join(", ")
    }
}

/// A channel's public settings, and the reason they cannot be read if so.
fn public_config(state: &AppState, record: &ChannelRecord) -> (Value, Option<String>) {
    let decoded = if SmsKind::parse(&record.kind).is_some() {
        decode_sms(state, record.clone()).map(|c| c.sms.public_config())
    } else if VoiceKind::parse(&record.kind).is_some() {
        decode_voice(state, record.clone()).map(|c| c.voice.public_config())
    } else {
        decode(state, record.clone()).map(|c| c.whatsapp.public_config())
    };
    match decoded {
        Ok(config) => (config, None),
        Err(e) => (
            serde_json::from_str(&record.config).unwrap_or(Value::Null),
            Some(e.message),
        ),
    }
}

async fn row(state: &AppState, record: &ChannelRecord, h: Option<&ChannelHealth>, tz: &chrono_tz::Tz) -> ChannelRow {
    let (config, unreadable) = public_config(state, record);
    let when = |t: Option<i64>| t.map_or_else(|| "never".to_string(), |t| local_time(t, tz));
    let bound = if record.kind == "sms_smpp" {
        Some(state.smpp.holds(&record.id).await)
    } else {
        None
    };
    let status = match (&unreadable, h) {
        (Some(_), _) => "unreadable",
        (None, Some(h)) if in_error(h) => "error",
        (None, Some(h)) if h.last_send_at.is_some() || h.last_webhook_at.is_some() => "ok",
        _ => "new",
    };
    ChannelRow {
        id: record.id.clone(),
        name: record.name.clone(),
        kind: record.kind.clone(),
        kind_label: kind_label(&record.kind),
        numbers: numbers_of(&record.kind, &config),
        last_webhook: when(h.and_then(|h| h.last_webhook_at)),
        last_send: when(h.and_then(|h| h.last_send_at)),
        last_error: match (unreadable, h) {
            (Some(reason), _) => format!("settings unreadable: {reason}"),
            (
                None,
                Some(ChannelHealth {
                    last_error_at: Some(at),
                    last_error_code,
                    last_error_message,
                    ..
                }),
            ) => format!(
                "{} · {}: {}",
                local_time(*at, tz),
                last_error_code.as_deref().unwrap_or_default(),
                last_error_message.as_deref().unwrap_or_default()
            ),
            _ => "none".into(),
        },
        status,
        bound,
    }
}

#[derive(Template)]
#[template(path = "settings_channels.html")]
struct ListPage {
    chrome: Chrome,
    nav: SettingsNav,
    rows: Vec<ChannelRow>,
    kinds: &'static [(&'static str, &'static str, &'static str)],
    notice: Notice,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    deleted: Option<String>,
}

/// `GET /settings/channels`.
pub async fn list(State(state): State<AppState>, Admin(user): Admin, Query(q): Query<ListQuery>) -> UiResult<Response> {
    let ws = user.workspace_id();
    let tz = timezone(&state, ws).await?;
    let healths = health::of_workspace(&state, ws).await?;
    let mut rows = Vec::new();
    for record in state.store.channels(ws, None).await? {
        rows.push(row(&state, &record, healths.get(&record.id), &tz).await);
    }
    html(ListPage {
        chrome: Chrome::build(&state, &user, "Channels", "").await?,
        nav: SettingsNav::new("channels"),
        rows,
        kinds: KINDS,
        notice: q
            .deleted
            .map(|name| (false, format!("Channel {name} removed. Its messages stay."))),
    })
}

#[derive(Template)]
#[template(path = "settings_channel_new.html")]
struct NewPage {
    chrome: Chrome,
    nav: SettingsNav,
    kind: String,
    kind_label: &'static str,
    name: String,
    name_error: Option<String>,
    fields: Vec<FormField>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    kind: String,
}

fn new_form(kind: &str, posted: &[(String, String)], error: Option<&AppError>) -> (Vec<FormField>, Option<String>) {
    let fields = fields(kind)
        .iter()
        .map(|f| {
            let value = match f.input {
                Input::Secret => String::new(),
                _ => posted
                    .iter()
                    .find(|(k, _)| k == f.key)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| default_value(f)),
            };
            form_field(f, value, error, false)
        })
        .collect();
    (fields, form_error(kind, error))
}

/// What a new form starts with: a fresh verify token to paste into Meta's
/// console, the first choice of a list, nothing otherwise.
fn default_value(f: &Field) -> String {
    match (f.key, f.input) {
        ("verify_token", _) => crate::ui::session::random_token(),
        (_, Input::Choice(choices)) => choices.first().map(|c| c.to_string()).unwrap_or_default(),
        _ => String::new(),
    }
}

/// `GET /settings/channels/new?kind=`: the connect form of a kind (the
/// list of kinds when none or an unknown one is asked).
pub async fn new_page(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<NewQuery>,
) -> UiResult<Response> {
    if fields(&q.kind).is_empty() {
        return Ok(Redirect::to("/settings/channels#connect").into_response());
    }
    let (fields, error) = new_form(&q.kind, &[], None);
    html(NewPage {
        chrome: Chrome::build(&state, &user, "Connect a channel", "").await?,
        nav: SettingsNav::new("channels"),
        kind_label: kind_label(&q.kind),
        kind: q.kind,
        name: String::new(),
        name_error: None,
        fields,
        error,
    })
}

#[derive(Deserialize)]
pub struct ChannelForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

/// `POST /settings/channels/new`: connects the channel; on success shows
/// its page with the webhook URL and the verify token to paste into the
/// provider's console, otherwise the form again with each error next to
/// its field (secrets are typed again: they are never sent back).
pub async fn create(State(state): State<AppState>, posted: Posted<ChannelForm>) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    let ws = posted.user.workspace_id().to_string();
    let kind = posted.form.kind.clone();
    let config = config_of(&kind, &posted.fields, false);
    match admin::create(&state, &ws, &kind, &posted.form.name, &config).await {
        Ok(connected) => {
            let (record, verify_token) = match connected {
                Connected::WhatsApp(c) => {
                    let token = (c.record.kind != "whatsapp_sandbox").then(|| c.whatsapp.verify_token.clone());
                    (c.record, token)
                }
                Connected::Sms(c) => (c.record, None),
                Connected::Voice(c) => (c.record, None),
            };
            let extras = Extras {
                connected: Some(Connection { verify_token }),
                ..Extras::default()
            };
            channel_page(&state, &posted.user, &record.id, extras).await
        }
        Err(e) if !e.is_internal() => {
            if fields(&kind).is_empty() {
                return Ok(Redirect::to("/settings/channels#connect").into_response());
            }
            let (fields, error) = new_form(&kind, &posted.fields, Some(&e));
            let page = NewPage {
                chrome: Chrome::build(&state, &posted.user, "Connect a channel", "").await?,
                nav: SettingsNav::new("channels"),
                kind_label: kind_label(&kind),
                kind,
                name: posted.form.name.clone(),
                name_error: name_error(Some(&e)),
                fields,
                error,
            };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html(page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Shown once, right after connecting.
pub struct Connection {
    pub verify_token: Option<String>,
}

#[derive(Template)]
#[template(path = "settings_channel.html")]
struct ChannelPage {
    chrome: Chrome,
    nav: SettingsNav,
    channel: ChannelRow,
    webhook_url: Option<String>,
    is_sms: bool,
    is_voice: bool,
    connected: Option<Connection>,
    checked: Option<Checked>,
    name: String,
    name_error: Option<String>,
    fields: Vec<FormField>,
    error: Option<String>,
    saved: bool,
}

/// What a channel's page shows besides the channel.
#[derive(Default)]
struct Extras<'a> {
    connected: Option<Connection>,
    checked: Option<Checked>,
    /// A refused edit to show again, with the fields as posted.
    edit: Option<(&'a [(String, String)], &'a AppError)>,
    saved: bool,
}

async fn channel_page(state: &AppState, user: &WebUser, id: &str, extras: Extras<'_>) -> UiResult<Response> {
    let Extras {
        connected,
        checked,
        edit,
        saved,
    } = extras;
    let ws = user.workspace_id();
    let record = stored(state, ws, id).await?;
    let tz = timezone(state, ws).await?;
    let healths = health::of_workspace(state, ws).await?;
    let channel = row(state, &record, healths.get(&record.id), &tz).await;
    let (config, _) = public_config(state, &record);
    let error = edit.map(|(_, e)| e);
    let fields = fields(&record.kind)
        .iter()
        .map(|f| {
            let value = match (edit, f.input) {
                (_, Input::Secret) => String::new(),
                (Some((posted, _)), _) => posted
                    .iter()
                    .find(|(k, _)| k == f.key)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                (None, _) => shown_value(f, &config),
            };
            form_field(f, value, error, true)
        })
        .collect();
    let name = match edit {
        Some((posted, _)) => posted
            .iter()
            .find(|(k, _)| k == "name")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        None => record.name.clone(),
    };
    let status = if edit.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let page = ChannelPage {
        chrome: Chrome::build(state, user, &record.name, "").await?,
        nav: SettingsNav::new("channels"),
        webhook_url: webhook_url(&state.settings.public_url, &record.kind, &record.id),
        is_sms: SmsKind::parse(&record.kind).is_some(),
        is_voice: VoiceKind::parse(&record.kind).is_some(),
        error: form_error(&record.kind, error),
        name_error: name_error(error),
        channel,
        connected,
        checked,
        name,
        fields,
        saved,
    };
    Ok((status, html(page)?).into_response())
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    saved: Option<String>,
}

/// `GET /settings/channels/{id}`.
pub async fn page(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> UiResult<Response> {
    let extras = Extras {
        saved: q.saved.is_some(),
        ..Extras::default()
    };
    channel_page(&state, &user, &id, extras).await
}

/// `POST /settings/channels/{id}`: saves the edit form; empty secret fields
/// keep the stored secret.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<ChannelForm>,
) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    let ws = posted.user.workspace_id().to_string();
    let record = stored(&state, &ws, &id).await?;
    let config = config_of(&record.kind, &posted.fields, true);
    match admin::update(&state, &ws, &id, Some(&posted.form.name), config).await {
        Ok(_) => Ok(Redirect::to(&format!("/settings/channels/{}?saved=1", urlencode(&id))).into_response()),
        Err(e) if !e.is_internal() => {
            let extras = Extras {
                edit: Some((&posted.fields, &e)),
                ..Extras::default()
            };
            channel_page(&state, &posted.user, &id, extras).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct TestForm {
    #[serde(default)]
    to: String,
}

/// `POST /settings/channels/{id}/test`: runs the kind's check (and sends a
/// test SMS when a number is given) and shows the provider's answer.
pub async fn test(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<TestForm>,
) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    let ws = posted.user.workspace_id();
    let to = Some(posted.form.to.as_str()).filter(|t| !t.trim().is_empty());
    let record = stored(&state, ws, &id).await?;
    let checked = if VoiceKind::parse(&record.kind).is_some() {
        super::voice_check::test(&state, record).await
    } else {
        check::test(&state, ws, &id, to).await?
    };
    let extras = Extras {
        checked: Some(checked),
        ..Extras::default()
    };
    channel_page(&state, &posted.user, &id, extras).await
}

#[derive(Template)]
#[template(path = "settings_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    nav: SettingsNav,
    title: String,
    question: String,
    consequence: String,
    action: String,
    button: String,
    back: String,
}

/// `GET /settings/channels/{id}/delete`: asks before removing.
pub async fn confirm_delete(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<String>,
) -> UiResult<Response> {
    let record = stored(&state, user.workspace_id(), &id).await?;
    html(ConfirmPage {
        chrome: Chrome::build(&state, &user, "Remove a channel", "").await?,
        nav: SettingsNav::new("channels"),
        title: "Remove a channel".into(),
        question: format!("Remove the channel {} ({})?", record.name, kind_label(&record.kind)),
        consequence: "Nothing more is sent or received through it. Its messages, conversations and statistics stay."
            .into(),
        action: format!("/settings/channels/{}/delete", urlencode(&id)),
        button: "Remove the channel".into(),
        back: format!("/settings/channels/{}", urlencode(&id)),
    })
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /settings/channels/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Empty>,
) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    let ws = posted.user.workspace_id();
    let record = stored(&state, ws, &id).await?;
    admin::delete(&state, ws, &id).await?;
    Ok(Redirect::to(&format!("/settings/channels?deleted={}", urlencode(&record.name))).into_response())
}
