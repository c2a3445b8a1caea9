//! Helpers shared by the integration tests.
#![allow(dead_code)]

use recado_core::consent::{Channel, SubscriptionStatus};
use recado_flow::condition::{EventQuery, Facts};
use recado_flow::Definition;
use serde_json::Value;
use std::collections::HashMap;

pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 24 * HOUR;

/// A contact described in memory.
#[derive(Default)]
pub struct Contact {
    pub properties: HashMap<String, String>,
    pub subscriptions: HashMap<Channel, SubscriptionStatus>,
    /// Events with their campaign, sender and message id.
    pub events: Vec<ContactEvent>,
}

pub struct ContactEvent {
    pub event: &'static str,
    pub campaign: &'static str,
    pub sender: &'static str,
    pub message_id: &'static str,
    pub at: i64,
}

impl Contact {
    pub fn with(mut self, key: &str, value: &str) -> Contact {
        self.properties.insert(key.into(), value.into());
        self
    }

    pub fn subscribed(mut self, channel: Channel, status: SubscriptionStatus) -> Contact {
        self.subscriptions.insert(channel, status);
        self
    }
}

impl Facts for Contact {
    fn property(&self, key: &str) -> Option<String> {
        self.properties.get(key).cloned()
    }

    fn subscription(&self, channel: Channel) -> Option<SubscriptionStatus> {
        self.subscriptions.get(&channel).copied()
    }

    fn event_times(&self, query: &EventQuery) -> Vec<i64> {
        use recado_flow::condition::EventScope;
        self.events
            .iter()
            .filter(|e| e.event == query.event)
            .filter(|e| match &query.scope {
                EventScope::Campaign(c) => e.campaign == c,
                EventScope::AnyMessage => true,
                EventScope::Send(_) => false,
            })
            .filter(|e| query.sender.as_deref().is_none_or(|s| s == e.sender))
            .filter(|e| query.message_id.as_deref().is_none_or(|m| m == e.message_id))
            .map(|e| e.at)
            .collect()
    }
}

/// Parses a definition, panicking with the problem when it does not parse.
pub fn definition(json: Value) -> Definition {
    Definition::parse(&json).unwrap_or_else(|e| panic!("definition does not parse: {e}"))
}

/// Milliseconds of an RFC 3339 time.
pub fn at(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis()
}

/// RFC 3339 (UTC) of milliseconds, for readable assertions.
pub fn rfc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The API's example workflow, complete and valid.
pub fn example_json() -> Value {
    serde_json::json!({
        "triggers": [
            {"type": "manual"},
            {"type": "event", "event": "SMS_CLICKED", "where": {"event": "SMS_CLICKED", "campaign": "BF", "op": "is_known"}},
            {"type": "segment", "segment_id": "sg_1"},
            {"type": "schedule", "at": "08:00", "days": ["mon", "tue", "wed", "thu", "fri"], "segment_id": "sg_1"},
            {"type": "webhook", "match": ["phone", "email"], "create_contact": true}
        ],
        "settings": {
            "reenrolment": "after_end",
            "exit_when": {"subscription": "sms", "op": "eq", "value": "unsubscribed"},
            "timezone": "contact"
        },
        "start": "n1",
        "nodes": {
            "n1": {"type": "send_sms", "from": "RECADO", "text": "Olá {{contact.firstname}}", "campaign": "BF",
                   "shorten_urls": true, "utm": {"source": "recado"}, "policy": "auto", "next": "n2", "on_failure": "n5"},
            "n2": {"type": "wait_event", "of": "n1", "events": ["SMS_DELIVERED", "SMS_NOT_DELIVERED"],
                   "timeout": "PT24H", "on": {"SMS_DELIVERED": "n3", "SMS_NOT_DELIVERED": "n4", "timeout": "n6"}},
            "n3": {"type": "delay", "duration": "P1D", "next": "n4"},
            "n4": {"type": "branch", "condition": {"event": "SMS_CLICKED", "of": "n1", "op": "is_known"},
                   "then": "n7", "else": "n5"},
            "n5": {"type": "send_whatsapp_template", "template": {"name": "promo", "language": "pt_BR",
                   "parameters": {"body": ["Ana"]}}, "next": "n6", "defer_on_limit": true},
            "n6": {"type": "send_whatsapp_text", "text": "Oi", "next": "n7"},
            "n7": {"type": "set_property", "property": "stage", "value": "nurtured", "next": "n8"},
            "n8": {"type": "set_subscription", "channel": "sms", "status": "subscribed", "legal_basis": "consent",
                   "explanation": "clicked", "next": "n9"},
            "n9": {"type": "end"}
        }
    })
}
