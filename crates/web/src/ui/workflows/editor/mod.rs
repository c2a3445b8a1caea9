//! The workflow editor's form: a definition shown as fields (triggers,
//! settings, a list of steps with per-type fields, condition rows) and read
//! back into the definition JSON the service validates.
//!
//! The form covers the common case. Whatever it cannot show exactly (a
//! nested condition, UTM parameters, an event trigger's filter…) is shown as
//! that part's JSON instead: a part is shown as fields only when reading the
//! fields back gives the very same JSON, so saving the form never changes
//! what the author did not touch.
//!
//! Field names carry the position: `t0.type`, `s2.sms_text`,
//! `s2.cond.c1.op`, `exit.c0.subject`. Every per-type field is sent whatever
//! the chosen type (hidden ones too); only the chosen type's are read.

use super::super::page::Opt;
use super::graph::order;
use recado_flow::condition::{Condition, EventScope, Leaf};
use recado_flow::definition::{ContactMatch, NodeKind, SendAction, Trigger, WaitEvent, TIMEOUT_KEY};
use recado_flow::{Definition, Node};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

mod condition;
mod step;
mod trigger;
pub mod voice;

pub use condition::{CondRow, ConditionForm};
pub use step::{OnRow, StepForm, StepOpts};
pub use trigger::TriggerForm;
pub use voice::{KeyForm, VoiceStepForm};

pub const STEP_TYPES: [(&str, &str); 12] = [
    ("send_sms", "Send SMS"),
    ("send_whatsapp_template", "Send WhatsApp template"),
    ("send_whatsapp_text", "Send WhatsApp text"),
    ("send_voice", "Voice message (call)"),
    ("send_ivr", "Interactive call (IVR)"),
    ("delay", "Delay"),
    ("wait_event", "Wait for an event"),
    ("branch", "Branch"),
    ("set_property", "Set property"),
    ("set_subscription", "Set subscription"),
    ("end", "End"),
    ("json", "Other (JSON)"),
];

pub const TRIGGER_TYPES: [(&str, &str); 7] = [
    ("", "— none —"),
    ("manual", "Manual (contact page, API)"),
    ("event", "Event"),
    ("segment", "Contact enters a segment"),
    ("schedule", "Schedule"),
    ("webhook", "Incoming webhook"),
    ("json", "Other (JSON)"),
];

const COND_KINDS: [(&str, &str); 4] = [
    ("", "—"),
    ("property", "Property"),
    ("subscription", "Subscription"),
    ("event", "Event of a send"),
];

const COND_OPS: [(&str, &str); 9] = [
    ("eq", "is / equal to"),
    ("neq", "not equal to"),
    ("is_known", "is known"),
    ("is_unknown", "is unknown"),
    ("contains", "contains"),
    ("gt", "greater than"),
    ("lt", "less than"),
    ("before", "before"),
    ("after", "after"),
];

pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Properties whose test compares with a value.
const VALUE_OPS: [&str; 7] = ["eq", "neq", "contains", "gt", "lt", "before", "after"];

fn opts(choices: &[(&str, &str)], selected: &str) -> Vec<Opt> {
    let mut out: Vec<Opt> = choices
        .iter()
        .map(|(v, l)| Opt {
            value: v.to_string(),
            label: l.to_string(),
            selected: *v == selected,
        })
        .collect();
    if !selected.is_empty() && !choices.iter().any(|(v, _)| *v == selected) {
        out.push(Opt {
            value: selected.to_string(),
            label: selected.to_string(),
            selected: true,
        });
    }
    out
}

// ---- the form ------------------------------------------------------------------

#[derive(Clone, Debug, Default)]
pub struct EditorForm {
    pub name: String,
    pub start: String,
    pub triggers: Vec<TriggerForm>,
    pub reenrolment: String,
    pub timezone: String,
    pub exit: ConditionForm,
    pub steps: Vec<StepForm>,
    pub name_error: Option<String>,
    pub settings_error: Option<String>,
    /// A problem no field shows: (field, message).
    pub error: Option<(String, String)>,
}

/// What the selects offer, from the workspace.
#[derive(Clone, Debug, Default)]
pub struct Choices {
    pub sms_channels: Vec<(String, String)>,
    pub wa_channels: Vec<(String, String)>,
    pub voice_channels: Vec<(String, String)>,
    pub segments: Vec<(String, String)>,
}

// ---- definition → form ---------------------------------------------------------

fn s(v: Option<&String>) -> String {
    v.cloned().unwrap_or_default()
}

/// A unit enum's text as its JSON says it (`after_end`).
fn as_text(v: &impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

impl EditorForm {
    /// An empty workflow: a manual trigger and one step.
    pub fn blank() -> EditorForm {
        EditorForm {
            start: "n1".into(),
            triggers: vec![TriggerForm {
                kind: "manual".into(),
                ..Default::default()
            }],
            reenrolment: "never".into(),
            timezone: "workspace".into(),
            steps: vec![StepForm::blank("n1".into())],
            ..Default::default()
        }
    }

    /// The form of a saved definition; steps in the order a run meets them.
    pub fn from_definition(name: &str, def: &Definition) -> EditorForm {
        EditorForm {
            name: name.to_string(),
            start: def.start.to_string(),
            triggers: def.triggers.iter().map(TriggerForm::from_trigger).collect(),
            reenrolment: as_text(&def.settings.reenrolment),
            timezone: as_text(&def.settings.timezone),
            exit: ConditionForm::from_condition(def.settings.exit_when.as_ref()),
            steps: order(def)
                .iter()
                .map(|id| StepForm::from_node(id, &def.nodes[id.as_str()]))
                .collect(),
            ..Default::default()
        }
    }

    /// Reads the posted fields.
    pub fn from_fields(fields: &[(String, String)]) -> EditorForm {
        let mut map: HashMap<&str, Vec<&str>> = HashMap::new();
        for (k, v) in fields {
            map.entry(k.as_str()).or_default().push(v.as_str());
        }
        let get = |k: &str| {
            map.get(k)
                .and_then(|v| v.first())
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        let all = |k: &str| {
            map.get(k)
                .map(|v| v.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default()
        };
        let on = |k: &str| map.contains_key(k);
        let indices = |prefix: &str| -> Vec<usize> {
            let mut found: Vec<usize> = fields
                .iter()
                .filter_map(|(k, _)| k.strip_prefix(prefix))
                .filter_map(|rest| rest.split_once('.'))
                .filter_map(|(n, _)| n.parse().ok())
                .collect();
            found.sort_unstable();
            found.dedup();
            found
        };
        let condition = |prefix: &str| ConditionForm {
            prefix: prefix.to_string(),
            any: get(&format!("{prefix}.join")) == "any",
            rows: indices(&format!("{prefix}.c"))
                .into_iter()
                .map(|r| {
                    let f = |name: &str| get(&format!("{prefix}.c{r}.{name}"));
                    CondRow {
                        kind: f("kind"),
                        subject: f("subject"),
                        of: f("of"),
                        op: f("op"),
                        value: f("value"),
                        ..Default::default()
                    }
                })
                .collect(),
            json: get(&format!("{prefix}.json")),
        };
        let triggers = indices("t")
            .into_iter()
            .map(|i| {
                let f = |name: &str| get(&format!("t{i}.{name}"));
                TriggerForm {
                    kind: f("type"),
                    event: f("event"),
                    keyword: f("keyword"),
                    segment_id: if f("type") == "schedule" {
                        f("schedule_segment")
                    } else {
                        f("segment_id")
                    },
                    at: f("at"),
                    days: all(&format!("t{i}.days")),
                    match_phone: on(&format!("t{i}.match_phone")),
                    match_email: on(&format!("t{i}.match_email")),
                    create_contact: on(&format!("t{i}.create_contact")),
                    json: f("json"),
                    ..Default::default()
                }
            })
            .collect();
        let steps = indices("s")
            .into_iter()
            .map(|i| {
                let f = |name: &str| get(&format!("s{i}.{name}"));
                let kind = f("type");
                let whatsapp = kind.starts_with("send_whatsapp");
                let voice = kind == "send_voice" || kind == "send_ivr";
                StepForm {
                    id: f("id").trim().to_string(),
                    channel_id: if whatsapp {
                        f("wa_channel")
                    } else if voice {
                        f("voice_channel")
                    } else {
                        f("sms_channel")
                    },
                    voice: VoiceStepForm::from_fields(&get, &all, fields, i),
                    text: if whatsapp { f("wa_text") } else { f("sms_text") },
                    from: f("from"),
                    campaign: f("campaign"),
                    shorten_urls: on(&format!("s{i}.shorten_urls")),
                    defer_on_limit: on(&format!("s{i}.defer_on_limit")),
                    template_name: f("template_name"),
                    template_language: f("template_language"),
                    template_params: f("template_params"),
                    duration: f("duration"),
                    until_time: f("until_time"),
                    until_date: f("until_date"),
                    of: f("of"),
                    on: indices(&format!("s{i}.on"))
                        .into_iter()
                        .map(|r| OnRow {
                            event: get(&format!("s{i}.on{r}.event")),
                            target: get(&format!("s{i}.on{r}.target")),
                            ..Default::default()
                        })
                        .collect(),
                    timeout: f("timeout"),
                    timeout_target: f("timeout_target"),
                    condition: condition(&format!("s{i}.cond")),
                    then: f("then"),
                    otherwise: f("else"),
                    property: f("property"),
                    value: f("value"),
                    sub_channel: f("sub_channel"),
                    sub_status: f("sub_status"),
                    legal_basis: f("legal_basis"),
                    explanation: f("explanation"),
                    next: f("next"),
                    on_failure: f("on_failure"),
                    max_visits: f("max_visits"),
                    json: f("json"),
                    kind,
                    ..Default::default()
                }
            })
            .collect();
        EditorForm {
            name: get("name"),
            start: get("start"),
            triggers,
            reenrolment: get("reenrolment"),
            timezone: get("timezone"),
            exit: condition("exit"),
            steps,
            ..Default::default()
        }
    }

    /// Adds an empty step with the first free id `nK`.
    pub fn add_step(&mut self) {
        let id = (self.steps.len() + 1..)
            .map(|k| format!("n{k}"))
            .find(|id| !self.steps.iter().any(|s| &s.id == id))
            .expect("a free id");
        self.steps.push(StepForm::blank(id));
    }

    /// The definition JSON, or None with the problem set on the form.
    pub fn to_definition(&mut self) -> Option<Value> {
        let mut triggers = Vec::new();
        for t in self.triggers.iter_mut().filter(|t| !t.kind.is_empty()) {
            match t.to_json() {
                Ok(v) => triggers.push(v),
                Err(e) => {
                    t.error = Some(e);
                    return None;
                }
            }
        }
        let mut settings = Map::new();
        settings.insert("reenrolment".into(), self.reenrolment.clone().into());
        settings.insert("timezone".into(), self.timezone.clone().into());
        match self.exit.to_json() {
            Ok(Some(c)) => {
                settings.insert("exit_when".into(), c);
            }
            Ok(None) => {}
            Err(e) => {
                self.settings_error = Some(e);
                return None;
            }
        }
        let mut nodes = Map::new();
        for step in self.steps.iter_mut() {
            if step.id.is_empty() {
                step.error = Some("give the step an id (letters, digits, _ or -)".into());
                return None;
            }
            if nodes.contains_key(&step.id) {
                step.error = Some(format!("another step has the id `{}`; ids are unique", step.id));
                return None;
            }
            match step.to_json() {
                Ok(v) => {
                    nodes.insert(step.id.clone(), v);
                }
                Err(e) => {
                    step.error = Some(e);
                    return None;
                }
            }
        }
        let start = if self.start.is_empty() {
            self.steps.first().map(|s| s.id.clone()).unwrap_or_default()
        } else {
            self.start.clone()
        };
        Some(json!({
            "triggers": triggers,
            "settings": settings,
            "start": start,
            "nodes": nodes,
        }))
    }

    /// Shows a refusal of the service next to what it names: a step by its
    /// id, `triggers[i]`, `settings…`, the name, or above the form.
    pub fn attach_error(&mut self, field: Option<&str>, message: &str) {
        let field = field.unwrap_or("");
        if let Some(step) = self.steps.iter_mut().find(|s| !field.is_empty() && s.id == field) {
            step.error = Some(message.to_string());
            return;
        }
        if let Some(i) = field
            .strip_prefix("triggers[")
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|n| n.parse::<usize>().ok())
        {
            if let Some(t) = self.triggers.iter_mut().filter(|t| !t.kind.is_empty()).nth(i) {
                t.error = Some(message.to_string());
                return;
            }
        }
        if field.starts_with("settings") {
            self.settings_error = Some(format!("{field}: {message}"));
            return;
        }
        if field == "name" {
            self.name_error = Some(message.to_string());
            return;
        }
        self.error = Some((field.to_string(), message.to_string()));
    }

    pub fn has_error(&self) -> bool {
        self.error.is_some()
            || self.name_error.is_some()
            || self.settings_error.is_some()
            || self.triggers.iter().any(|t| t.error.is_some())
            || self.steps.iter().any(|s| s.error.is_some())
    }

    /// Fills the selects' options (and one empty row to add to each list)
    /// before the form is shown.
    pub fn prepare(&mut self, choices: &Choices) {
        let ids: Vec<String> = self
            .steps
            .iter()
            .map(|s| s.id.clone())
            .filter(|i| !i.is_empty())
            .collect();
        let node_opts = |selected: &str, none: &str| -> Vec<Opt> {
            let mut out = vec![Opt {
                value: String::new(),
                label: none.to_string(),
                selected: selected.is_empty(),
            }];
            out.extend(ids.iter().map(|id| Opt {
                value: id.clone(),
                label: id.clone(),
                selected: id == selected,
            }));
            if !selected.is_empty() && !ids.iter().any(|i| i == selected) {
                out.push(Opt {
                    value: selected.to_string(),
                    label: format!("{selected} (no such step)"),
                    selected: true,
                });
            }
            out
        };
        let channel_opts = |list: &[(String, String)], selected: &str| -> Vec<Opt> {
            let mut out = vec![Opt {
                value: String::new(),
                label: "The only one".into(),
                selected: selected.is_empty(),
            }];
            out.extend(list.iter().map(|(id, name)| Opt {
                value: id.clone(),
                label: name.clone(),
                selected: id == selected,
            }));
            if !selected.is_empty() && !list.iter().any(|(id, _)| id == selected) {
                out.push(Opt {
                    value: selected.to_string(),
                    label: selected.to_string(),
                    selected: true,
                });
            }
            out
        };
        let segment_opts = |selected: &str, none: &str| -> Vec<Opt> {
            let mut out = vec![Opt {
                value: String::new(),
                label: none.into(),
                selected: selected.is_empty(),
            }];
            out.extend(choices.segments.iter().map(|(id, name)| Opt {
                value: id.clone(),
                label: name.clone(),
                selected: id == selected,
            }));
            if !selected.is_empty() && !choices.segments.iter().any(|(id, _)| id == selected) {
                out.push(Opt {
                    value: selected.to_string(),
                    label: selected.to_string(),
                    selected: true,
                });
            }
            out
        };
        let prepare_condition = |c: &mut ConditionForm, prefix: String| {
            c.prefix = prefix;
            if c.json.is_empty() {
                c.rows.retain(|r| !r.kind.is_empty() || !r.subject.is_empty());
                c.rows.push(CondRow {
                    kind: String::new(),
                    op: "eq".into(),
                    ..Default::default()
                });
            }
            for r in c.rows.iter_mut() {
                r.kind_opts = opts(&COND_KINDS, &r.kind);
                r.op_opts = opts(&COND_OPS, &r.op);
                r.of_opts = node_opts(&r.of, "—");
            }
        };
        if self.start.is_empty() {
            self.start = ids.first().cloned().unwrap_or_default();
        }
        self.triggers.retain(|t| !t.kind.is_empty() || t.error.is_some());
        self.triggers.push(TriggerForm::default());
        for t in self.triggers.iter_mut() {
            t.type_opts = opts(&TRIGGER_TYPES, &t.kind);
            t.segment_opts = segment_opts(&t.segment_id, "— choose —");
            t.day_opts = DAYS
                .iter()
                .map(|d| Opt {
                    value: d.to_string(),
                    label: d.to_string(),
                    selected: t.days.iter().any(|x| x == d),
                })
                .collect();
        }
        prepare_condition(&mut self.exit, "exit".into());
        for (i, step) in self.steps.iter_mut().enumerate() {
            prepare_condition(&mut step.condition, format!("s{i}.cond"));
            step.voice.prepare(format!("s{i}.v"), step.error.as_deref());
            step.on.retain(|r| !r.event.is_empty() || !r.target.is_empty());
            step.on.push(OnRow::default());
            for r in step.on.iter_mut() {
                r.target_opts = node_opts(&r.target, "—");
            }
            step.opts = StepOpts {
                types: opts(&STEP_TYPES, &step.kind),
                sms_channels: channel_opts(&choices.sms_channels, &step.channel_id),
                wa_channels: channel_opts(&choices.wa_channels, &step.channel_id),
                voice_channels: channel_opts(&choices.voice_channels, &step.channel_id),
                next: node_opts(&step.next, "— choose —"),
                on_failure: node_opts(&step.on_failure, "— stop the run —"),
                of: node_opts(&step.of, "— choose —"),
                timeout_target: node_opts(&step.timeout_target, "— none —"),
                then: node_opts(&step.then, "— choose —"),
                otherwise: node_opts(&step.otherwise, "— choose —"),
                sub_channels: opts(
                    &[("sms", "SMS"), ("whatsapp", "WhatsApp"), ("voice", "Voice")],
                    &step.sub_channel,
                ),
                sub_statuses: opts(
                    &[
                        ("subscribed", "Subscribed"),
                        ("unsubscribed", "Unsubscribed"),
                        ("not_specified", "Not specified"),
                    ],
                    &step.sub_status,
                ),
                legal_bases: {
                    let mut bases = vec![("", "—")];
                    bases.extend(super::super::contact_panel::LEGAL_BASES);
                    opts(&bases, &step.legal_basis)
                },
            };
        }
    }

    /// The step ids, for the start select.
    pub fn start_opts(&self) -> Vec<Opt> {
        let mut out: Vec<Opt> = self
            .steps
            .iter()
            .filter(|s| !s.id.is_empty())
            .map(|s| Opt {
                value: s.id.clone(),
                label: s.id.clone(),
                selected: s.id == self.start,
            })
            .collect();
        if !self.start.is_empty() && !out.iter().any(|o| o.selected) {
            out.push(Opt {
                value: self.start.clone(),
                label: format!("{} (no such step)", self.start),
                selected: true,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: Value) -> Value {
        let def = Definition::parse(&v).unwrap();
        let mut form = EditorForm::from_definition("x", &def);
        let out = form.to_definition().unwrap();
        serde_json::to_value(Definition::parse(&out).unwrap()).unwrap()
    }

    #[test]
    fn a_definition_reads_back_the_same_through_the_form() {
        let v = json!({
            "triggers": [{"type": "manual"}, {"type": "event", "event": "SMS_RESPONSE", "keyword": "PROMO"},
                         {"type": "schedule", "at": "08:00", "days": ["mon", "fri"]},
                         {"type": "webhook", "match": ["phone"], "create_contact": true},
                         {"type": "event", "event": "SMS_CLICKED", "where": {"property": "x", "op": "is_known"}}],
            "settings": {"reenrolment": "after_end", "timezone": "contact",
                         "exit_when": {"any": [{"property": "vip", "op": "eq", "value": "yes"},
                                               {"subscription": "sms", "op": "neq", "value": "subscribed"}]}},
            "start": "a",
            "nodes": {
                "a": {"type": "send_sms", "from": "R", "text": "Hi", "shorten_urls": true, "next": "w", "on_failure": "z",
                      "campaign": "C"},
                "w": {"type": "wait_event", "of": "a", "events": ["SMS_CLICKED"], "timeout": "P1D",
                      "on": {"SMS_CLICKED": "b", "timeout": "z"}},
                "b": {"type": "branch", "condition": {"all": [{"property": "age", "op": "gt", "value": 18},
                      {"event": "SMS_CLICKED", "of": "a", "op": "is_known"}]}, "then": "t", "else": "z"},
                "t": {"type": "send_whatsapp_template", "template": {"name": "o", "language": "pt_BR",
                      "parameters": {"body": ["{{contact.firstname}}", "1"]}}, "next": "p"},
                "p": {"type": "set_property", "property": "stage", "value": null, "next": "q"},
                "q": {"type": "set_subscription", "channel": "sms", "status": "unsubscribed", "legal_basis": "consent",
                      "explanation": "asked", "next": "d"},
                "d": {"type": "delay", "until_time": "10:00", "next": "u", "max_visits": 2},
                "u": {"type": "send_sms", "from": "R", "text": "x", "utm": {"source": "s"}, "next": "z"},
                "z": {"type": "end"}
            }
        });
        let expected = serde_json::to_value(Definition::parse(&v).unwrap()).unwrap();
        assert_eq!(round_trip(v.clone()), expected);
        let def = Definition::parse(&v).unwrap();
        let form = EditorForm::from_definition("x", &def);
        // Shown as fields: all but the UTM send and the filtered trigger.
        let json_steps: Vec<_> = form
            .steps
            .iter()
            .filter(|s| s.kind == "json")
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(json_steps, vec!["u"]);
        assert_eq!(form.triggers.iter().filter(|t| t.kind == "json").count(), 1);
        assert!(form.exit.json.is_empty());
        assert_eq!(form.steps[0].id, "a", "the start comes first");
    }

    #[test]
    fn posted_fields_make_a_definition() {
        let fields: Vec<(String, String)> = [
            ("name", "Welcome"),
            ("start", "n1"),
            ("t0.type", "manual"),
            ("t1.type", ""),
            ("reenrolment", "never"),
            ("timezone", "workspace"),
            ("exit.join", "all"),
            ("exit.c0.kind", ""),
            ("s0.id", "n1"),
            ("s0.type", "send_sms"),
            ("s0.sms_channel", ""),
            ("s0.wa_channel", ""),
            ("s0.from", "Recado"),
            ("s0.sms_text", "Hello"),
            ("s0.wa_text", "Hello"),
            ("s0.next", "n2"),
            ("s0.cond.c0.kind", "property"),
            ("s1.id", "n2"),
            ("s1.type", "end"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut form = EditorForm::from_fields(&fields);
        let def = form.to_definition().unwrap();
        assert_eq!(
            def,
            json!({"triggers": [{"type": "manual"}], "settings": {"reenrolment": "never", "timezone": "workspace"},
                   "start": "n1", "nodes": {"n1": {"type": "send_sms", "from": "Recado", "text": "Hello", "next": "n2"},
                                            "n2": {"type": "end"}}})
        );
    }

    #[test]
    fn an_error_lands_next_to_what_it_names() {
        let mut form = EditorForm::blank();
        form.attach_error(Some("n1"), "bad");
        assert_eq!(form.steps[0].error.as_deref(), Some("bad"));
        form.attach_error(Some("triggers[0]"), "t");
        assert_eq!(form.triggers[0].error.as_deref(), Some("t"));
        form.attach_error(Some("nodes"), "n");
        assert_eq!(form.error, Some(("nodes".into(), "n".into())));
    }
}
