//! The static checks a definition passes before it can be published.
//!
//! [`validate`] reports the first problem in a fixed order, so the same draft
//! always shows the same message: triggers (in order), `settings.exit_when`,
//! `start`, then each node in id order, then reachability, then unbounded
//! loops. `field` is what the API returns as the error's field: `triggers[i]`,
//! `settings.exit_when`, `start`, or the id of the node to fix.
//!
//! Whatever lives outside the definition (channels, senders, templates,
//! segments) is resolved by the caller through [`References`], so this module
//! stays free of storage.

use crate::calendar::{parse_instant, parse_weekday, TimeOfDay};
use crate::condition::{Condition, EventScope, Leaf};
use crate::definition::{
    Definition, Delay, Node, NodeId, NodeKind, SendAction, SetSubscription, TemplateRef, Trigger, WaitEvent,
    TIMEOUT_KEY,
};
use crate::duration::IsoDuration;
use crate::events::{channel_of_event, is_trigger_event, message_events, INBOUND_EVENTS};
use recado_core::consent::{Channel, SubscriptionStatus};
use recado_core::properties::is_valid_name;
use recado_core::voice::definition::{ActionKind, IvrDefinition, VoiceMessage};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A definition that cannot be published, and what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

/// How many parameters each component of a WhatsApp template takes
/// (`"body" → 2`); components without parameters may be left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateShape {
    pub parameters: BTreeMap<String, usize>,
}

/// What the validator asks the caller about the workspace. Each method returns
/// Err with a message for the user when the reference does not resolve.
pub trait References {
    /// The channel account of `channel`'s kind named `channel_id`, or, when
    /// None, the workspace's only account of that kind.
    fn channel(&self, channel: Channel, channel_id: Option<&str>) -> Result<(), String>;
    /// Whether `from` may send SMS on that channel account.
    fn sender(&self, channel_id: Option<&str>, from: &str) -> Result<(), String>;
    /// An approved template of that name and language on the WhatsApp
    /// account, with its shape when known (None skips the parameter check).
    fn template(&self, channel_id: Option<&str>, name: &str, language: &str) -> Result<Option<TemplateShape>, String>;
    fn segment(&self, segment_id: &str) -> Result<(), String>;
}

/// Accepts every channel, sender, template (of unknown shape) and segment: for
/// tests, simulations, and checking a draft's structure before its channels
/// exist.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl References for AllowAll {
    fn channel(&self, _: Channel, _: Option<&str>) -> Result<(), String> {
        Ok(())
    }
    fn sender(&self, _: Option<&str>, _: &str) -> Result<(), String> {
        Ok(())
    }
    fn template(&self, _: Option<&str>, _: &str, _: &str) -> Result<Option<TemplateShape>, String> {
        Ok(None)
    }
    fn segment(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
}

/// The SMS encoding policies a send may ask for (API "SMS analysis").
pub const SMS_POLICIES: [&str; 2] = ["transliterate", "auto"];

pub fn validate(def: &Definition, refs: &dyn References) -> Result<(), Invalid> {
    if def.triggers.is_empty() {
        return Err(invalid("triggers", "add at least one trigger"));
    }
    for (i, trigger) in def.triggers.iter().enumerate() {
        check_trigger(trigger, refs).map_err(|message| invalid(&format!("triggers[{i}]"), message))?;
    }
    if let Some(exit_when) = &def.settings.exit_when {
        check_condition(def, exit_when).map_err(|message| invalid("settings.exit_when", message))?;
    }
    if !def.nodes.contains_key(&def.start) {
        return Err(invalid(
            "start",
            format!("`start` names `{}`, which is not a node", def.start),
        ));
    }
    let graph = Graph::of(def);
    for (id, node) in &def.nodes {
        check_node(def, &graph, id, node, refs).map_err(|message| invalid(id.as_str(), message))?;
    }
    let reachable = graph.reachable_from(&def.start);
    if let Some(id) = def.nodes.keys().find(|id| !reachable.contains(id)) {
        return Err(invalid(
            id.as_str(),
            "this node cannot be reached from `start`; connect it or remove it",
        ));
    }
    if let Some(cycle) = graph.unbounded_cycle(def) {
        let path: Vec<&str> = cycle.iter().map(|id| id.as_str()).collect();
        return Err(invalid(
            cycle[0].as_str(),
            format!(
                "unbounded loop {} → {}; give one of these nodes `max_visits`",
                path.join(" → "),
                path[0]
            ),
        ));
    }
    Ok(())
}

fn invalid(field: &str, message: impl Into<String>) -> Invalid {
    Invalid {
        field: field.to_string(),
        message: message.into(),
    }
}

// ---- triggers and conditions ------------------------------------------------------------

fn check_trigger(trigger: &Trigger, refs: &dyn References) -> Result<(), String> {
    match trigger {
        Trigger::Manual(_) => Ok(()),
        Trigger::Event(t) => {
            if !is_trigger_event(&t.event) {
                return Err(format!(
                    "unknown event `{}`; use a timeline event such as SMS_CLICKED or WHATSAPP_RECEIVED",
                    t.event
                ));
            }
            if let Some(keyword) = &t.keyword {
                if !INBOUND_EVENTS.contains(&t.event.as_str()) {
                    return Err(format!(
                        "a keyword trigger takes an inbound message event (SMS_RESPONSE or WHATSAPP_RECEIVED), not `{}`",
                        t.event
                    ));
                }
                if let Err(e) = recado_core::keywords::validate_custom_keyword(keyword) {
                    return Err(format!("keyword `{keyword}`: {e}"));
                }
            }
            let Some(filter) = &t.filter else { return Ok(()) };
            if filter
                .leaves()
                .iter()
                .any(|leaf| matches!(leaf, Leaf::Event(e) if matches!(e.scope, EventScope::Send(_))))
            {
                return Err(
                    "`where` cannot use `of`: a trigger fires before the workflow sends anything; use `campaign`"
                        .into(),
                );
            }
            Ok(())
        }
        Trigger::Segment(t) => refs.segment(&t.segment_id),
        Trigger::Schedule(t) => {
            TimeOfDay::parse(&t.at).map_err(|e| format!("`at`: {e}"))?;
            let mut seen = BTreeSet::new();
            for day in &t.days {
                parse_weekday(day).map_err(|e| format!("`days`: {e}"))?;
                if !seen.insert(day) {
                    return Err(format!("`days` lists `{day}` twice"));
                }
            }
            match &t.segment_id {
                Some(segment) => refs.segment(segment),
                None => Ok(()),
            }
        }
        Trigger::Webhook(t) => {
            if t.match_on.is_empty() {
                return Err("`match` needs at least one of phone, email".into());
            }
            Ok(())
        }
    }
}

/// Event leaves that name a send (`of`) must name a send node of this
/// definition, and an event of that send's channel.
fn check_condition(def: &Definition, condition: &Condition) -> Result<(), String> {
    for leaf in condition.leaves() {
        let Leaf::Event(test) = leaf else { continue };
        let EventScope::Send(of) = &test.scope else { continue };
        let action = send_action(def, of).ok_or_else(|| format!("`of` names `{of}`, which is not a send node"))?;
        if channel_of_event(&test.event) != Some(action.channel()) {
            return Err(format!(
                "`{}` is not an event of `{of}`, a {} send; use one of {}",
                test.event,
                action.channel(),
                message_events(action.channel()).join(", ")
            ));
        }
    }
    Ok(())
}

fn send_action<'a>(def: &'a Definition, id: &NodeId) -> Option<&'a SendAction> {
    match &def.nodes.get(id)?.kind {
        NodeKind::Send(send) => Some(&send.action),
        _ => None,
    }
}

// ---- nodes -------------------------------------------------------------------------------

fn check_node(def: &Definition, graph: &Graph, id: &NodeId, node: &Node, refs: &dyn References) -> Result<(), String> {
    if node.max_visits == Some(0) {
        return Err("`max_visits` must be at least 1".into());
    }
    for (key, target) in node.targets() {
        if !def.nodes.contains_key(target) {
            return Err(format!("`{key}` names `{target}`, which is not a node"));
        }
    }
    match &node.kind {
        NodeKind::Send(send) => check_send(&send.action, refs),
        NodeKind::SetProperty(n) => {
            if is_valid_name(&n.property) {
                Ok(())
            } else {
                Err(format!(
                    "`{}` is not a property name; names are 1 to 64 of a-z, 0-9 and _",
                    n.property
                ))
            }
        }
        NodeKind::SetSubscription(n) => check_set_subscription(n),
        NodeKind::Delay(n) => check_delay(n),
        NodeKind::WaitEvent(n) => check_wait(def, graph, id, n),
        NodeKind::Branch(n) => check_condition(def, &n.condition).map_err(|e| format!("`condition`: {e}")),
        NodeKind::End => Ok(()),
    }
}

fn non_empty(key: &str, text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        Err(format!("`{key}` must not be empty"))
    } else {
        Ok(())
    }
}

fn check_send(action: &SendAction, refs: &dyn References) -> Result<(), String> {
    if let Some(campaign) = action.campaign() {
        non_empty("campaign", campaign)?;
    }
    refs.channel(action.channel(), action.channel_id())
        .map_err(|e| format!("`channel_id`: {e}"))?;
    match action {
        SendAction::Sms(m) => {
            non_empty("from", &m.from)?;
            non_empty("text", &m.text)?;
            if let Some(policy) = &m.policy {
                if !SMS_POLICIES.contains(&policy.as_str()) {
                    return Err(format!("`policy` must be one of {}", SMS_POLICIES.join(", ")));
                }
            }
            refs.sender(m.channel_id.as_deref(), &m.from)
                .map_err(|e| format!("`from`: {e}"))
        }
        SendAction::WhatsappTemplate(m) => {
            non_empty("template.name", &m.template.name)?;
            non_empty("template.language", &m.template.language)?;
            let shape = refs
                .template(m.channel_id.as_deref(), &m.template.name, &m.template.language)
                .map_err(|e| format!("`template`: {e}"))?;
            match shape {
                Some(shape) => check_template_parameters(&m.template, &shape),
                None => Ok(()),
            }
        }
        SendAction::WhatsappText(m) => non_empty("text", &m.text),
        SendAction::Voice(m) => VoiceMessage::parse(&m.voice)
            .map(|_| ())
            .map_err(|e| format!("`voice.{}`: {}", e.field, e.message)),
        SendAction::Ivr(m) => {
            let ivr = IvrDefinition::parse(&m.ivr).map_err(|e| format!("`ivr.{}`: {}", e.field, e.message))?;
            // A key's SMS goes through the workspace's SMS channel, from a
            // sender that channel allows.
            for (key, action) in &ivr.keys {
                if action.action != ActionKind::SendSms {
                    continue;
                }
                refs.channel(Channel::Sms, None)
                    .map_err(|e| format!("`ivr.keys.{key}`: {e}"))?;
                if let Some(sender) = &action.sender {
                    refs.sender(None, sender)
                        .map_err(|e| format!("`ivr.keys.{key}.sender`: {e}"))?;
                }
            }
            Ok(())
        }
    }
}

/// The parameters must fill every component exactly: Meta refuses a template
/// send with too few or too many, and the refusal would come per contact.
fn check_template_parameters(template: &TemplateRef, shape: &TemplateShape) -> Result<(), String> {
    let given: BTreeMap<String, usize> = match &template.parameters {
        Value::Null => BTreeMap::new(),
        Value::Array(body) => BTreeMap::from([("body".to_string(), body.len())]),
        Value::Object(components) => {
            let mut given = BTreeMap::new();
            for (component, values) in components {
                let Value::Array(values) = values else {
                    return Err(format!("`template.parameters.{component}` must be a list"));
                };
                given.insert(component.clone(), values.len());
            }
            given
        }
        _ => return Err("`template.parameters` must be an object such as {\"body\": [\"Ana\"]}".into()),
    };
    for (component, count) in &given {
        if !shape.parameters.contains_key(component) && *count > 0 {
            return Err(format!("template `{}` has no `{component}` parameters", template.name));
        }
    }
    for (component, expected) in &shape.parameters {
        let count = given.get(component).copied().unwrap_or(0);
        if count != *expected {
            return Err(format!(
                "template `{}` takes {expected} `{component}` parameters, not {count}",
                template.name
            ));
        }
    }
    Ok(())
}

fn check_set_subscription(n: &SetSubscription) -> Result<(), String> {
    match n.status {
        SubscriptionStatus::NotSpecified => Err("`status` must be subscribed or unsubscribed".into()),
        SubscriptionStatus::Subscribed => {
            let explained = n.explanation.as_deref().is_some_and(|e| !e.trim().is_empty());
            if n.legal_basis.is_none() || !explained {
                Err("subscribing needs a `legal_basis` and an `explanation`".into())
            } else {
                Ok(())
            }
        }
        SubscriptionStatus::Unsubscribed => Ok(()),
    }
}

fn check_delay(n: &Delay) -> Result<(), String> {
    let given = [n.duration.is_some(), n.until_time.is_some(), n.until_date.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err("a delay takes exactly one of `duration`, `until_time` or `until_date`".into());
    }
    if let Some(duration) = &n.duration {
        let parsed = IsoDuration::parse(duration).map_err(|e| format!("`duration`: {e}"))?;
        if parsed.is_negative() {
            return Err("`duration` must not be negative".into());
        }
    }
    if let Some(time) = &n.until_time {
        TimeOfDay::parse(time).map_err(|e| format!("`until_time`: {e}"))?;
    }
    if let Some(date) = &n.until_date {
        parse_instant(date).map_err(|e| format!("`until_date`: {e}"))?;
    }
    Ok(())
}

fn check_wait(def: &Definition, graph: &Graph, id: &NodeId, n: &WaitEvent) -> Result<(), String> {
    let action = send_action(def, &n.of).ok_or_else(|| format!("`of` names `{}`, which is not a send node", n.of))?;
    if !graph.reachable_from(&n.of).contains(id) {
        return Err(format!(
            "this wait cannot follow `{}`; wait on a send that comes before it",
            n.of
        ));
    }
    if n.events.is_empty() {
        return Err("`events` needs at least one event".into());
    }
    let channel = action.channel();
    let allowed = message_events(channel);
    let mut seen = BTreeSet::new();
    for event in &n.events {
        if !allowed.contains(&event.as_str()) {
            return Err(format!(
                "`{event}` is not an event of `{}`, a {channel} send; use one of {}",
                n.of,
                allowed.join(", ")
            ));
        }
        if !seen.insert(event) {
            return Err(format!("`events` lists `{event}` twice"));
        }
    }
    let timeout = n
        .timeout
        .as_deref()
        .ok_or("a wait needs a `timeout` (e.g. PT24H) so no run waits forever")?;
    let timeout = IsoDuration::parse(timeout).map_err(|e| format!("`timeout`: {e}"))?;
    if timeout.as_millis() <= 0 {
        return Err("`timeout` must be longer than zero".into());
    }
    if !n.on.contains_key(TIMEOUT_KEY) {
        return Err("`on` needs a `timeout` target for when no event comes".into());
    }
    for key in n.on.keys() {
        if key != TIMEOUT_KEY && !n.events.contains(key) {
            return Err(format!("`on.{key}` is not one of the awaited `events`"));
        }
    }
    if let Some(event) = n.events.iter().find(|e| !n.on.contains_key(*e)) {
        return Err(format!("`on` needs a target for `{event}`"));
    }
    Ok(())
}

// ---- graph ----------------------------------------------------------------------------------

/// The node graph's edges to existing nodes.
struct Graph<'a> {
    edges: BTreeMap<&'a NodeId, Vec<&'a NodeId>>,
}

impl<'a> Graph<'a> {
    fn of(def: &'a Definition) -> Graph<'a> {
        let edges = def
            .nodes
            .iter()
            .map(|(id, node)| {
                let targets = node
                    .targets()
                    .into_iter()
                    .map(|(_, target)| target)
                    .filter(|target| def.nodes.contains_key(*target))
                    .collect();
                (id, targets)
            })
            .collect();
        Graph { edges }
    }

    fn successors(&self, id: &NodeId) -> &[&'a NodeId] {
        self.edges.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    fn reachable_from(&self, start: &NodeId) -> BTreeSet<&'a NodeId> {
        let mut seen = BTreeSet::new();
        let mut queue: VecDeque<&NodeId> = VecDeque::from([start]);
        while let Some(id) = queue.pop_front() {
            for next in self.successors(id) {
                if seen.insert(*next) {
                    queue.push_back(next);
                }
            }
        }
        if let Some((id, _)) = self.edges.get_key_value(start) {
            seen.insert(*id);
        }
        seen
    }

    /// A cycle through nodes without `max_visits` only, if there is one: the
    /// first a depth-first search finds when it starts from each node in id
    /// order, so the same definition always reports the same loop.
    fn unbounded_cycle(&self, def: &Definition) -> Option<Vec<NodeId>> {
        let unbounded = |id: &NodeId| def.nodes.get(id).is_some_and(|n| n.max_visits.is_none());
        let mut finished: BTreeSet<&NodeId> = BTreeSet::new();
        for root in self.edges.keys().copied().filter(|id| unbounded(id)) {
            if finished.contains(root) {
                continue;
            }
            // Iterative DFS: the stack holds (node, index of the next successor).
            let mut path: Vec<&NodeId> = vec![root];
            let mut next_index: Vec<usize> = vec![0];
            while let Some(&top) = path.last() {
                let index = next_index.last_mut().expect("same length as path");
                let successors: Vec<&NodeId> = self
                    .successors(top)
                    .iter()
                    .copied()
                    .filter(|id| unbounded(id))
                    .collect();
                if let Some(next) = successors.get(*index).copied() {
                    *index += 1;
                    if let Some(position) = path.iter().position(|id| *id == next) {
                        return Some(path[position..].iter().map(|id| (*id).clone()).collect());
                    }
                    if !finished.contains(next) {
                        path.push(next);
                        next_index.push(0);
                    }
                } else {
                    finished.insert(top);
                    path.pop();
                    next_index.pop();
                }
            }
        }
        None
    }
}
