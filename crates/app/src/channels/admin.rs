//! Connecting, changing and removing channels: one service for the API and
//! the settings pages. Secrets are sealed before they are stored; an SMS
//! provider that keeps a connection hears of the change; a WhatsApp account
//! gets its templates (seeded for the sandbox, synced for real providers).

use super::registry::{decode_voice, settings_of, stored, LoadedChannel, LoadedSms, LoadedVoice};
use super::{decode_sms, ChannelKind, SmsChannel, SmsKind, VoiceChannel, VoiceKind, WhatsAppChannel};
use crate::{AppError, AppResult, AppState};
use recado_core::ids::{new_id, IdKind};
use recado_store::channels::{ChannelNumber, ChannelRecord};
use recado_store::StoreError;
use serde_json::{Map, Value};

/// Longest channel name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A channel as connected or changed, with its settings read back.
pub enum Connected {
    WhatsApp(LoadedChannel),
    Sms(LoadedSms),
    Voice(LoadedVoice),
}

/// Connects a channel of `kind` named `name` (422 `invalid_kind`,
/// `invalid_name` or the field a setting refuses).
pub async fn create(
    state: &AppState,
    workspace_id: &str,
    kind: &str,
    name: &str,
    config: &Map<String, Value>,
) -> AppResult<Connected> {
    let name = check_name(name)?;
    let now = state.clock.now_ms();
    let record = |kind: &str, config: Value, secrets: Value| ChannelRecord {
        id: new_id(IdKind::Channel),
        workspace_id: workspace_id.to_string(),
        kind: kind.to_string(),
        name: name.clone(),
        config: config.to_string(),
        secrets: state.secrets.seal(&secrets),
        created_at: now,
        updated_at: now,
    };
    if let Some(kind) = SmsKind::parse(kind) {
        let sms = SmsChannel::from_input(kind, config, None)?;
        let record = record(kind.as_str(), sms.public_config(), sms.secrets());
        state.store.insert_channel(&record, &[]).await?;
        state.caches.channels_changed(workspace_id);
        let loaded = LoadedSms { record, sms };
        crate::sms::providers::channel_changed(state, &loaded).await;
        return Ok(Connected::Sms(loaded));
    }
    if let Some(kind) = VoiceKind::parse(kind) {
        let voice = VoiceChannel::from_input(kind, config, None)?;
        let record = record(kind.as_str(), voice.public_config(), voice.secrets());
        state.store.insert_channel(&record, &[]).await?;
        state.caches.channels_changed(workspace_id);
        return Ok(Connected::Voice(LoadedVoice { record, voice }));
    }
    let kind = ChannelKind::parse(kind).ok_or_else(|| {
        AppError::invalid(
            "invalid_kind",
            "kind",
            format!("`{kind}` is not a channel kind this hub offers (whatsapp_cloud, whatsapp_360dialog, whatsapp_sandbox, sms_sandbox, sms_http, sms_smpp, voice_sandbox, voice_asterisk, voice_http)"),
        )
    })?;
    let whatsapp = WhatsAppChannel::from_input(kind, config, None)?;
    let record = record(kind.as_str(), whatsapp.public_config(), whatsapp.secrets());
    state
        .store
        .insert_channel(&record, &numbers(&record.id, &whatsapp))
        .await?;
    state.caches.channels_changed(workspace_id);
    let loaded = LoadedChannel { record, whatsapp };
    if kind == ChannelKind::WhatsappSandbox {
        crate::whatsapp::sandbox::seed_templates(state, &loaded).await?;
    } else {
        crate::whatsapp::templates::schedule_periodic_sync(state, workspace_id).await?;
    }
    Ok(Connected::WhatsApp(loaded))
}

/// Changes a channel's name and settings; settings not given keep their
/// value (404 for no such channel).
pub async fn update(
    state: &AppState,
    workspace_id: &str,
    id: &str,
    name: Option<&str>,
    config: Map<String, Value>,
) -> AppResult<Connected> {
    let current = stored(state, workspace_id, id).await?;
    let name = match name {
        Some(n) => check_name(n)?,
        None => current.name.clone(),
    };
    if SmsKind::parse(&current.kind).is_some() {
        let current = decode_sms(state, current)?;
        let sms = SmsChannel::from_input(current.sms.kind, &config, Some(&current.sms))?;
        let record = ChannelRecord {
            name,
            config: sms.public_config().to_string(),
            secrets: state.secrets.seal(&sms.secrets()),
            updated_at: state.clock.now_ms(),
            ..current.record
        };
        state.store.update_channel(&record, &[]).await?;
        state.channel_cache.forget(&record.id);
        state.caches.channels_changed(workspace_id);
        let loaded = LoadedSms { record, sms };
        crate::sms::providers::channel_changed(state, &loaded).await;
        return Ok(Connected::Sms(loaded));
    }
    if VoiceKind::parse(&current.kind).is_some() {
        let current = decode_voice(state, current)?;
        let voice = VoiceChannel::from_input(current.voice.kind, &config, Some(&current.voice))?;
        let record = ChannelRecord {
            name,
            config: voice.public_config().to_string(),
            secrets: state.secrets.seal(&voice.secrets()),
            updated_at: state.clock.now_ms(),
            ..current.record
        };
        state.store.update_channel(&record, &[]).await?;
        state.channel_cache.forget(&record.id);
        state.caches.channels_changed(workspace_id);
        return Ok(Connected::Voice(LoadedVoice { record, voice }));
    }
    // The update is read over the stored settings as they are, not as they
    // decode, so a channel whose stored settings became unreadable can be
    // repaired by sending the missing or wrong setting.
    let kind = ChannelKind::parse(&current.kind).ok_or_else(|| AppError::not_found("channel"))?;
    let (stored_config, secrets) = settings_of(state, &current)?;
    let mut merged = stored_config.as_object().cloned().unwrap_or_default();
    merged.extend(secrets.as_object().cloned().unwrap_or_default());
    merged.extend(config);
    let whatsapp = WhatsAppChannel::from_input(kind, &merged, None)?;
    let record = ChannelRecord {
        name,
        config: whatsapp.public_config().to_string(),
        secrets: state.secrets.seal(&whatsapp.secrets()),
        updated_at: state.clock.now_ms(),
        ..current
    };
    state
        .store
        .update_channel(&record, &numbers(&record.id, &whatsapp))
        .await?;
    state.channel_cache.forget(&record.id);
    state.caches.channels_changed(workspace_id);
    Ok(Connected::WhatsApp(LoadedChannel { record, whatsapp }))
}

/// Removes a channel (404 for no such channel). Its messages stay.
pub async fn delete(state: &AppState, workspace_id: &str, id: &str) -> AppResult<()> {
    state
        .store
        .delete_channel(workspace_id, id, state.clock.now_ms())
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("channel"),
            other => other.into(),
        })?;
    state.channel_cache.forget(id);
    state.caches.channels_changed(workspace_id);
    Ok(())
}

fn numbers(channel_id: &str, w: &WhatsAppChannel) -> Vec<ChannelNumber> {
    w.phone_numbers
        .iter()
        .map(|n| ChannelNumber {
            channel_id: channel_id.to_string(),
            phone_number_id: n.phone_number_id.clone(),
            display_phone_number: n.display_phone_number.clone(),
        })
        .collect()
}

fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid(
            "invalid_name",
            "name",
            format!("channel names are 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_string())
}
