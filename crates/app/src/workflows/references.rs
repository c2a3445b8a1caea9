//! What a definition names in the workspace — channels, SMS senders,
//! WhatsApp templates, segments — read before validation, since
//! `recado_flow::validate` asks synchronously through [`References`].

use crate::channels::registry::decode_sms;
use crate::{AppResult, AppState};
use recado_core::consent::Channel;
use recado_flow::definition::{NodeKind, Trigger};
use recado_flow::{Definition, References, SendAction, TemplateShape};
use recado_store::channels::ChannelRecord;
use std::collections::HashMap;

/// The workspace as the validator sees it.
pub struct Workspace {
    channels: Vec<ChannelRecord>,
    /// Per SMS channel id, each sender named and whether it may send.
    senders: HashMap<(String, String), Result<(), String>>,
    /// Per (channel id, name, language): whether the template is approved.
    templates: HashMap<(String, String, String), bool>,
    segments: HashMap<String, bool>,
}

fn kind_prefix(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "sms",
        Channel::Whatsapp => "whatsapp",
        Channel::Voice => "voice",
    }
}

impl Workspace {
    /// Reads what `def` refers to.
    pub async fn read(state: &AppState, workspace_id: &str, def: &Definition) -> AppResult<Workspace> {
        let mut ws = Workspace {
            channels: state.store.channels(workspace_id, None).await?,
            senders: HashMap::new(),
            templates: HashMap::new(),
            segments: HashMap::new(),
        };
        for node in def.nodes.values() {
            let NodeKind::Send(send) = &node.kind else { continue };
            let Ok(channel) = ws.pick(send.action.channel(), send.action.channel_id()) else {
                continue;
            };
            let channel = channel.clone();
            match &send.action {
                SendAction::Sms(m) => {
                    let allowed = match decode_sms(state, channel.clone()) {
                        Ok(sms) => sms.sms.pick_sender(Some(&m.from)).map(|_| ()).map_err(|e| e.message),
                        Err(e) => Err(e.message),
                    };
                    ws.senders.insert((channel.id.clone(), m.from.clone()), allowed);
                }
                SendAction::WhatsappTemplate(m) => {
                    let stored = state
                        .store
                        .template(&channel.id, &m.template.name, &m.template.language)
                        .await?;
                    let approved = stored.is_some_and(|t| t.status.is_sendable());
                    let key = (channel.id.clone(), m.template.name.clone(), m.template.language.clone());
                    ws.templates.insert(key, approved);
                }
                SendAction::WhatsappText(_) | SendAction::Voice(_) => {}
                SendAction::Ivr(m) => {
                    // The senders of the keys' SMS, on the workspace's SMS channel.
                    let Ok(ivr) = recado_core::voice::definition::IvrDefinition::parse(&m.ivr) else {
                        continue;
                    };
                    let Ok(sms_channel) = ws.pick(Channel::Sms, None) else {
                        continue;
                    };
                    let sms_channel = sms_channel.clone();
                    for sender in ivr.keys.values().filter_map(|k| k.sender.clone()) {
                        let allowed = match decode_sms(state, sms_channel.clone()) {
                            Ok(sms) => sms.sms.pick_sender(Some(&sender)).map(|_| ()).map_err(|e| e.message),
                            Err(e) => Err(e.message),
                        };
                        ws.senders.insert((sms_channel.id.clone(), sender), allowed);
                    }
                }
            }
        }
        let segment_ids = def.triggers.iter().filter_map(|t| match t {
            Trigger::Segment(s) => Some(s.segment_id.clone()),
            Trigger::Schedule(s) => s.segment_id.clone(),
            _ => None,
        });
        for id in segment_ids {
            let exists = state.store.segment(workspace_id, &id).await.is_ok();
            ws.segments.insert(id, exists);
        }
        Ok(ws)
    }

    fn pick(&self, channel: Channel, channel_id: Option<&str>) -> Result<&ChannelRecord, String> {
        let prefix = kind_prefix(channel);
        match channel_id {
            Some(id) => self
                .channels
                .iter()
                .find(|c| c.id == id && c.kind.starts_with(prefix))
                .ok_or_else(|| format!("no {prefix} channel `{id}` in this workspace")),
            None => {
                let mut of_kind = self.channels.iter().filter(|c| c.kind.starts_with(prefix));
                match (of_kind.next(), of_kind.next()) {
                    (Some(only), None) => Ok(only),
                    (None, _) => Err(format!("the workspace has no {prefix} channel connected")),
                    (Some(_), Some(_)) => Err(format!(
                        "the workspace has several {prefix} channels: name one with channel_id"
                    )),
                }
            }
        }
    }
}

impl References for Workspace {
    fn channel(&self, channel: Channel, channel_id: Option<&str>) -> Result<(), String> {
        self.pick(channel, channel_id).map(|_| ())
    }

    fn sender(&self, channel_id: Option<&str>, from: &str) -> Result<(), String> {
        let channel = self.pick(Channel::Sms, channel_id)?;
        self.senders
            .get(&(channel.id.clone(), from.to_string()))
            .cloned()
            .unwrap_or_else(|| Err(format!("`{from}` is not a sender of this channel")))
    }

    fn template(&self, channel_id: Option<&str>, name: &str, language: &str) -> Result<Option<TemplateShape>, String> {
        let channel = self.pick(Channel::Whatsapp, channel_id)?;
        match self
            .templates
            .get(&(channel.id.clone(), name.to_string(), language.to_string()))
        {
            Some(true) => Ok(None),
            _ => Err(format!(
                "no approved template `{name}` ({language}) on this WhatsApp account; sync the templates or pick another"
            )),
        }
    }

    fn segment(&self, segment_id: &str) -> Result<(), String> {
        match self.segments.get(segment_id) {
            Some(true) => Ok(()),
            _ => Err(format!("no segment `{segment_id}` in this workspace")),
        }
    }
}
