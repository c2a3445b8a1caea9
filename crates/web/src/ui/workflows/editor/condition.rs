//! The condition builder's rows: a condition shown as one group of leaves,
//! or as its JSON when the rows cannot say it exactly.

use super::*;

#[derive(Clone, Debug, Default)]
pub struct CondRow {
    pub kind: String,
    pub subject: String,
    pub of: String,
    pub op: String,
    pub value: String,
    pub kind_opts: Vec<Opt>,
    pub of_opts: Vec<Opt>,
    pub op_opts: Vec<Opt>,
}

#[derive(Clone, Debug, Default)]
pub struct ConditionForm {
    /// Where its fields are named (`exit`, `s2.cond`), set before rendering.
    pub prefix: String,
    pub any: bool,
    pub rows: Vec<CondRow>,
    /// The condition as JSON, when rows cannot show it (wins over rows).
    pub json: String,
}

fn leaf_row(leaf: &Leaf) -> CondRow {
    let value = Condition::Leaf(leaf.clone()).to_json();
    let text = |key: &str| match value.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    match leaf {
        Leaf::Property(p) => CondRow {
            kind: "property".into(),
            subject: p.property.clone(),
            op: text("op"),
            value: text("value"),
            ..Default::default()
        },
        Leaf::Subscription(t) => CondRow {
            kind: "subscription".into(),
            subject: t.channel.as_str().into(),
            op: text("op"),
            value: text("value"),
            ..Default::default()
        },
        Leaf::Event(e) => CondRow {
            kind: "event".into(),
            subject: e.event.clone(),
            of: match &e.scope {
                EventScope::Send(node) => node.to_string(),
                _ => String::new(),
            },
            op: text("op"),
            ..Default::default()
        },
    }
}

impl ConditionForm {
    pub fn from_condition(c: Option<&Condition>) -> ConditionForm {
        let Some(c) = c else {
            return ConditionForm::default();
        };
        let form = match c {
            Condition::Leaf(leaf) => ConditionForm {
                rows: vec![leaf_row(leaf)],
                ..Default::default()
            },
            Condition::All(items) | Condition::Any(items) => ConditionForm {
                any: matches!(c, Condition::Any(_)),
                rows: items
                    .iter()
                    .filter_map(|i| match i {
                        Condition::Leaf(leaf) => Some(leaf_row(leaf)),
                        _ => None,
                    })
                    .collect(),
                ..Default::default()
            },
        };
        // Shown as rows only when they say exactly the same.
        if form.to_json().ok().flatten().as_ref() == Some(&c.to_json()) {
            form
        } else {
            ConditionForm {
                json: pretty(&c.to_json()),
                ..Default::default()
            }
        }
    }

    /// The condition the rows (or the JSON) say; None when empty.
    pub fn to_json(&self) -> Result<Option<Value>, String> {
        if !self.json.trim().is_empty() {
            return serde_json::from_str(&self.json)
                .map(Some)
                .map_err(|e| format!("the condition JSON does not read: {e}"));
        }
        let leaves: Vec<Value> = self
            .rows
            .iter()
            .filter(|r| !r.kind.is_empty() && !r.subject.trim().is_empty())
            .map(CondRow::to_json)
            .collect();
        Ok(match leaves.len() {
            0 => None,
            1 => leaves.into_iter().next(),
            _ => Some(json!({ if self.any { "any" } else { "all" }: leaves })),
        })
    }
}

impl CondRow {
    pub(super) fn to_json(&self) -> Value {
        let subject = self.subject.trim();
        match self.kind.as_str() {
            "subscription" => json!({"subscription": subject, "op": self.op, "value": self.value.trim()}),
            "event" => {
                let mut o = Map::new();
                o.insert("event".into(), subject.into());
                if !self.of.is_empty() {
                    o.insert("of".into(), self.of.clone().into());
                }
                o.insert("op".into(), self.op.clone().into());
                Value::Object(o)
            }
            _ => {
                let mut o = Map::new();
                o.insert("property".into(), subject.into());
                o.insert("op".into(), self.op.clone().into());
                if VALUE_OPS.contains(&self.op.as_str()) {
                    let value = if matches!(self.op.as_str(), "gt" | "lt") {
                        serde_json::from_str::<serde_json::Number>(self.value.trim())
                            .map(Value::Number)
                            .unwrap_or_else(|_| self.value.clone().into())
                    } else {
                        Value::String(self.value.clone())
                    };
                    o.insert("value".into(), value);
                }
                Value::Object(o)
            }
        }
    }
}
