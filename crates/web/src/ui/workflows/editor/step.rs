//! One step as form fields: its id, type, per-type fields and where it
//! goes next.

use super::*;

#[derive(Clone, Debug, Default)]
pub struct OnRow {
    pub event: String,
    pub target: String,
    pub target_opts: Vec<Opt>,
}

#[derive(Clone, Debug, Default)]
pub struct StepForm {
    pub id: String,
    pub kind: String,
    pub channel_id: String,
    pub from: String,
    pub text: String,
    pub campaign: String,
    pub shorten_urls: bool,
    pub defer_on_limit: bool,
    pub template_name: String,
    pub template_language: String,
    pub template_params: String,
    pub duration: String,
    pub until_time: String,
    pub until_date: String,
    pub of: String,
    pub on: Vec<OnRow>,
    pub timeout: String,
    pub timeout_target: String,
    pub condition: ConditionForm,
    pub then: String,
    pub otherwise: String,
    pub property: String,
    pub value: String,
    pub sub_channel: String,
    pub sub_status: String,
    pub legal_basis: String,
    pub explanation: String,
    pub next: String,
    pub on_failure: String,
    pub max_visits: String,
    pub json: String,
    /// The fields of a voice message or IVR step.
    pub voice: VoiceStepForm,
    pub error: Option<String>,
    pub opts: StepOpts,
}

/// The options of a step's selects, filled before rendering.
#[derive(Clone, Debug, Default)]
pub struct StepOpts {
    pub types: Vec<Opt>,
    pub sms_channels: Vec<Opt>,
    pub wa_channels: Vec<Opt>,
    pub voice_channels: Vec<Opt>,
    pub next: Vec<Opt>,
    pub on_failure: Vec<Opt>,
    pub of: Vec<Opt>,
    pub timeout_target: Vec<Opt>,
    pub then: Vec<Opt>,
    pub otherwise: Vec<Opt>,
    pub sub_channels: Vec<Opt>,
    pub sub_statuses: Vec<Opt>,
    pub legal_bases: Vec<Opt>,
}

fn params_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Object(o) if o.len() == 1 => match o.get("body") {
            Some(Value::Array(items)) if items.iter().all(Value::is_string) && !items.is_empty() => {
                items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n")
            }
            _ => v.to_string(),
        },
        other => other.to_string(),
    }
}

impl StepForm {
    pub fn blank(id: String) -> StepForm {
        StepForm {
            id,
            kind: "send_sms".into(),
            sub_channel: "sms".into(),
            sub_status: "unsubscribed".into(),
            voice: VoiceStepForm::blank(),
            ..Default::default()
        }
    }

    /// The call of a voice step as edited: (`ivr` or `voice`, its JSON).
    pub fn voice_definition(&self) -> (&'static str, Value) {
        let ivr = self.kind != "send_voice";
        (if ivr { "ivr" } else { "voice" }, self.voice.to_value(ivr))
    }

    pub(super) fn from_node(id: &str, node: &Node) -> StepForm {
        let mut f = StepForm {
            id: id.to_string(),
            kind: node.type_name().to_string(),
            max_visits: node.max_visits.map(|m| m.to_string()).unwrap_or_default(),
            voice: VoiceStepForm::blank(),
            ..Default::default()
        };
        match &node.kind {
            NodeKind::Send(send) => {
                f.next = send.routing.next.to_string();
                f.on_failure = send
                    .routing
                    .on_failure
                    .as_ref()
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                f.defer_on_limit = send.routing.defer_on_limit;
                f.channel_id = send.action.channel_id().unwrap_or_default().to_string();
                f.campaign = send.action.campaign().unwrap_or_default().to_string();
                match &send.action {
                    SendAction::Sms(m) => {
                        f.from = m.from.clone();
                        f.text = m.text.clone();
                        f.shorten_urls = m.shorten_urls;
                    }
                    SendAction::WhatsappTemplate(m) => {
                        f.template_name = m.template.name.clone();
                        f.template_language = m.template.language.clone();
                        f.template_params = params_text(&m.template.parameters);
                    }
                    SendAction::WhatsappText(m) => f.text = m.text.clone(),
                    SendAction::Voice(m) => f.voice = VoiceStepForm::from_value(&m.voice),
                    SendAction::Ivr(m) => f.voice = VoiceStepForm::from_value(&m.ivr),
                }
            }
            NodeKind::SetProperty(n) => {
                f.property = n.property.clone();
                f.value = n.value.clone().unwrap_or_default();
                f.next = n.next.to_string();
            }
            NodeKind::SetSubscription(n) => {
                f.sub_channel = n.channel.as_str().into();
                f.sub_status = n.status.as_str().into();
                f.legal_basis = n.legal_basis.as_ref().map(as_text).unwrap_or_default();
                f.explanation = n.explanation.clone().unwrap_or_default();
                f.next = n.next.to_string();
            }
            NodeKind::Delay(n) => {
                f.duration = s(n.duration.as_ref());
                f.until_time = s(n.until_time.as_ref());
                f.until_date = s(n.until_date.as_ref());
                f.next = n.next.to_string();
            }
            NodeKind::WaitEvent(WaitEvent {
                of,
                events,
                timeout,
                on,
            }) => {
                f.of = of.to_string();
                f.timeout = s(timeout.as_ref());
                f.timeout_target = on.get(TIMEOUT_KEY).map(|n| n.to_string()).unwrap_or_default();
                f.on = events
                    .iter()
                    .map(|e| OnRow {
                        event: e.clone(),
                        target: on.get(e.as_str()).map(|n| n.to_string()).unwrap_or_default(),
                        ..Default::default()
                    })
                    .collect();
            }
            NodeKind::Branch(b) => {
                f.condition = ConditionForm::from_condition(Some(&b.condition));
                f.then = b.then.to_string();
                f.otherwise = b.otherwise.to_string();
            }
            NodeKind::End => {}
        }
        let original = serde_json::to_value(node).unwrap_or(Value::Null);
        if f.to_json().ok() == Some(original.clone()) {
            f
        } else {
            StepForm {
                id: id.to_string(),
                kind: "json".into(),
                json: pretty(&original),
                ..Default::default()
            }
        }
    }

    /// The node JSON of the step, or what to fix.
    pub fn to_json(&self) -> Result<Value, String> {
        let mut o = Map::new();
        let opt = |o: &mut Map<String, Value>, key: &str, value: &str| {
            if !value.trim().is_empty() {
                o.insert(key.into(), value.trim().into());
            }
        };
        if self.kind == "json" {
            return match serde_json::from_str::<Value>(&self.json) {
                Ok(Value::Object(node)) => Ok(Value::Object(node)),
                Ok(_) => Err("the step's JSON must be an object with a `type`".into()),
                Err(e) => Err(format!("the step's JSON does not read: {e}")),
            };
        }
        o.insert("type".into(), self.kind.clone().into());
        let send = self.kind.starts_with("send_");
        if send {
            opt(&mut o, "channel_id", &self.channel_id);
        }
        match self.kind.as_str() {
            "send_sms" => {
                o.insert("from".into(), self.from.trim().into());
                o.insert("text".into(), self.text.clone().into());
                opt(&mut o, "campaign", &self.campaign);
                if self.shorten_urls {
                    o.insert("shorten_urls".into(), true.into());
                }
            }
            "send_whatsapp_template" => {
                let mut template = Map::new();
                template.insert("name".into(), self.template_name.trim().into());
                template.insert("language".into(), self.template_language.trim().into());
                let params = self.template_params.trim();
                // JSON when it reads as an object or a list; else lines
                // (a line may well start with a `{{token}}`).
                let as_json = serde_json::from_str::<Value>(params)
                    .ok()
                    .filter(|v| v.is_object() || v.is_array());
                if let Some(v) = as_json {
                    template.insert("parameters".into(), v);
                } else if !params.is_empty() {
                    let lines: Vec<Value> = self
                        .template_params
                        .lines()
                        .map(|l| l.trim_end_matches('\r').into())
                        .collect();
                    template.insert("parameters".into(), json!({ "body": lines }));
                }
                o.insert("template".into(), Value::Object(template));
                opt(&mut o, "campaign", &self.campaign);
            }
            "send_whatsapp_text" => {
                o.insert("text".into(), self.text.clone().into());
                opt(&mut o, "campaign", &self.campaign);
            }
            "send_voice" | "send_ivr" => {
                let ivr = self.kind == "send_ivr";
                let (name, key) = if ivr { ("ivr", "ivr") } else { ("voice", "voice") };
                // The one parser of calls, each refusal naming its field.
                self.voice
                    .check(ivr)
                    .map_err(|(field, message)| format!("`{name}.{field}`: {message}"))?;
                o.insert(key.into(), self.voice.to_value(ivr));
                opt(&mut o, "campaign", &self.campaign);
            }
            "delay" => {
                opt(&mut o, "duration", &self.duration);
                opt(&mut o, "until_time", &self.until_time);
                opt(&mut o, "until_date", &self.until_date);
            }
            "wait_event" => {
                o.insert("of".into(), self.of.clone().into());
                let rows: Vec<&OnRow> = self.on.iter().filter(|r| !r.event.trim().is_empty()).collect();
                o.insert(
                    "events".into(),
                    rows.iter()
                        .map(|r| Value::from(r.event.trim()))
                        .collect::<Vec<_>>()
                        .into(),
                );
                opt(&mut o, "timeout", &self.timeout);
                let mut on = Map::new();
                for r in rows.iter().filter(|r| !r.target.is_empty()) {
                    on.insert(r.event.trim().into(), r.target.clone().into());
                }
                if !self.timeout_target.is_empty() {
                    on.insert(TIMEOUT_KEY.into(), self.timeout_target.clone().into());
                }
                o.insert("on".into(), Value::Object(on));
            }
            "branch" => {
                if let Some(c) = self.condition.to_json()? {
                    o.insert("condition".into(), c);
                }
                opt(&mut o, "then", &self.then);
                opt(&mut o, "else", &self.otherwise);
            }
            "set_property" => {
                o.insert("property".into(), self.property.trim().into());
                o.insert(
                    "value".into(),
                    if self.value.is_empty() {
                        Value::Null
                    } else {
                        self.value.clone().into()
                    },
                );
            }
            "set_subscription" => {
                o.insert("channel".into(), self.sub_channel.clone().into());
                o.insert("status".into(), self.sub_status.clone().into());
                opt(&mut o, "legal_basis", &self.legal_basis);
                opt(&mut o, "explanation", &self.explanation);
            }
            _ => {}
        }
        if !matches!(self.kind.as_str(), "end" | "branch" | "wait_event") {
            opt(&mut o, "next", &self.next);
        }
        if send {
            opt(&mut o, "on_failure", &self.on_failure);
            if self.defer_on_limit {
                o.insert("defer_on_limit".into(), true.into());
            }
        }
        if !self.max_visits.trim().is_empty() {
            let n: u32 = self
                .max_visits
                .trim()
                .parse()
                .map_err(|_| "max visits is a whole number".to_string())?;
            o.insert("max_visits".into(), n.into());
        }
        Ok(Value::Object(o))
    }
}
