//! Campaigns (SPEC §7): every send belongs to one, and a campaign is judged
//! by its counters. This module holds the rules: the default name of a send
//! without one, what each recorded event adds to its campaign's counters,
//! and how counters become statistics with rates.
//!
//! Counters are kept per hour as they happen (the store adds them in the
//! transaction that records each event), never computed by scanning
//! messages: a campaign page costs the same at ten messages and at ten
//! million.

use crate::consent::Channel;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the sends of a campaign come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Api,
    Workflow,
    Broadcast,
    /// Sends from a contact's page.
    Crm,
    Ivr,
    /// Replies written by agents in the inbox.
    Inbox,
    /// Messages the hub sends on its own (keyword confirmations).
    System,
}

impl Source {
    pub const ALL: [Source; 7] = [
        Source::Api,
        Source::Workflow,
        Source::Broadcast,
        Source::Crm,
        Source::Ivr,
        Source::Inbox,
        Source::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Workflow => "workflow",
            Source::Broadcast => "broadcast",
            Source::Crm => "crm",
            Source::Ivr => "ivr",
            Source::Inbox => "inbox",
            Source::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl TryFrom<String> for Source {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Source::parse(&s).ok_or_else(|| format!("unknown campaign source `{s}`"))
    }
}

/// `{SOURCE}_{CHANNEL}_{YEAR}_{MONTH}`: the campaign of a send that names
/// none (`API_SMS_2026_11`, `WORKFLOW_WHATSAPP_2026_11`, `CRM_VOICE_2026_11`).
pub fn default_name(source: Source, channel: Channel, now: DateTime<Utc>) -> String {
    format!(
        "{}_{}_{}_{:02}",
        source.as_str().to_ascii_uppercase(),
        channel.as_str().to_ascii_uppercase(),
        now.year(),
        now.month()
    )
}

/// Longest campaign name accepted.
pub const NAME_MAX_CHARS: usize = 200;

/// A campaign name as given, trimmed; None when blank or too long.
pub fn clean_name(name: &str) -> Option<String> {
    let name = name.trim();
    (!name.is_empty() && name.chars().count() <= NAME_MAX_CHARS && !name.chars().any(char::is_control))
        .then(|| name.to_string())
}

/// One counter of a campaign. Stored as its [`Counter::key`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Counter {
    /// A message of the campaign was created (queued or refused).
    Recipients,
    Sent,
    /// Refused before reaching the provider, by reason.
    NotSent(String),
    Delivered,
    /// Reported undelivered by the provider, by its error code.
    NotDelivered(String),
    /// Every click on a short link of the campaign.
    Clicked,
    /// Recipients who clicked at least once.
    ClickedUnique,
    /// Recipients who replied.
    Replied,
    /// Recipients who opted out from a message of the campaign.
    Unsubscribed,
    /// SMS parts sent (each billed).
    Parts,
    /// WhatsApp conversations counted against the monthly quota.
    Conversations,
    CallsAnswered,
    /// IVR key presses, by key.
    Key(char),
}

const NOT_SENT: &str = "not_sent:";
const NOT_DELIVERED: &str = "not_delivered:";
const KEY: &str = "key:";

impl Counter {
    pub fn key(&self) -> String {
        match self {
            Counter::Recipients => "recipients".into(),
            Counter::Sent => "sent".into(),
            Counter::NotSent(reason) => format!("{NOT_SENT}{reason}"),
            Counter::Delivered => "delivered".into(),
            Counter::NotDelivered(code) => format!("{NOT_DELIVERED}{code}"),
            Counter::Clicked => "clicked".into(),
            Counter::ClickedUnique => "clicked_unique".into(),
            Counter::Replied => "replied".into(),
            Counter::Unsubscribed => "unsubscribed".into(),
            Counter::Parts => "parts".into(),
            Counter::Conversations => "conversations".into(),
            Counter::CallsAnswered => "calls_answered".into(),
            Counter::Key(k) => format!("{KEY}{k}"),
        }
    }

    pub fn parse(key: &str) -> Option<Counter> {
        if let Some(reason) = key.strip_prefix(NOT_SENT) {
            return Some(Counter::NotSent(reason.to_string()));
        }
        if let Some(code) = key.strip_prefix(NOT_DELIVERED) {
            return Some(Counter::NotDelivered(code.to_string()));
        }
        if let Some(k) = key.strip_prefix(KEY) {
            let mut chars = k.chars();
            return match (chars.next(), chars.next()) {
                (Some(d), None) if d.is_ascii_digit() => Some(Counter::Key(d)),
                _ => None,
            };
        }
        Some(match key {
            "recipients" => Counter::Recipients,
            "sent" => Counter::Sent,
            "delivered" => Counter::Delivered,
            "clicked" => Counter::Clicked,
            "clicked_unique" => Counter::ClickedUnique,
            "replied" => Counter::Replied,
            "unsubscribed" => Counter::Unsubscribed,
            "parts" => Counter::Parts,
            "conversations" => Counter::Conversations,
            "calls_answered" => Counter::CallsAnswered,
            _ => return None,
        })
    }
}

/// A moment in a recipient's life in the campaign, stamped once on its
/// message (`sent_at`, `clicked_at`, …). Its first occurrence is what the
/// unique counters count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Milestone {
    Sent,
    Delivered,
    Clicked,
    Replied,
    Unsubscribed,
}

impl Milestone {
    pub const ALL: [Milestone; 5] = [
        Milestone::Sent,
        Milestone::Delivered,
        Milestone::Clicked,
        Milestone::Replied,
        Milestone::Unsubscribed,
    ];

    /// The message column that holds it.
    pub fn column(self) -> &'static str {
        match self {
            Milestone::Sent => "sent_at",
            Milestone::Delivered => "delivered_at",
            Milestone::Clicked => "clicked_at",
            Milestone::Replied => "replied_at",
            Milestone::Unsubscribed => "unsubscribed_at",
        }
    }
}

/// What the event's message says about itself, for the counters that
/// depend on it.
#[derive(Clone, Copy, Debug, Default)]
pub struct MessageFacts<'a> {
    /// SMS parts.
    pub segments: Option<i64>,
    /// The error code recorded on the message.
    pub error_code: Option<&'a str>,
}

/// What one recorded event does to its campaign.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effect {
    /// Added every time.
    pub counters: Vec<(Counter, i64)>,
    /// Stamped on the message when not stamped yet.
    pub milestone: Option<Milestone>,
    /// Added only when this event stamped the milestone (the recipient's
    /// first click, first reply, first opt-out).
    pub first_time: Vec<Counter>,
}

impl Effect {
    pub fn is_empty(&self) -> bool {
        self.counters.is_empty() && self.milestone.is_none()
    }
}

/// What an event of `kind` about a campaign's outbound message adds to the
/// campaign. Events that say nothing a campaign counts (queued, read,
/// uncertain, workflow and contact events) have no effect.
pub fn effect_of(kind: &str, details: &serde_json::Value, message: MessageFacts<'_>) -> Effect {
    let (channel, event) = match kind.split_once('_') {
        Some((channel @ ("SMS" | "WHATSAPP" | "VOICE"), event)) => (channel, event),
        _ => return Effect::default(),
    };
    let text = |field: &str| details.get(field).and_then(serde_json::Value::as_str);
    match event {
        "SENT" => Effect {
            counters: match (channel, message.segments) {
                ("SMS", Some(parts)) if parts > 0 => vec![(Counter::Sent, 1), (Counter::Parts, parts)],
                _ => vec![(Counter::Sent, 1)],
            },
            milestone: Some(Milestone::Sent),
            first_time: vec![],
        },
        "NOT_SENT" => {
            let reason = text("reason").or(message.error_code).unwrap_or("unknown");
            Effect {
                counters: vec![(Counter::NotSent(reason.to_string()), 1)],
                ..Effect::default()
            }
        }
        "DELIVERED" => Effect {
            counters: if channel == "VOICE" {
                vec![(Counter::Delivered, 1), (Counter::CallsAnswered, 1)]
            } else {
                vec![(Counter::Delivered, 1)]
            },
            milestone: Some(Milestone::Delivered),
            first_time: vec![],
        },
        "NOT_DELIVERED" | "FAILED" => {
            let code = text("error_code")
                .or_else(|| text("error"))
                .or_else(|| text("code"))
                .or_else(|| text("reason"))
                .or(message.error_code)
                .unwrap_or("unknown");
            Effect {
                counters: vec![(Counter::NotDelivered(code.to_string()), 1)],
                ..Effect::default()
            }
        }
        "CLICKED" => Effect {
            counters: vec![(Counter::Clicked, 1)],
            milestone: Some(Milestone::Clicked),
            first_time: vec![Counter::ClickedUnique],
        },
        "RESPONSE" | "REPLIED" | "RECEIVED" => Effect {
            counters: vec![],
            milestone: Some(Milestone::Replied),
            first_time: vec![Counter::Replied],
        },
        "UNSUBSCRIBED" => Effect {
            counters: vec![],
            milestone: Some(Milestone::Unsubscribed),
            first_time: vec![Counter::Unsubscribed],
        },
        "KEY_PRESSED" => match text("key").map(|k| k.chars().collect::<Vec<_>>()).as_deref() {
            Some([k]) if k.is_ascii_digit() => Effect {
                counters: vec![(Counter::Key(*k), 1)],
                ..Effect::default()
            },
            _ => Effect::default(),
        },
        _ => Effect::default(),
    }
}

/// How long after a campaign message an inbound message from the same
/// contact on the same thread still counts as a reply to it.
pub const REPLY_WINDOW_MS: i64 = 7 * 24 * 3_600_000;

const HOUR_MS: i64 = 3_600_000;

/// The start of the hour `at` (ms) falls in: the bucket counters are kept by.
pub fn hour_of(at: i64) -> i64 {
    at - at.rem_euclid(HOUR_MS)
}

/// The size of a time-series bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Hour,
    Day,
}

/// The start of the bucket an hour belongs to: the hour itself, or midnight
/// of its day in the workspace's time zone.
pub fn bucket_of(hour: i64, bucket: Bucket, tz: chrono_tz::Tz) -> i64 {
    match bucket {
        Bucket::Hour => hour,
        Bucket::Day => {
            let Some(local) = tz.timestamp_millis_opt(hour).single() else {
                return hour;
            };
            let midnight = local.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
            tz.from_local_datetime(&midnight)
                .earliest()
                .map_or(hour, |t| t.timestamp_millis())
        }
    }
}

/// A campaign's statistics: its counters added up, with rates.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub recipients: i64,
    pub sent: i64,
    pub not_sent: i64,
    pub delivered: i64,
    pub not_delivered: i64,
    pub clicked: i64,
    pub clicked_unique: i64,
    pub replied: i64,
    pub unsubscribed: i64,
    pub parts: i64,
    pub conversations: i64,
    pub calls_answered: i64,
    pub keys: BTreeMap<String, i64>,
    pub not_sent_by_reason: BTreeMap<String, i64>,
    pub not_delivered_by_code: BTreeMap<String, i64>,
    pub rates: Rates,
}

/// Each rate names its denominator; None when the denominator is 0.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Rates {
    /// delivered / sent
    pub delivery: Option<f64>,
    /// clicked_unique / delivered
    pub click: Option<f64>,
    /// replied / delivered
    pub reply: Option<f64>,
    /// unsubscribed / delivered
    pub unsubscribe: Option<f64>,
}

fn rate(part: i64, whole: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)] // counts stay far below 2^52
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl Stats {
    /// Adds `n` to the counter stored under `key` (unknown keys are ignored:
    /// a newer node may count more than this one knows).
    pub fn add(&mut self, key: &str, n: i64) {
        let Some(counter) = Counter::parse(key) else {
            return;
        };
        match counter {
            Counter::Recipients => self.recipients += n,
            Counter::Sent => self.sent += n,
            Counter::NotSent(reason) => {
                self.not_sent += n;
                *self.not_sent_by_reason.entry(reason).or_default() += n;
            }
            Counter::Delivered => self.delivered += n,
            Counter::NotDelivered(code) => {
                self.not_delivered += n;
                *self.not_delivered_by_code.entry(code).or_default() += n;
            }
            Counter::Clicked => self.clicked += n,
            Counter::ClickedUnique => self.clicked_unique += n,
            Counter::Replied => self.replied += n,
            Counter::Unsubscribed => self.unsubscribed += n,
            Counter::Parts => self.parts += n,
            Counter::Conversations => self.conversations += n,
            Counter::CallsAnswered => self.calls_answered += n,
            Counter::Key(k) => *self.keys.entry(k.to_string()).or_default() += n,
        }
        self.rates = Rates {
            delivery: rate(self.delivered, self.sent),
            click: rate(self.clicked_unique, self.delivered),
            reply: rate(self.replied, self.delivered),
            unsubscribe: rate(self.unsubscribed, self.delivered),
        };
    }

    /// Statistics of stored counters `(key, n)`.
    pub fn of<'a>(counters: impl IntoIterator<Item = (&'a str, i64)>) -> Stats {
        let mut stats = Stats::default();
        for (key, n) in counters {
            stats.add(key, n);
        }
        stats
    }
}

/// One bucket of a campaign's time series.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Point {
    pub sent: i64,
    pub delivered: i64,
    pub not_delivered: i64,
    pub clicked: i64,
    pub replied: i64,
    pub unsubscribed: i64,
}

impl Point {
    pub fn add(&mut self, key: &str, n: i64) {
        match Counter::parse(key) {
            Some(Counter::Sent) => self.sent += n,
            Some(Counter::Delivered) => self.delivered += n,
            Some(Counter::NotDelivered(_)) => self.not_delivered += n,
            Some(Counter::Clicked) => self.clicked += n,
            Some(Counter::Replied) => self.replied += n,
            Some(Counter::Unsubscribed) => self.unsubscribed += n,
            _ => {}
        }
    }
}

/// Hourly counters `(hour, key, n)` as a series of buckets, oldest first.
pub fn series(
    rows: impl IntoIterator<Item = (i64, String, i64)>,
    bucket: Bucket,
    tz: chrono_tz::Tz,
) -> Vec<(i64, Point)> {
    let mut points: BTreeMap<i64, Point> = BTreeMap::new();
    for (hour, key, n) in rows {
        points.entry(bucket_of(hour, bucket, tz)).or_default().add(&key, n);
    }
    points.into_iter().collect()
}

/// A recipient's state in a campaign, from its message's status and
/// milestones: the furthest it got.
pub fn recipient_state(status: &str, clicked: bool, replied: bool, unsubscribed: bool) -> &'static str {
    if unsubscribed {
        return "unsubscribed";
    }
    if replied {
        return "replied";
    }
    if clicked {
        return "clicked";
    }
    match status {
        "queued" => "queued",
        "sent" => "sent",
        "delivered" | "read" => "delivered",
        "not_delivered" | "failed" => "not_delivered",
        "not_sent" => "not_sent",
        "uncertain" => "uncertain",
        _ => "queued",
    }
}

/// The states a recipients list can be filtered by.
pub const RECIPIENT_STATES: [&str; 9] = [
    "queued",
    "sent",
    "delivered",
    "not_delivered",
    "not_sent",
    "uncertain",
    "clicked",
    "replied",
    "unsubscribed",
];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;
    use serde_json::json;

    fn facts() -> MessageFacts<'static> {
        MessageFacts {
            segments: Some(2),
            error_code: Some("30003"),
        }
    }

    #[test]
    fn the_default_name_is_source_channel_year_and_month() {
        let at = Utc.with_ymd_and_hms(2026, 3, 9, 12, 0, 0).unwrap();
        assert_eq!(default_name(Source::Api, Channel::Sms, at), "API_SMS_2026_03");
        assert_eq!(
            default_name(Source::Workflow, Channel::Whatsapp, at),
            "WORKFLOW_WHATSAPP_2026_03"
        );
        assert_eq!(default_name(Source::Crm, Channel::Voice, at), "CRM_VOICE_2026_03");
    }

    #[test]
    fn a_name_is_trimmed_and_refused_when_blank_too_long_or_with_control_characters() {
        assert_eq!(clean_name("  Black Friday "), Some("Black Friday".into()));
        assert_eq!(clean_name("   "), None);
        assert_eq!(clean_name(&"x".repeat(NAME_MAX_CHARS + 1)), None);
        assert_eq!(clean_name("a\u{0}b"), None);
    }

    #[test]
    fn an_sms_sent_counts_as_sent_with_its_parts_and_stamps_sent() {
        let e = effect_of("SMS_SENT", &json!({}), facts());
        assert_eq!(e.counters, vec![(Counter::Sent, 1), (Counter::Parts, 2)]);
        assert_eq!(e.milestone, Some(Milestone::Sent));
    }

    #[test]
    fn a_whatsapp_send_counts_no_parts() {
        let e = effect_of("WHATSAPP_SENT", &json!({}), facts());
        assert_eq!(e.counters, vec![(Counter::Sent, 1)]);
    }

    #[test]
    fn not_sent_counts_by_the_reason_of_the_event_then_of_the_message() {
        let e = effect_of("SMS_NOT_SENT", &json!({"reason": "not_subscribed"}), facts());
        assert_eq!(e.counters, vec![(Counter::NotSent("not_subscribed".into()), 1)]);
        let e = effect_of("WHATSAPP_NOT_SENT", &json!({}), facts());
        assert_eq!(e.counters, vec![(Counter::NotSent("30003".into()), 1)]);
    }

    #[test]
    fn not_delivered_and_whatsapp_failures_count_by_error_code() {
        let e = effect_of("SMS_NOT_DELIVERED", &json!({"error_code": "34"}), facts());
        assert_eq!(e.counters, vec![(Counter::NotDelivered("34".into()), 1)]);
        let e = effect_of("WHATSAPP_FAILED", &json!({}), facts());
        assert_eq!(e.counters, vec![(Counter::NotDelivered("30003".into()), 1)]);
    }

    #[test]
    fn an_answered_call_counts_as_delivered_and_answered() {
        let e = effect_of("VOICE_DELIVERED", &json!({"answered_by": "human"}), facts());
        assert_eq!(e.counters, vec![(Counter::Delivered, 1), (Counter::CallsAnswered, 1)]);
    }

    #[test]
    fn every_click_counts_and_only_the_first_counts_the_recipient() {
        let e = effect_of("SMS_CLICKED", &json!({}), facts());
        assert_eq!(e.counters, vec![(Counter::Clicked, 1)]);
        assert_eq!(e.milestone, Some(Milestone::Clicked));
        assert_eq!(e.first_time, vec![Counter::ClickedUnique]);
    }

    #[test]
    fn replies_and_opt_outs_count_once_per_recipient() {
        for kind in ["SMS_RESPONSE", "WHATSAPP_RECEIVED"] {
            let e = effect_of(kind, &json!({}), facts());
            assert!(e.counters.is_empty());
            assert_eq!(
                (e.milestone, e.first_time),
                (Some(Milestone::Replied), vec![Counter::Replied])
            );
        }
        let e = effect_of("VOICE_UNSUBSCRIBED", &json!({}), facts());
        assert_eq!(
            (e.milestone, e.first_time),
            (Some(Milestone::Unsubscribed), vec![Counter::Unsubscribed])
        );
    }

    #[test]
    fn a_key_press_counts_by_key_and_a_malformed_key_counts_nothing() {
        let e = effect_of("VOICE_KEY_PRESSED", &json!({"key": "7"}), facts());
        assert_eq!(e.counters, vec![(Counter::Key('7'), 1)]);
        assert!(effect_of("VOICE_KEY_PRESSED", &json!({"key": "77"}), facts()).is_empty());
        assert!(effect_of("VOICE_KEY_PRESSED", &json!({}), facts()).is_empty());
    }

    #[test]
    fn queued_read_uncertain_and_non_message_events_count_nothing() {
        for kind in [
            "SMS_QUEUED",
            "WHATSAPP_READ",
            "SMS_UNCERTAIN",
            "WORKFLOW_ENROLLED",
            "PROPERTY_CHANGED",
        ] {
            assert!(effect_of(kind, &json!({}), facts()).is_empty(), "{kind}");
        }
    }

    #[test]
    fn a_rate_is_null_when_its_denominator_is_zero() {
        let stats = Stats::of([("recipients", 3), ("not_sent:not_subscribed", 3)]);
        assert_eq!(stats.rates, Rates::default());
        assert_eq!(stats.not_sent, 3);
    }

    #[test]
    fn rates_divide_by_their_stated_denominators() {
        let stats = Stats::of([
            ("sent", 10),
            ("delivered", 8),
            ("clicked", 9),
            ("clicked_unique", 4),
            ("replied", 2),
            ("unsubscribed", 1),
        ]);
        assert_eq!(stats.rates.delivery, Some(0.8));
        assert_eq!(stats.rates.click, Some(0.5));
        assert_eq!(stats.rates.reply, Some(0.25));
        assert_eq!(stats.rates.unsubscribe, Some(0.125));
    }

    #[test]
    fn breakdowns_add_up_to_their_totals() {
        let stats = Stats::of([("not_delivered:30003", 2), ("not_delivered:34", 1), ("key:1", 4)]);
        assert_eq!(stats.not_delivered, 3);
        assert_eq!(stats.not_delivered_by_code.values().sum::<i64>(), 3);
        assert_eq!(stats.keys.get("1"), Some(&4));
    }

    #[test]
    fn a_day_bucket_starts_at_midnight_in_the_workspace_time_zone() {
        let tz: chrono_tz::Tz = "America/Sao_Paulo".parse().unwrap();
        // 02:00 UTC on the 10th is 23:00 on the 9th in São Paulo (UTC-3).
        let hour = Utc.with_ymd_and_hms(2026, 11, 10, 2, 0, 0).unwrap().timestamp_millis();
        let midnight = Utc.with_ymd_and_hms(2026, 11, 9, 3, 0, 0).unwrap().timestamp_millis();
        assert_eq!(bucket_of(hour, Bucket::Day, tz), midnight);
        assert_eq!(bucket_of(hour, Bucket::Hour, tz), hour);
    }

    #[test]
    fn the_series_adds_hours_into_their_buckets() {
        let h = |hh| Utc.with_ymd_and_hms(2026, 11, 9, hh, 0, 0).unwrap().timestamp_millis();
        let rows = vec![
            (h(9), "sent".to_string(), 3),
            (h(10), "sent".to_string(), 2),
            (h(10), "not_delivered:34".to_string(), 1),
        ];
        let hours = series(rows.clone(), Bucket::Hour, chrono_tz::UTC);
        assert_eq!(hours.len(), 2);
        let days = series(rows, Bucket::Day, chrono_tz::UTC);
        assert_eq!(days.len(), 1);
        assert_eq!((days[0].1.sent, days[0].1.not_delivered), (5, 1));
    }

    #[test]
    fn a_recipients_state_is_the_furthest_it_got() {
        assert_eq!(recipient_state("delivered", false, false, false), "delivered");
        assert_eq!(recipient_state("read", false, false, false), "delivered");
        assert_eq!(recipient_state("delivered", true, false, false), "clicked");
        assert_eq!(recipient_state("delivered", true, true, false), "replied");
        assert_eq!(recipient_state("delivered", true, true, true), "unsubscribed");
        assert_eq!(recipient_state("failed", false, false, false), "not_delivered");
    }

    proptest! {
        #[test]
        fn every_counter_key_reads_back_as_its_counter(reason in "[a-z0-9_]{1,20}", key in 0u32..10) {
            let digit = char::from_digit(key, 10).unwrap();
            for c in [
                Counter::Recipients, Counter::Sent, Counter::NotSent(reason.clone()), Counter::Delivered,
                Counter::NotDelivered(reason.clone()), Counter::Clicked, Counter::ClickedUnique, Counter::Replied,
                Counter::Unsubscribed, Counter::Parts, Counter::Conversations, Counter::CallsAnswered, Counter::Key(digit),
            ] {
                prop_assert_eq!(Counter::parse(&c.key()), Some(c));
            }
        }

        #[test]
        fn an_hour_bucket_holds_its_time(at in 0i64..4_000_000_000_000) {
            let hour = hour_of(at);
            prop_assert!(hour <= at && at - hour < 3_600_000 && hour % 3_600_000 == 0);
        }
    }
}
