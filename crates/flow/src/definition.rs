//! The workflow definition as the API carries it (API "Workflows"): triggers,
//! settings, a start node and a graph of nodes keyed by id.
//!
//! The JSON is flat (`{"type": "send_sms", "from": .., "next": ..}`) but the
//! types split each send node into *what* is sent, a [`SendAction`], and *where
//! the run goes next*, a [`SendNode`]'s routing. The interpreter hands the
//! action to the application without looking inside, so a new channel (voice,
//! IVR) is one `SendAction` variant, its message struct and its type name in
//! [`SEND_TYPES`]; routing, idempotency and failure handling stay as they are.
//!
//! Texts whose meaning is checked later (durations, times of day, dates, week
//! days, event names) stay as written: the validator reports them with the
//! node they belong to, and a definition serializes back exactly as it came.
//! Unknown keys and node types are refused when parsing.

use crate::condition::Condition;
use crate::validate::Invalid;
use recado_core::consent::{Channel, LegalBasis, SubscriptionStatus};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

/// A node's id, stable across versions so statistics can follow a node.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(String);

impl NodeId {
    pub fn new(id: impl Into<String>) -> NodeId {
        NodeId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for NodeId {
    fn from(id: &str) -> NodeId {
        NodeId(id.to_string())
    }
}

impl From<String> for NodeId {
    fn from(id: String) -> NodeId {
        NodeId(id)
    }
}

impl Borrow<str> for NodeId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub triggers: Vec<Trigger>,
    #[serde(default)]
    pub settings: Settings,
    pub start: NodeId,
    pub nodes: BTreeMap<NodeId, Node>,
}

// ---- triggers and settings -------------------------------------------------

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trigger {
    Manual(ManualTrigger),
    Event(EventTrigger),
    Segment(SegmentTrigger),
    Schedule(ScheduleTrigger),
    Webhook(WebhookTrigger),
}

/// Contacts are enrolled by hand or through the API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualTrigger {}

/// A contact is enrolled when `event` happens to them and `where` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventTrigger {
    pub event: String,
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Condition>,
    /// For an inbound message (`SMS_RESPONSE`, `WHATSAPP_RECEIVED`): only
    /// a message that is this keyword, compared as the hub compares
    /// keywords (whole message, case and accents folded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
}

impl EventTrigger {
    /// Whether an inbound message's text fires a keyword trigger (any text
    /// does when the trigger has no keyword).
    pub fn keyword_matches(&self, text: Option<&str>) -> bool {
        match &self.keyword {
            None => true,
            Some(keyword) => text.is_some_and(|t| {
                let (k, t) = (
                    recado_core::keywords::fold_keyword(keyword),
                    recado_core::keywords::fold_keyword(t),
                );
                !k.is_empty() && k == t
            }),
        }
    }
}

/// Contacts enter the workflow when they enter the segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentTrigger {
    pub segment_id: String,
}

/// At `at` (workspace time) on `days` (every day when empty), the segment's
/// contacts (or the manual ones, without a segment) are enrolled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTrigger {
    pub at: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_id: Option<String>,
}

/// A signed HTTP call enrols the contact it names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookTrigger {
    /// Contact properties tried in order to find the contact.
    #[serde(rename = "match")]
    pub match_on: Vec<ContactMatch>,
    #[serde(default)]
    pub create_contact: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactMatch {
    Phone,
    Email,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub reenrolment: Reenrolment,
    #[serde(default)]
    pub exit_when: Option<Condition>,
    #[serde(default)]
    pub timezone: TimezoneSource,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reenrolment {
    #[default]
    Never,
    AfterEnd,
    Always,
}

/// Whose time zone delays and times of day use; the caller resolves it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimezoneSource {
    #[default]
    Workspace,
    Contact,
}

// ---- nodes -------------------------------------------------------------------

/// One node of the graph. `max_visits` bounds how often a run may enter it,
/// which is what makes a loop through it finite.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub max_visits: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Send(SendNode),
    SetProperty(SetProperty),
    SetSubscription(SetSubscription),
    Delay(Delay),
    WaitEvent(WaitEvent),
    Branch(Branch),
    End,
}

/// A send: the message and where the run goes after the attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct SendNode {
    pub action: SendAction,
    pub routing: SendRouting,
}

/// Where a run goes after a send attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRouting {
    pub next: NodeId,
    /// Taken when the send is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<NodeId>,
    /// A refusal because a messaging limit was reached waits for the next
    /// window instead of failing.
    #[serde(default, skip_serializing_if = "is_false")]
    pub defer_on_limit: bool,
}

fn is_false(flag: &bool) -> bool {
    !*flag
}

/// What a send node asks the application to send, opaque to the interpreter.
#[derive(Clone, Debug, PartialEq)]
pub enum SendAction {
    Sms(SmsMessage),
    WhatsappTemplate(WhatsappTemplateMessage),
    WhatsappText(WhatsappTextMessage),
    Voice(VoiceSend),
    Ivr(IvrSend),
}

/// The node type names of the send actions, in [`SendAction`] order.
pub const SEND_TYPES: [&str; 5] = [
    "send_sms",
    "send_whatsapp_template",
    "send_whatsapp_text",
    "send_voice",
    "send_ivr",
];

impl SendAction {
    /// The node type, also the action type of the workflow log.
    pub fn action_type(&self) -> &'static str {
        match self {
            SendAction::Sms(_) => SEND_TYPES[0],
            SendAction::WhatsappTemplate(_) => SEND_TYPES[1],
            SendAction::WhatsappText(_) => SEND_TYPES[2],
            SendAction::Voice(_) => SEND_TYPES[3],
            SendAction::Ivr(_) => SEND_TYPES[4],
        }
    }

    pub fn channel(&self) -> Channel {
        match self {
            SendAction::Sms(_) => Channel::Sms,
            SendAction::WhatsappTemplate(_) | SendAction::WhatsappText(_) => Channel::Whatsapp,
            SendAction::Voice(_) | SendAction::Ivr(_) => Channel::Voice,
        }
    }

    /// The channel account to send from; None means the workspace's only one.
    pub fn channel_id(&self) -> Option<&str> {
        match self {
            SendAction::Sms(m) => m.channel_id.as_deref(),
            SendAction::WhatsappTemplate(m) => m.channel_id.as_deref(),
            SendAction::WhatsappText(m) => m.channel_id.as_deref(),
            SendAction::Voice(m) => m.channel_id.as_deref(),
            SendAction::Ivr(m) => m.channel_id.as_deref(),
        }
    }

    /// The campaign named on the node; None means the default workflow campaign.
    pub fn campaign(&self) -> Option<&str> {
        match self {
            SendAction::Sms(m) => m.campaign.as_deref(),
            SendAction::WhatsappTemplate(m) => m.campaign.as_deref(),
            SendAction::WhatsappText(m) => m.campaign.as_deref(),
            SendAction::Voice(m) => m.campaign.as_deref(),
            SendAction::Ivr(m) => m.campaign.as_deref(),
        }
    }

    fn message_json(&self) -> Value {
        match self {
            SendAction::Sms(m) => to_json(m),
            SendAction::WhatsappTemplate(m) => to_json(m),
            SendAction::WhatsappText(m) => to_json(m),
            SendAction::Voice(m) => to_json(m),
            SendAction::Ivr(m) => to_json(m),
        }
    }

    fn from_message(node_type: &str, message: Map<String, Value>) -> Result<SendAction, String> {
        Ok(match node_type {
            "send_sms" => SendAction::Sms(from_map(message)?),
            "send_whatsapp_template" => SendAction::WhatsappTemplate(from_map(message)?),
            "send_voice" => SendAction::Voice(from_map(message)?),
            "send_ivr" => SendAction::Ivr(from_map(message)?),
            _ => SendAction::WhatsappText(from_map(message)?),
        })
    }
}

/// Serializes as the node JSON without routing: `{"type": "send_sms", ..}`.
impl Serialize for SendAction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = object_of(self.message_json());
        object.insert("type".into(), self.action_type().into());
        Value::Object(object).serialize(serializer)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    pub from: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub shorten_urls: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utm: Option<Utm>,
    /// `transliterate` or `auto` (API "SMS analysis").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

/// A voice message (API.md "Voice"): who is called and what they hear,
/// checked on save by recado-core's voice definitions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceSend {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    pub voice: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
}

/// An interactive call: a menu and what each key does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IvrSend {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    pub ivr: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
}

/// UTM parameters appended to every URL of the text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Utm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsappTemplateMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    pub template: TemplateRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateRef {
    pub name: String,
    pub language: String,
    /// Passed through to the send path as written: an object of component
    /// name to parameter list (`{"body": ["Ana"]}`), or a list for the body.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub parameters: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsappTextMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
}

/// Sets a contact property; `value: null` clears it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetProperty {
    pub property: String,
    #[serde(default)]
    pub value: Option<String>,
    pub next: NodeId,
}

/// Changes the contact's subscription on a channel (the application applies
/// core's consent rules with the workflow as the source).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetSubscription {
    pub channel: Channel,
    pub status: SubscriptionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<LegalBasis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    pub next: NodeId,
}

/// Waits for a duration, until the next time of day, or until a date. The
/// validator requires exactly one of the three.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delay {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_date: Option<String>,
    pub next: NodeId,
}

/// Waits for one of `events` on the message sent by node `of`, for at most
/// `timeout`. `on` maps each event, and `"timeout"`, to the next node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitEvent {
    pub of: NodeId,
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(default)]
    pub on: BTreeMap<String, NodeId>,
}

/// The key of [`WaitEvent::on`] taken when the wait times out.
pub const TIMEOUT_KEY: &str = "timeout";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    pub condition: Condition,
    pub then: NodeId,
    #[serde(rename = "else")]
    pub otherwise: NodeId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct End {}

/// Every node type name the definition accepts.
pub const NODE_TYPES: [&str; 9] = [
    "send_sms",
    "send_whatsapp_template",
    "send_whatsapp_text",
    "set_property",
    "set_subscription",
    "delay",
    "wait_event",
    "branch",
    "end",
];

impl Node {
    pub fn new(kind: NodeKind) -> Node {
        Node { kind, max_visits: None }
    }

    /// The node's `type`, also the action type of the workflow log.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Send(send) => send.action.action_type(),
            NodeKind::SetProperty(_) => "set_property",
            NodeKind::SetSubscription(_) => "set_subscription",
            NodeKind::Delay(_) => "delay",
            NodeKind::WaitEvent(_) => "wait_event",
            NodeKind::Branch(_) => "branch",
            NodeKind::End => "end",
        }
    }

    /// The outgoing edges, each with the key that holds it (`next`,
    /// `on_failure`, `then`, `else`, `on.<EVENT>`), in a fixed order.
    pub fn targets(&self) -> Vec<(String, &NodeId)> {
        match &self.kind {
            NodeKind::Send(send) => {
                let mut edges = vec![("next".to_string(), &send.routing.next)];
                if let Some(on_failure) = &send.routing.on_failure {
                    edges.push(("on_failure".to_string(), on_failure));
                }
                edges
            }
            NodeKind::SetProperty(n) => vec![("next".to_string(), &n.next)],
            NodeKind::SetSubscription(n) => vec![("next".to_string(), &n.next)],
            NodeKind::Delay(n) => vec![("next".to_string(), &n.next)],
            NodeKind::WaitEvent(n) => n.on.iter().map(|(key, target)| (format!("on.{key}"), target)).collect(),
            NodeKind::Branch(n) => vec![("then".to_string(), &n.then), ("else".to_string(), &n.otherwise)],
            NodeKind::End => Vec::new(),
        }
    }

    fn from_json(value: Value) -> Result<Node, String> {
        let Value::Object(mut object) = value else {
            return Err("a node must be an object with a `type`".into());
        };
        let node_type = match object.remove("type") {
            Some(Value::String(t)) => t,
            Some(_) => return Err("`type` must be a string".into()),
            None => return Err("`type` is missing".into()),
        };
        let max_visits = match object.remove("max_visits") {
            None | Some(Value::Null) => None,
            Some(value) => {
                Some(u32::deserialize(value).map_err(|_| "`max_visits` must be a whole number of visits".to_string())?)
            }
        };
        let kind = match node_type.as_str() {
            t if SEND_TYPES.contains(&t) => {
                let mut routing = Map::new();
                for key in ["next", "on_failure", "defer_on_limit"] {
                    if let Some(value) = object.remove(key) {
                        routing.insert(key.to_string(), value);
                    }
                }
                let routing = from_map(routing)?;
                NodeKind::Send(SendNode {
                    action: SendAction::from_message(t, object)?,
                    routing,
                })
            }
            "set_property" => NodeKind::SetProperty(from_map(object)?),
            "set_subscription" => NodeKind::SetSubscription(from_map(object)?),
            "delay" => NodeKind::Delay(from_map(object)?),
            "wait_event" => NodeKind::WaitEvent(from_map(object)?),
            "branch" => NodeKind::Branch(from_map(object)?),
            "end" => {
                from_map::<End>(object)?;
                NodeKind::End
            }
            other => {
                return Err(format!(
                    "unknown node type `{other}`; use one of {}",
                    NODE_TYPES.join(", ")
                ))
            }
        };
        Ok(Node { kind, max_visits })
    }

    fn to_json(&self) -> Value {
        let mut object = match &self.kind {
            NodeKind::Send(send) => {
                let mut object = object_of(send.action.message_json());
                object.extend(object_of(to_json(&send.routing)));
                object
            }
            NodeKind::SetProperty(n) => object_of(to_json(n)),
            NodeKind::SetSubscription(n) => object_of(to_json(n)),
            NodeKind::Delay(n) => object_of(to_json(n)),
            NodeKind::WaitEvent(n) => object_of(to_json(n)),
            NodeKind::Branch(n) => object_of(to_json(n)),
            NodeKind::End => Map::new(),
        };
        object.insert("type".into(), self.type_name().into());
        if let Some(max_visits) = self.max_visits {
            object.insert("max_visits".into(), max_visits.into());
        }
        Value::Object(object)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Node::from_json(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

fn from_map<T: DeserializeOwned>(object: Map<String, Value>) -> Result<T, String> {
    serde_json::from_value(Value::Object(object)).map_err(|e| e.to_string())
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("definition types serialize to JSON")
}

fn object_of(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(object) => object,
        _ => Map::new(),
    }
}

// ---- parsing with field paths ----------------------------------------------------

impl Definition {
    /// Parses a definition, reporting the first problem with the field the API
    /// returns: `triggers[i]`, `settings.exit_when.<path>`, `settings`,
    /// `start`, `nodes`, or the id of the node at fault.
    pub fn parse(value: &Value) -> Result<Definition, Invalid> {
        let invalid = |field: &str, message: String| Invalid {
            field: field.to_string(),
            message,
        };
        let Value::Object(object) = value else {
            return Err(invalid("definition", "a definition must be an object".into()));
        };
        let allowed = ["triggers", "settings", "start", "nodes"];
        if let Some(key) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(invalid(
                key,
                format!("unknown key `{key}`; a definition has {}", allowed.join(", ")),
            ));
        }
        let triggers = match object.get("triggers") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    Trigger::deserialize(item).map_err(|e| invalid(&format!("triggers[{i}]"), e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(invalid("triggers", "`triggers` must be a list".into())),
            None => return Err(invalid("triggers", "add at least one trigger".into())),
        };
        let settings = match object.get("settings") {
            None | Some(Value::Null) => Settings::default(),
            Some(settings) => {
                if let Some(exit_when) = settings.get("exit_when").filter(|v| !v.is_null()) {
                    Condition::parse(exit_when).map_err(|e| {
                        let field = if e.field.is_empty() {
                            "settings.exit_when".to_string()
                        } else {
                            format!("settings.exit_when.{}", e.field)
                        };
                        invalid(&field, e.message)
                    })?;
                }
                Settings::deserialize(settings).map_err(|e| invalid("settings", e.to_string()))?
            }
        };
        let start = match object.get("start") {
            Some(Value::String(start)) => NodeId::from(start.as_str()),
            _ => return Err(invalid("start", "`start` must name the first node".into())),
        };
        let nodes = match object.get("nodes") {
            Some(Value::Object(nodes)) => nodes
                .iter()
                .map(|(id, node)| {
                    Node::from_json(node.clone())
                        .map(|node| (NodeId::from(id.as_str()), node))
                        .map_err(|message| invalid(id, message))
                })
                .collect::<Result<BTreeMap<_, _>, _>>()?,
            _ => return Err(invalid("nodes", "`nodes` must be an object of node id to node".into())),
        };
        Ok(Definition {
            triggers,
            settings,
            start,
            nodes,
        })
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.get(id)
    }
}
