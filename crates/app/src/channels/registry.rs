use super::config::{ChannelKind, WhatsAppChannel};
use super::sms_config::{SmsChannel, SmsKind};
use super::voice_config::{VoiceChannel, VoiceKind};
use crate::error::{AppError, AppResult};
use crate::AppState;
use recado_store::channels::ChannelRecord;
use recado_store::StoreError;
use serde_json::Value;

/// A stored WhatsApp channel with its decrypted settings.
pub struct LoadedChannel {
    pub record: ChannelRecord,
    pub whatsapp: WhatsAppChannel,
}

/// A channel's public settings and its decrypted secrets.
pub fn settings_of(state: &AppState, record: &ChannelRecord) -> AppResult<(Value, Value)> {
    let config: Value = serde_json::from_str(&record.config).map_err(AppError::internal)?;
    let secrets = state.secrets.open(&record.secrets).map_err(AppError::internal)?;
    Ok((config, secrets))
}

/// A channel of the workspace, or 404.
pub async fn stored(state: &AppState, workspace_id: &str, id: &str) -> AppResult<ChannelRecord> {
    state.store.channel(workspace_id, id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("channel"),
        other => other.into(),
    })
}

pub fn decode(state: &AppState, record: ChannelRecord) -> AppResult<LoadedChannel> {
    let kind = ChannelKind::parse(&record.kind).ok_or_else(|| AppError::not_found("WhatsApp channel"))?;
    let (config, secrets) = settings_of(state, &record)?;
    let whatsapp = WhatsAppChannel::from_stored(kind, &config, &secrets)?;
    Ok(LoadedChannel { record, whatsapp })
}

pub async fn load(state: &AppState, workspace_id: &str, id: &str) -> AppResult<LoadedChannel> {
    decode(state, stored(state, workspace_id, id).await?)
}

/// A stored SMS channel with its decrypted settings.
#[derive(Clone)]
pub struct LoadedSms {
    pub record: ChannelRecord,
    pub sms: SmsChannel,
}

pub fn decode_sms(state: &AppState, record: ChannelRecord) -> AppResult<LoadedSms> {
    let kind = SmsKind::parse(&record.kind).ok_or_else(|| AppError::not_found("SMS channel"))?;
    let (config, secrets) = settings_of(state, &record)?;
    let sms = SmsChannel::from_stored(kind, &config, &secrets)?;
    Ok(LoadedSms { record, sms })
}

pub async fn load_sms(state: &AppState, workspace_id: &str, id: &str) -> AppResult<LoadedSms> {
    decode_sms(state, stored(state, workspace_id, id).await?)
}

/// A stored voice channel with its decrypted settings.
#[derive(Clone)]
pub struct LoadedVoice {
    pub record: ChannelRecord,
    pub voice: VoiceChannel,
}

pub fn decode_voice(state: &AppState, record: ChannelRecord) -> AppResult<LoadedVoice> {
    let kind = VoiceKind::parse(&record.kind).ok_or_else(|| AppError::not_found("voice channel"))?;
    let (config, secrets) = settings_of(state, &record)?;
    let voice = VoiceChannel::from_stored(kind, &config, &secrets)?;
    Ok(LoadedVoice { record, voice })
}

pub async fn load_voice(state: &AppState, workspace_id: &str, id: &str) -> AppResult<LoadedVoice> {
    decode_voice(state, stored(state, workspace_id, id).await?)
}
