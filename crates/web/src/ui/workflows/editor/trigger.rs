//! One trigger as form fields, or as its JSON.

use super::*;

#[derive(Clone, Debug, Default)]
pub struct TriggerForm {
    pub kind: String,
    pub event: String,
    pub keyword: String,
    pub segment_id: String,
    pub at: String,
    pub days: Vec<String>,
    pub match_phone: bool,
    pub match_email: bool,
    pub create_contact: bool,
    pub json: String,
    pub error: Option<String>,
    pub type_opts: Vec<Opt>,
    pub segment_opts: Vec<Opt>,
    pub day_opts: Vec<Opt>,
}

impl TriggerForm {
    pub(super) fn from_trigger(t: &Trigger) -> TriggerForm {
        let form = match t {
            Trigger::Manual(_) => TriggerForm {
                kind: "manual".into(),
                ..Default::default()
            },
            Trigger::Event(e) => TriggerForm {
                kind: "event".into(),
                event: e.event.clone(),
                keyword: e.keyword.clone().unwrap_or_default(),
                ..Default::default()
            },
            Trigger::Segment(sg) => TriggerForm {
                kind: "segment".into(),
                segment_id: sg.segment_id.clone(),
                ..Default::default()
            },
            Trigger::Schedule(sc) => TriggerForm {
                kind: "schedule".into(),
                at: sc.at.clone(),
                days: sc.days.clone(),
                segment_id: sc.segment_id.clone().unwrap_or_default(),
                ..Default::default()
            },
            Trigger::Webhook(w) => TriggerForm {
                kind: "webhook".into(),
                match_phone: w.match_on.contains(&ContactMatch::Phone),
                match_email: w.match_on.contains(&ContactMatch::Email),
                create_contact: w.create_contact,
                ..Default::default()
            },
        };
        let original = serde_json::to_value(t).unwrap_or(Value::Null);
        if form.to_json().ok() == Some(original.clone()) {
            form
        } else {
            TriggerForm {
                kind: "json".into(),
                json: pretty(&original),
                ..Default::default()
            }
        }
    }

    pub(super) fn to_json(&self) -> Result<Value, String> {
        Ok(match self.kind.as_str() {
            "manual" => json!({"type": "manual"}),
            "event" => {
                let mut o = Map::new();
                o.insert("type".into(), "event".into());
                o.insert("event".into(), self.event.trim().into());
                if !self.keyword.trim().is_empty() {
                    o.insert("keyword".into(), self.keyword.trim().into());
                }
                Value::Object(o)
            }
            "segment" => json!({"type": "segment", "segment_id": self.segment_id}),
            "schedule" => {
                let mut o = Map::new();
                o.insert("type".into(), "schedule".into());
                o.insert("at".into(), self.at.trim().into());
                if !self.days.is_empty() {
                    o.insert("days".into(), self.days.clone().into());
                }
                if !self.segment_id.is_empty() {
                    o.insert("segment_id".into(), self.segment_id.clone().into());
                }
                Value::Object(o)
            }
            "webhook" => {
                let mut matches = Vec::new();
                if self.match_phone {
                    matches.push("phone");
                }
                if self.match_email {
                    matches.push("email");
                }
                json!({"type": "webhook", "match": matches, "create_contact": self.create_contact})
            }
            _ => serde_json::from_str(&self.json).map_err(|e| format!("the trigger JSON does not read: {e}"))?,
        })
    }
}
