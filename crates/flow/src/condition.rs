//! The condition language shared by segments, workflow branches, event-trigger
//! filters and exit conditions (API "Segments (lists)").
//!
//! A condition is a group, `{"all": [..]}` or `{"any": [..]}`, nested freely up
//! to [`MAX_DEPTH`] groups deep, or a leaf about a contact property, a channel
//! subscription or a message event. The tree is a plain public enum so the
//! store can compile the same conditions to SQL by matching on it (see
//! [`Condition::leaves`]), while [`Condition::matches`] evaluates it for one
//! contact here, through the [`Facts`] the caller provides.
//!
//! Parsing is strict and every error names the place to fix (`all[1].op`): a
//! condition is typed by a user in a form or an API call, and a silently
//! ignored key would make a segment count the wrong contacts.
//!
//! Evaluation rules, which the SQL compilation must follow too:
//! * A property is *known* when it is present and not empty.
//! * `eq` and `neq` on properties compare text case-insensitively (Unicode
//!   lowercase on both sides): `"br"` equals `"BR"`. A number value compares
//!   numerically with a property that parses as a number, `true`/`false`
//!   compare with the property's text ignoring ASCII case. `neq` is exactly
//!   "not `eq`", so it holds for a contact without the property.
//! * `contains` is a case-insensitive substring test on a known property.
//! * `gt` and `lt` hold only when the property parses as a number.
//! * `before` and `after` hold only when the property parses as an RFC 3339
//!   time or a `YYYY-MM-DD` day (taken as midnight UTC); the value is an
//!   RFC 3339 time or a duration relative to now (`-P7D` = seven days ago).
//! * An event leaf holds with `is_known` when the event happened at least once
//!   within `since`..=`until` (both inclusive), and with `is_unknown` when it
//!   did not.
//!
//! The readings of a property value these rules compare are public
//! ([`property_text`], [`property_number`], [`property_date`],
//! [`property_flag`]): the store keeps them beside each contact, computed by
//! these very functions, and compiles conditions to SQL over them.

use crate::calendar::{parse_instant, parse_property_date};
use crate::definition::NodeId;
use crate::duration::IsoDuration;
use crate::events::channel_of_event;
use recado_core::consent::{Channel, SubscriptionStatus};
use recado_core::properties::is_valid_name;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Number, Value};

/// How many groups may be nested inside one another.
pub const MAX_DEPTH: usize = 10;

#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
    Leaf(Leaf),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Leaf {
    Property(PropertyTest),
    Subscription(SubscriptionTest),
    Event(EventTest),
}

/// `{"property": "country", "op": "eq", "value": "BR"}`
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyTest {
    pub property: String,
    pub op: PropertyOp,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PropertyOp {
    Eq(Literal),
    Neq(Literal),
    IsKnown,
    IsUnknown,
    Contains(String),
    Gt(Number),
    Lt(Number),
    Before(TimeRef),
    After(TimeRef),
}

/// The value an `eq`/`neq` compares with, kept as written so it serializes back
/// unchanged.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Text(String),
    Number(Number),
    Bool(bool),
}

/// `{"subscription": "sms", "op": "eq", "value": "subscribed"}`
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionTest {
    pub channel: Channel,
    /// True for `eq`, false for `neq`.
    pub equal: bool,
    pub status: SubscriptionStatus,
}

/// `{"event": "SMS_CLICKED", "of": "n1", "op": "is_known"}`
#[derive(Clone, Debug, PartialEq)]
pub struct EventTest {
    pub event: String,
    pub scope: EventScope,
    /// True for `is_known`, false for `is_unknown`.
    pub happened: bool,
    pub sender: Option<String>,
    pub message_id: Option<String>,
    pub since: Option<TimeRef>,
    pub until: Option<TimeRef>,
}

/// Which messages an event leaf looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventScope {
    /// The message sent by this node of the same workflow run (`"of"`).
    Send(NodeId),
    /// Any message of the named campaign (`"campaign"`, used by segments).
    Campaign(String),
    /// Any message of the contact.
    AnyMessage,
}

/// A point in time written either absolutely (RFC 3339) or relative to the
/// moment of evaluation (an ISO 8601 duration such as `-P7D`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeRef {
    text: String,
    value: TimeValue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeValue {
    Instant(i64),
    FromNow(IsoDuration),
}

impl TimeRef {
    pub fn parse(text: &str) -> Result<TimeRef, String> {
        let value = if text.starts_with('P') || text.starts_with("-P") {
            TimeValue::FromNow(IsoDuration::parse(text).map_err(|e| e.to_string())?)
        } else {
            TimeValue::Instant(parse_instant(text).map_err(|_| {
                format!("`{text}` is neither an RFC 3339 time (2026-12-24T09:00:00Z) nor a duration from now (-P7D)")
            })?)
        };
        Ok(TimeRef {
            text: text.to_string(),
            value,
        })
    }

    /// The instant this reference names when evaluated at `now`.
    pub fn resolve(&self, now: i64) -> i64 {
        match self.value {
            TimeValue::Instant(ms) => ms,
            TimeValue::FromNow(duration) => now.saturating_add(duration.as_millis()),
        }
    }

    /// The duration from now, for a relative reference (the SQL compiler binds
    /// `now + duration`).
    pub fn relative(&self) -> Option<IsoDuration> {
        match self.value {
            TimeValue::FromNow(duration) => Some(duration),
            TimeValue::Instant(_) => None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// A condition that does not parse, with the place to fix: `field` is a path
/// into the condition such as `all[1].op` (empty for the condition itself).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConditionError {
    pub field: String,
    pub message: String,
}

/// What a condition can ask about the contact it is evaluated for.
pub trait Facts: Sync {
    /// The property's value as stored, None when the contact has none.
    fn property(&self, key: &str) -> Option<String>;
    /// The subscription status on `channel`; None counts as `not_specified`.
    fn subscription(&self, channel: Channel) -> Option<SubscriptionStatus>;
    /// When the events the query describes happened (any order).
    fn event_times(&self, query: &EventQuery) -> Vec<i64>;
}

/// An event leaf with its time bounds resolved against the evaluation time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventQuery {
    pub event: String,
    pub scope: EventScope,
    pub sender: Option<String>,
    pub message_id: Option<String>,
    /// Earliest admitted time, inclusive.
    pub since: Option<i64>,
    /// Latest admitted time, inclusive.
    pub until: Option<i64>,
}

impl EventQuery {
    /// Whether an event at `at` lies within the query's time bounds.
    pub fn admits(&self, at: i64) -> bool {
        self.since.is_none_or(|since| at >= since) && self.until.is_none_or(|until| at <= until)
    }
}

const OPS: [&str; 9] = [
    "eq",
    "neq",
    "is_known",
    "is_unknown",
    "contains",
    "gt",
    "lt",
    "before",
    "after",
];

impl Condition {
    /// Parses a condition from its JSON form; see the module documentation.
    pub fn parse(value: &Value) -> Result<Condition, ConditionError> {
        parse_node(value, "", 0)
    }

    /// Every leaf, depth first in written order.
    pub fn leaves(&self) -> Vec<&Leaf> {
        let mut leaves = Vec::new();
        self.collect_leaves(&mut leaves);
        leaves
    }

    fn collect_leaves<'a>(&'a self, into: &mut Vec<&'a Leaf>) {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                items.iter().for_each(|c| c.collect_leaves(into));
            }
            Condition::Leaf(leaf) => into.push(leaf),
        }
    }

    /// Whether the condition holds for the contact `facts` describes at `now`.
    pub fn matches(&self, facts: &dyn Facts, now: i64) -> bool {
        match self {
            Condition::All(items) => items.iter().all(|c| c.matches(facts, now)),
            Condition::Any(items) => items.iter().any(|c| c.matches(facts, now)),
            Condition::Leaf(leaf) => leaf.matches(facts, now),
        }
    }

    /// The JSON form, the same shape [`Condition::parse`] reads.
    pub fn to_json(&self) -> Value {
        match self {
            Condition::All(items) => json!({"all": items.iter().map(Condition::to_json).collect::<Vec<_>>()}),
            Condition::Any(items) => json!({"any": items.iter().map(Condition::to_json).collect::<Vec<_>>()}),
            Condition::Leaf(leaf) => leaf.to_json(),
        }
    }
}

impl Leaf {
    pub fn matches(&self, facts: &dyn Facts, now: i64) -> bool {
        match self {
            Leaf::Property(test) => test.matches(facts.property(&test.property).as_deref(), now),
            Leaf::Subscription(test) => {
                let status = facts
                    .subscription(test.channel)
                    .unwrap_or(SubscriptionStatus::NotSpecified);
                (status == test.status) == test.equal
            }
            Leaf::Event(test) => {
                let query = test.query(now);
                let happened = facts.event_times(&query).into_iter().any(|at| query.admits(at));
                happened == test.happened
            }
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Leaf::Property(test) => {
                let mut object = Map::new();
                object.insert("property".into(), test.property.clone().into());
                object.insert("op".into(), test.op.name().into());
                if let Some(value) = test.op.value_json() {
                    object.insert("value".into(), value);
                }
                Value::Object(object)
            }
            Leaf::Subscription(test) => json!({
                "subscription": test.channel.as_str(),
                "op": if test.equal { "eq" } else { "neq" },
                "value": test.status.as_str(),
            }),
            Leaf::Event(test) => {
                let mut object = Map::new();
                object.insert("event".into(), test.event.clone().into());
                match &test.scope {
                    EventScope::Send(node) => {
                        object.insert("of".into(), node.as_str().into());
                    }
                    EventScope::Campaign(name) => {
                        object.insert("campaign".into(), name.clone().into());
                    }
                    EventScope::AnyMessage => {}
                }
                object.insert(
                    "op".into(),
                    if test.happened { "is_known" } else { "is_unknown" }.into(),
                );
                let optional = [
                    ("sender", test.sender.clone()),
                    ("message_id", test.message_id.clone()),
                    ("since", test.since.as_ref().map(|t| t.text.clone())),
                    ("until", test.until.as_ref().map(|t| t.text.clone())),
                ];
                for (key, value) in optional {
                    if let Some(value) = value {
                        object.insert(key.into(), value.into());
                    }
                }
                Value::Object(object)
            }
        }
    }
}

impl PropertyTest {
    /// Whether the test holds for a contact whose property is `value`.
    pub fn matches(&self, value: Option<&str>, now: i64) -> bool {
        let known = value.filter(|v| !v.is_empty());
        match &self.op {
            PropertyOp::Eq(literal) => known.is_some_and(|v| literal.equals(v)),
            PropertyOp::Neq(literal) => !known.is_some_and(|v| literal.equals(v)),
            PropertyOp::IsKnown => known.is_some(),
            PropertyOp::IsUnknown => known.is_none(),
            PropertyOp::Contains(part) => known.is_some_and(|v| property_text(v).contains(&property_text(part))),
            PropertyOp::Gt(bound) => compare_number(known, bound, |v, b| v > b),
            PropertyOp::Lt(bound) => compare_number(known, bound, |v, b| v < b),
            PropertyOp::Before(at) => known.and_then(property_date).is_some_and(|v| v < at.resolve(now)),
            PropertyOp::After(at) => known.and_then(property_date).is_some_and(|v| v > at.resolve(now)),
        }
    }
}

// The readings of a property value that the tests above compare. They are
// public so the store can keep them beside each contact (and compile
// conditions to SQL over them) with exactly the functions evaluation uses.

/// The text `eq`, `neq` and `contains` compare: Unicode lowercase.
pub fn property_text(value: &str) -> String {
    value.to_lowercase()
}

/// The number `eq`, `gt` and `lt` compare, when the value (trimmed) parses
/// as a finite number.
pub fn property_number(value: &str) -> Option<f64> {
    value.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The instant `before` and `after` compare, when the value is an RFC 3339
/// time or a `YYYY-MM-DD` day (midnight UTC).
pub fn property_date(value: &str) -> Option<i64> {
    parse_property_date(value)
}

/// The truth value `eq true`/`eq false` compare: `true` or `false`, trimmed,
/// in any ASCII case.
pub fn property_flag(value: &str) -> Option<bool> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn compare_number(value: Option<&str>, bound: &Number, holds: fn(f64, f64) -> bool) -> bool {
    match (value.and_then(property_number), bound.as_f64()) {
        (Some(value), Some(bound)) => holds(value, bound),
        _ => false,
    }
}

impl Literal {
    fn equals(&self, value: &str) -> bool {
        match self {
            Literal::Text(text) => property_text(text) == property_text(value),
            Literal::Number(number) => property_number(value).is_some_and(|v| Some(v) == number.as_f64()),
            Literal::Bool(flag) => property_flag(value) == Some(*flag),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Literal::Text(text) => Value::String(text.clone()),
            Literal::Number(number) => Value::Number(number.clone()),
            Literal::Bool(flag) => Value::Bool(*flag),
        }
    }
}

impl PropertyOp {
    pub fn name(&self) -> &'static str {
        match self {
            PropertyOp::Eq(_) => "eq",
            PropertyOp::Neq(_) => "neq",
            PropertyOp::IsKnown => "is_known",
            PropertyOp::IsUnknown => "is_unknown",
            PropertyOp::Contains(_) => "contains",
            PropertyOp::Gt(_) => "gt",
            PropertyOp::Lt(_) => "lt",
            PropertyOp::Before(_) => "before",
            PropertyOp::After(_) => "after",
        }
    }

    fn value_json(&self) -> Option<Value> {
        match self {
            PropertyOp::Eq(literal) | PropertyOp::Neq(literal) => Some(literal.to_json()),
            PropertyOp::IsKnown | PropertyOp::IsUnknown => None,
            PropertyOp::Contains(text) => Some(Value::String(text.clone())),
            PropertyOp::Gt(number) | PropertyOp::Lt(number) => Some(Value::Number(number.clone())),
            PropertyOp::Before(at) | PropertyOp::After(at) => Some(Value::String(at.text.clone())),
        }
    }
}

impl EventTest {
    /// The query for this leaf with its time bounds resolved at `now`.
    pub fn query(&self, now: i64) -> EventQuery {
        EventQuery {
            event: self.event.clone(),
            scope: self.scope.clone(),
            sender: self.sender.clone(),
            message_id: self.message_id.clone(),
            since: self.since.as_ref().map(|t| t.resolve(now)),
            until: self.until.as_ref().map(|t| t.resolve(now)),
        }
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Condition::parse(&value).map_err(|e| {
            if e.field.is_empty() {
                serde::de::Error::custom(format!("invalid condition: {}", e.message))
            } else {
                serde::de::Error::custom(format!("invalid condition at `{}`: {}", e.field, e.message))
            }
        })
    }
}

// ---- parsing -------------------------------------------------------------

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn error(field: String, message: impl Into<String>) -> ConditionError {
    ConditionError {
        field,
        message: message.into(),
    }
}

fn parse_node(value: &Value, path: &str, depth: usize) -> Result<Condition, ConditionError> {
    let Value::Object(object) = value else {
        return Err(error(
            path.to_string(),
            "a condition must be an object: a group {\"all\": [..]} or {\"any\": [..]}, or a leaf with `property`, `subscription` or `event`",
        ));
    };
    for group in ["all", "any"] {
        if let Some(items) = object.get(group) {
            return parse_group(object, group, items, path, depth);
        }
    }
    for kind in ["property", "subscription", "event"] {
        if object.contains_key(kind) {
            let leaf = match kind {
                "property" => parse_property(object, path)?,
                "subscription" => parse_subscription(object, path)?,
                _ => parse_event(object, path)?,
            };
            return Ok(Condition::Leaf(leaf));
        }
    }
    match object.keys().next() {
        None => Err(error(
            path.to_string(),
            "empty condition; write a group (`all`/`any`) or a leaf (`property`, `subscription` or `event`)",
        )),
        Some(key) => Err(error(
            join(path, key),
            format!("unknown key `{key}`; a condition is a group (`all`/`any`) or a leaf (`property`, `subscription` or `event`)"),
        )),
    }
}

fn parse_group(
    object: &Map<String, Value>,
    group: &str,
    items: &Value,
    path: &str,
    depth: usize,
) -> Result<Condition, ConditionError> {
    if let Some(other) = object.keys().find(|k| k.as_str() != group) {
        return Err(error(
            join(path, other),
            format!("a group holds only `{group}`; put `{other}` in a condition of its own"),
        ));
    }
    let field = join(path, group);
    if depth >= MAX_DEPTH {
        return Err(error(
            field,
            format!("groups nest at most {MAX_DEPTH} deep; flatten this one"),
        ));
    }
    let Value::Array(items) = items else {
        return Err(error(field, format!("`{group}` takes a list of conditions")));
    };
    if items.is_empty() {
        return Err(error(field, format!("`{group}` needs at least one condition")));
    }
    let children = items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_node(item, &format!("{field}[{i}]"), depth + 1))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if group == "all" {
        Condition::All(children)
    } else {
        Condition::Any(children)
    })
}

fn reject_unknown_keys(
    object: &Map<String, Value>,
    allowed: &[&str],
    kind: &str,
    path: &str,
) -> Result<(), ConditionError> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(error(
            join(path, key),
            format!(
                "unknown key `{key}` in a {kind} condition; allowed: {}",
                allowed.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

fn required_text<'a>(object: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a str, ConditionError> {
    match object.get(key) {
        Some(Value::String(text)) if !text.is_empty() => Ok(text),
        Some(Value::String(_)) => Err(error(join(path, key), format!("`{key}` must not be empty"))),
        Some(_) => Err(error(join(path, key), format!("`{key}` must be a string"))),
        None => Err(error(join(path, key), format!("`{key}` is missing"))),
    }
}

fn optional_text(object: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, ConditionError> {
    if object.contains_key(key) {
        required_text(object, key, path).map(|t| Some(t.to_string()))
    } else {
        Ok(None)
    }
}

fn parse_op<'a>(
    object: &'a Map<String, Value>,
    path: &str,
    allowed: &[&str],
    kind: &str,
) -> Result<&'a str, ConditionError> {
    let op = required_text(object, "op", path)?;
    if !OPS.contains(&op) {
        return Err(error(
            join(path, "op"),
            format!("unknown op `{op}`; use one of {}", OPS.join(", ")),
        ));
    }
    if !allowed.contains(&op) {
        return Err(error(
            join(path, "op"),
            format!("a {kind} condition takes {}, not `{op}`", allowed.join(" or ")),
        ));
    }
    Ok(op)
}

fn no_value(object: &Map<String, Value>, op: &str, path: &str) -> Result<(), ConditionError> {
    if object.contains_key("value") {
        return Err(error(join(path, "value"), format!("`{op}` takes no value; remove it")));
    }
    Ok(())
}

fn parse_property(object: &Map<String, Value>, path: &str) -> Result<Leaf, ConditionError> {
    reject_unknown_keys(object, &["property", "op", "value"], "property", path)?;
    let property = required_text(object, "property", path)?.to_string();
    if !is_valid_name(&property) {
        return Err(error(
            join(path, "property"),
            format!("`{property}` is not a property name; names are 1 to 64 of a-z, 0-9 and _"),
        ));
    }
    let op = parse_op(object, path, &OPS, "property")?;
    let field = join(path, "value");
    let value = object.get("value");
    let missing = || error(field.clone(), format!("`{op}` needs a value"));
    let op = match op {
        "is_known" | "is_unknown" => {
            no_value(object, op, path)?;
            if op == "is_known" {
                PropertyOp::IsKnown
            } else {
                PropertyOp::IsUnknown
            }
        }
        "eq" | "neq" => {
            let literal = match value.ok_or_else(missing)? {
                Value::String(text) => Literal::Text(text.clone()),
                Value::Number(number) => Literal::Number(number.clone()),
                Value::Bool(flag) => Literal::Bool(*flag),
                _ => {
                    return Err(error(
                        field,
                        format!("`{op}` compares with a string, a number or true/false"),
                    ))
                }
            };
            if op == "eq" {
                PropertyOp::Eq(literal)
            } else {
                PropertyOp::Neq(literal)
            }
        }
        "contains" => match value.ok_or_else(missing)? {
            Value::String(text) if !text.is_empty() => PropertyOp::Contains(text.clone()),
            _ => return Err(error(field, "`contains` needs a non-empty string")),
        },
        "gt" | "lt" => match value.ok_or_else(missing)? {
            Value::Number(number) => {
                if op == "gt" {
                    PropertyOp::Gt(number.clone())
                } else {
                    PropertyOp::Lt(number.clone())
                }
            }
            _ => {
                return Err(error(
                    field,
                    format!("`{op}` compares numbers; write a number such as 18"),
                ))
            }
        },
        _ => {
            let Value::String(text) = value.ok_or_else(missing)? else {
                return Err(error(
                    field,
                    format!("`{op}` needs a date: an RFC 3339 time or a duration from now such as -P7D"),
                ));
            };
            let at = TimeRef::parse(text).map_err(|message| error(field, message))?;
            if op == "before" {
                PropertyOp::Before(at)
            } else {
                PropertyOp::After(at)
            }
        }
    };
    Ok(Leaf::Property(PropertyTest { property, op }))
}

fn parse_subscription(object: &Map<String, Value>, path: &str) -> Result<Leaf, ConditionError> {
    reject_unknown_keys(object, &["subscription", "op", "value"], "subscription", path)?;
    let channel_text = required_text(object, "subscription", path)?;
    let channel: Channel = channel_text.parse().map_err(|_| {
        error(
            join(path, "subscription"),
            format!("unknown channel `{channel_text}`; use sms, whatsapp or voice"),
        )
    })?;
    let op = parse_op(object, path, &["eq", "neq"], "subscription")?;
    let status_text = required_text(object, "value", path)?;
    let status: SubscriptionStatus = status_text.parse().map_err(|_| {
        error(
            join(path, "value"),
            format!("unknown subscription status `{status_text}`; use subscribed, unsubscribed or not_specified"),
        )
    })?;
    Ok(Leaf::Subscription(SubscriptionTest {
        channel,
        equal: op == "eq",
        status,
    }))
}

fn parse_event(object: &Map<String, Value>, path: &str) -> Result<Leaf, ConditionError> {
    reject_unknown_keys(
        object,
        &[
            "event",
            "of",
            "campaign",
            "op",
            "value",
            "sender",
            "message_id",
            "since",
            "until",
        ],
        "event",
        path,
    )?;
    let event = required_text(object, "event", path)?.to_string();
    if channel_of_event(&event).is_none() {
        return Err(error(
            join(path, "event"),
            format!("unknown event `{event}`; use a message event such as SMS_DELIVERED, SMS_CLICKED or WHATSAPP_READ"),
        ));
    }
    let op = parse_op(object, path, &["is_known", "is_unknown"], "event")?;
    no_value(object, op, path)?;
    let of = optional_text(object, "of", path)?;
    let campaign = optional_text(object, "campaign", path)?;
    let sender = optional_text(object, "sender", path)?;
    let message_id = optional_text(object, "message_id", path)?;
    let scope = match (of, campaign) {
        (Some(_), Some(_)) => {
            return Err(error(
                join(path, "campaign"),
                "use either `of` (a send node of this workflow) or `campaign`, not both",
            ))
        }
        (Some(node), None) => {
            for (key, given) in [("sender", &sender), ("message_id", &message_id)] {
                if given.is_some() {
                    return Err(error(
                        join(path, key),
                        format!("`{key}` narrows campaign events; the send node named by `of` already fixes it"),
                    ));
                }
            }
            EventScope::Send(NodeId::from(node))
        }
        (None, Some(campaign)) => EventScope::Campaign(campaign),
        (None, None) => EventScope::AnyMessage,
    };
    let time = |key: &str| -> Result<Option<TimeRef>, ConditionError> {
        optional_text(object, key, path)?
            .map(|text| TimeRef::parse(&text).map_err(|message| error(join(path, key), message)))
            .transpose()
    };
    Ok(Leaf::Event(EventTest {
        event,
        scope,
        happened: op == "is_known",
        sender,
        message_id,
        since: time("since")?,
        until: time("until")?,
    }))
}
