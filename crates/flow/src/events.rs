//! The names of the events that happen to an outbound message, per channel.
//!
//! Delivery events come from core's [`timeline_kind`] so a workflow waits for
//! exactly the names the timeline records. The engagement events (a click, a
//! reply, an opt-out) are added here: they are about a message, but no
//! delivery status produces them. `WHATSAPP_REPLIED` is the workflow's name
//! for an inbound WhatsApp message answering a send (SPEC §7 "replied").

use recado_core::consent::Channel;
use recado_core::delivery::{timeline_kind, OutboundStatus};

const SMS_ENGAGEMENT: [&str; 3] = ["SMS_CLICKED", "SMS_RESPONSE", "SMS_UNSUBSCRIBED"];
const WHATSAPP_ENGAGEMENT: [&str; 1] = ["WHATSAPP_REPLIED"];
const VOICE_ENGAGEMENT: [&str; 14] = [
    "VOICE_KEY_PRESSED",
    "VOICE_UNSUBSCRIBED",
    "VOICE_KEY_PRESSED:0",
    "VOICE_KEY_PRESSED:1",
    "VOICE_KEY_PRESSED:2",
    "VOICE_KEY_PRESSED:3",
    "VOICE_KEY_PRESSED:4",
    "VOICE_KEY_PRESSED:5",
    "VOICE_KEY_PRESSED:6",
    "VOICE_KEY_PRESSED:7",
    "VOICE_KEY_PRESSED:8",
    "VOICE_KEY_PRESSED:9",
    "VOICE_KEY_PRESSED:*",
    "VOICE_KEY_PRESSED:#",
];

/// The name a wait uses for one key of an IVR call (`VOICE_KEY_PRESSED:2`),
/// so a workflow branches on which key was pressed; the plain
/// `VOICE_KEY_PRESSED` stands for any key.
pub fn key_pressed_event(key: &str) -> String {
    format!("VOICE_KEY_PRESSED:{key}")
}

/// The event recorded on the timeline for a name a wait may use: a key's
/// name is recorded as `VOICE_KEY_PRESSED`.
pub fn recorded_name(event: &str) -> &str {
    event.split_once(':').map_or(event, |(name, _)| name)
}

/// Every event name a message on `channel` can produce, without repeats.
pub fn message_events(channel: Channel) -> Vec<&'static str> {
    let engagement: &[&str] = match channel {
        Channel::Sms => &SMS_ENGAGEMENT,
        Channel::Whatsapp => &WHATSAPP_ENGAGEMENT,
        Channel::Voice => &VOICE_ENGAGEMENT,
    };
    let mut names: Vec<&'static str> = Vec::new();
    let delivery = OutboundStatus::ALL.into_iter().map(|s| timeline_kind(channel, s));
    for name in delivery.chain(engagement.iter().copied()) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Events about a contact rather than one outbound message; they can enrol
/// a contact (event triggers) but no send produces them. `PROPERTY_CHANGED`
/// is on the timeline with the names of the changed properties;
/// `CONTACT_CREATED` only reaches triggers.
pub const CONTACT_EVENTS: [&str; 5] = [
    "WHATSAPP_RECEIVED",
    "SMS_RESPONSE",
    "SUBSCRIPTION_CHANGED",
    "PROPERTY_CHANGED",
    "CONTACT_CREATED",
];

/// Inbound messages: the events a keyword trigger may name.
pub const INBOUND_EVENTS: [&str; 2] = ["SMS_RESPONSE", "WHATSAPP_RECEIVED"];

/// The events whose happening may change whether a contact is in a
/// segment besides those its condition names: a new contact, a property
/// change, a subscription change.
pub const MEMBERSHIP_EVENTS: [&str; 3] = ["CONTACT_CREATED", "PROPERTY_CHANGED", "SUBSCRIPTION_CHANGED"];

/// Whether an event trigger may name `event`.
pub fn is_trigger_event(event: &str) -> bool {
    CONTACT_EVENTS.contains(&event) || (channel_of_event(event).is_some() && recorded_name(event) == event)
}

/// The channel whose messages produce `event`, or None for an unknown name.
pub fn channel_of_event(event: &str) -> Option<Channel> {
    Channel::ALL
        .into_iter()
        .find(|channel| message_events(*channel).contains(&event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_events_include_core_delivery_names_and_engagement() {
        let sms = message_events(Channel::Sms);
        for name in [
            "SMS_SENT",
            "SMS_DELIVERED",
            "SMS_NOT_DELIVERED",
            "SMS_NOT_SENT",
            "SMS_CLICKED",
            "SMS_RESPONSE",
        ] {
            assert!(sms.contains(&name), "{name}");
        }
        assert!(!sms.contains(&"WHATSAPP_READ"));
    }

    #[test]
    fn whatsapp_events_include_read_and_replied() {
        let whatsapp = message_events(Channel::Whatsapp);
        for name in [
            "WHATSAPP_SENT",
            "WHATSAPP_DELIVERED",
            "WHATSAPP_READ",
            "WHATSAPP_FAILED",
            "WHATSAPP_REPLIED",
        ] {
            assert!(whatsapp.contains(&name), "{name}");
        }
    }

    #[test]
    fn each_event_name_belongs_to_one_channel() {
        assert_eq!(channel_of_event("SMS_CLICKED"), Some(Channel::Sms));
        assert_eq!(channel_of_event("WHATSAPP_READ"), Some(Channel::Whatsapp));
        assert_eq!(channel_of_event("VOICE_KEY_PRESSED"), Some(Channel::Voice));
        assert_eq!(channel_of_event("SMS_READ"), None);
        assert_eq!(channel_of_event("sms_clicked"), None);
    }

    #[test]
    fn a_wait_may_name_the_key_of_an_ivr_call() {
        let voice = message_events(Channel::Voice);
        assert!(voice.contains(&"VOICE_KEY_PRESSED:2"));
        assert!(voice.contains(&"VOICE_KEY_PRESSED"));
        assert_eq!(recorded_name("VOICE_KEY_PRESSED:2"), "VOICE_KEY_PRESSED");
        assert_eq!(key_pressed_event("2"), "VOICE_KEY_PRESSED:2");
        assert!(!is_trigger_event("VOICE_KEY_PRESSED:2"));
        assert!(is_trigger_event("VOICE_KEY_PRESSED"));
    }

    #[test]
    fn triggers_accept_message_and_contact_events_only() {
        assert!(is_trigger_event("SMS_CLICKED"));
        assert!(is_trigger_event("WHATSAPP_RECEIVED"));
        assert!(is_trigger_event("CONTACT_CREATED"));
        assert!(is_trigger_event("PROPERTY_CHANGED"));
        assert!(!is_trigger_event("WORKFLOW_ENROLLED"));
        assert!(!is_trigger_event("sms_clicked"));
    }

    #[test]
    fn no_channel_lists_an_event_twice() {
        for channel in Channel::ALL {
            let names = message_events(channel);
            let mut unique = names.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), names.len(), "{channel}");
        }
    }
}
