//! A [`Condition`] compiled to a SQL boolean expression over the contact row
//! `c` (`contacts c`), with its parameters. The expression answers exactly
//! what `Condition::matches` answers for the same contact at the same `now`
//! (the store's conformance test checks it against random conditions):
//!
//! * property leaves look at `contact_property_values`, whose columns hold
//!   the property's readings made by the evaluator's own functions (see
//!   [`crate::property_values`]); a contact without a row for the property
//!   does not know it. `neq` and `is_unknown` are the negations of `eq` and
//!   `is_known`, as in the evaluator. `contains` looks for the lowercased
//!   text with the dialect's substring function (no pattern characters).
//! * subscription leaves read `subscriptions`; a missing row, or one whose
//!   status the evaluator would not read, counts as `not_specified`.
//! * event leaves look for a `timeline_events` row of the event's type (of
//!   the campaign, sender and message when given) within `since..=until`,
//!   resolved at `now`. Events of a workflow's own send (`of`) belong to a
//!   run, not to the contact's timeline, and are refused.
//!
//! Every leaf is a correlated `EXISTS` probing an index by the contact
//! (`contact_property_values`' and `subscriptions`' primary keys,
//! `timeline_contact_type`), so a count reads each contact once and each
//! leaf costs one index look-up per contact, whatever the workspace holds.

use crate::{Dialect, Result, StoreError};
use recado_core::consent::SubscriptionStatus;
use recado_flow::condition::{
    property_text, Condition, EventScope, EventTest, Leaf, Literal, PropertyOp, PropertyTest, SubscriptionTest,
};

/// The most leaves a condition compiled to SQL may have (each takes a few
/// parameters and a subquery).
pub const MAX_LEAVES: usize = 200;

/// A parameter of a compiled condition, bound in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Bind {
    Text(String),
    Real(f64),
    Int(i64),
    Bool(bool),
}

/// A condition as SQL: `sql` is a boolean expression over `contacts c` whose
/// placeholders are numbered from the `first_placeholder` given to
/// [`compile`], one per entry of `binds`.
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    pub sql: String,
    pub binds: Vec<Bind>,
}

/// Compiles `condition` as evaluated at `now` (relative times resolve
/// against it). Placeholders start at `$first_placeholder`. Refuses (as
/// [`StoreError::Unsupported`]) a leaf about a workflow's own send and a
/// condition of more than [`MAX_LEAVES`] leaves.
pub fn compile(condition: &Condition, now: i64, dialect: Dialect, first_placeholder: usize) -> Result<Compiled> {
    let leaves = condition.leaves().len();
    if leaves > MAX_LEAVES {
        return Err(StoreError::Unsupported(format!(
            "a condition of {leaves} conditions; at most {MAX_LEAVES} are allowed"
        )));
    }
    let mut compiler = Compiler {
        dialect,
        now,
        next: first_placeholder,
        binds: Vec::new(),
    };
    let sql = compiler.node(condition)?;
    Ok(Compiled {
        // `IS TRUE` changes no answer (no part of the expression is ever
        // NULL) but keeps PostgreSQL from turning top-level `EXISTS` into
        // joins: without statistics a side table looks tiny, and the join
        // would then be driven by a scan of the whole table (every
        // workspace's rows) instead of one look-up per contact.
        sql: format!("({sql}) IS TRUE"),
        binds: compiler.binds,
    })
}

struct Compiler {
    dialect: Dialect,
    now: i64,
    next: usize,
    binds: Vec<Bind>,
}

const TRUE: &str = "(1 = 1)";
const FALSE: &str = "(1 = 0)";

impl Compiler {
    /// A placeholder for `value`.
    fn param(&mut self, value: Bind) -> String {
        let placeholder = format!("${}", self.next);
        self.next += 1;
        self.binds.push(value);
        placeholder
    }

    fn node(&mut self, condition: &Condition) -> Result<String> {
        match condition {
            // An empty group holds as `Iterator::all`/`any` say: all of
            // nothing holds, any of nothing does not.
            Condition::All(items) => self.group(items, " AND ", TRUE),
            Condition::Any(items) => self.group(items, " OR ", FALSE),
            Condition::Leaf(Leaf::Property(test)) => Ok(self.property(test)),
            Condition::Leaf(Leaf::Subscription(test)) => Ok(self.subscription(test)),
            Condition::Leaf(Leaf::Event(test)) => self.event(test),
        }
    }

    fn group(&mut self, items: &[Condition], joiner: &str, empty: &str) -> Result<String> {
        if items.is_empty() {
            return Ok(empty.to_string());
        }
        let parts = items.iter().map(|c| self.node(c)).collect::<Result<Vec<_>>>()?;
        Ok(format!("({})", parts.join(joiner)))
    }

    fn property(&mut self, test: &PropertyTest) -> String {
        let key = self.param(Bind::Text(test.property.clone()));
        // The test on the property's row, and whether the leaf is its negation.
        let (row_test, negated) = match &test.op {
            PropertyOp::Eq(literal) => (Some(self.equals(literal)), false),
            PropertyOp::Neq(literal) => (Some(self.equals(literal)), true),
            PropertyOp::IsKnown => (None, false),
            PropertyOp::IsUnknown => (None, true),
            PropertyOp::Contains(part) => {
                let needle = self.param(Bind::Text(property_text(part)));
                (Some(self.dialect.contains_text("v.text_lower", &needle)), false)
            }
            PropertyOp::Gt(bound) => (Some(self.number(bound.as_f64(), ">")), false),
            PropertyOp::Lt(bound) => (Some(self.number(bound.as_f64(), "<")), false),
            PropertyOp::Before(at) => {
                let at = self.param(Bind::Int(at.resolve(self.now)));
                (Some(format!("v.at_ms < {at}")), false)
            }
            PropertyOp::After(at) => {
                let at = self.param(Bind::Int(at.resolve(self.now)));
                (Some(format!("v.at_ms > {at}")), false)
            }
        };
        let row_test = row_test.map(|t| format!(" AND {t}")).unwrap_or_default();
        let exists = format!(
            "EXISTS (SELECT 1 FROM contact_property_values v WHERE v.contact_id = c.id AND v.property = {key}{row_test})"
        );
        negate_if(negated, exists)
    }

    /// The row test of `eq` (a row holds the property, so it is known).
    fn equals(&mut self, literal: &Literal) -> String {
        match literal {
            Literal::Text(text) => {
                let text = self.param(Bind::Text(property_text(text)));
                format!("v.text_lower = {text}")
            }
            Literal::Number(number) => self.number(number.as_f64(), "="),
            Literal::Bool(flag) => {
                let flag = self.param(Bind::Bool(*flag));
                format!("v.flag = {flag}")
            }
        }
    }

    /// A comparison of the property's number with `bound`; a bound that is
    /// not a number compares with nothing.
    fn number(&mut self, bound: Option<f64>, op: &str) -> String {
        match bound {
            Some(bound) => {
                let bound = self.param(Bind::Real(bound));
                format!("v.num {op} {bound}")
            }
            None => FALSE.to_string(),
        }
    }

    fn subscription(&mut self, test: &SubscriptionTest) -> String {
        let channel = self.param(Bind::Text(test.channel.as_str().to_string()));
        let has = |status: &str| {
            format!(
                "EXISTS (SELECT 1 FROM subscriptions s WHERE s.contact_id = c.id AND s.channel = {channel} AND s.status {status})"
            )
        };
        let is_status = match test.status {
            SubscriptionStatus::Subscribed | SubscriptionStatus::Unsubscribed => {
                let status = self.param(Bind::Text(test.status.as_str().to_string()));
                has(&format!("= {status}"))
            }
            // No row, or a row the evaluator reads as not specified: no row
            // with one of the statuses that are set.
            SubscriptionStatus::NotSpecified => {
                let set: Vec<String> = [SubscriptionStatus::Subscribed, SubscriptionStatus::Unsubscribed]
                    .iter()
                    .map(|s| self.param(Bind::Text(s.as_str().to_string())))
                    .collect();
                format!("NOT {}", has(&format!("IN ({})", set.join(", "))))
            }
        };
        negate_if(!test.equal, is_status)
    }

    fn event(&mut self, test: &EventTest) -> Result<String> {
        let query = test.query(self.now);
        let event = self.param(Bind::Text(query.event.clone()));
        let mut sql = format!("EXISTS (SELECT 1 FROM timeline_events t WHERE t.contact_id = c.id AND t.type = {event}");
        match &query.scope {
            EventScope::Campaign(campaign) => {
                let campaign = self.param(Bind::Text(campaign.clone()));
                sql.push_str(&format!(" AND t.campaign = {campaign}"));
            }
            EventScope::AnyMessage => {}
            EventScope::Send(node) => {
                return Err(StoreError::Unsupported(format!(
                    "events of the send `{}` belong to a workflow run; only campaign or any-message events are stored per contact",
                    node.as_str()
                )))
            }
        }
        for (column, value) in [("sender", &query.sender), ("message_id", &query.message_id)] {
            if let Some(value) = value {
                let value = self.param(Bind::Text(value.clone()));
                sql.push_str(&format!(" AND t.{column} = {value}"));
            }
        }
        for (op, bound) in [(">=", query.since), ("<=", query.until)] {
            if let Some(bound) = bound {
                let bound = self.param(Bind::Int(bound));
                sql.push_str(&format!(" AND t.at {op} {bound}"));
            }
        }
        sql.push(')');
        Ok(negate_if(!test.happened, sql))
    }
}

fn negate_if(negated: bool, sql: String) -> String {
    if negated {
        format!("NOT {sql}")
    } else {
        sql
    }
}

/// Binds a compiled condition's parameters, in order, to an sqlx query.
macro_rules! bind_compiled {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                $crate::segments::sql::Bind::Text(text) => query.bind(text.as_str()),
                $crate::segments::sql::Bind::Real(number) => query.bind(*number),
                $crate::segments::sql::Bind::Int(number) => query.bind(*number),
                $crate::segments::sql::Bind::Bool(flag) => query.bind(*flag),
            };
        }
        query
    }};
}
pub(crate) use bind_compiled;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BackendKind;
    use serde_json::json;

    fn compiled(condition: serde_json::Value, kind: BackendKind) -> Compiled {
        compile(&Condition::parse(&condition).unwrap(), 1_000, Dialect(kind), 2).unwrap()
    }

    #[test]
    fn placeholders_are_numbered_from_the_first_one_in_bind_order() {
        let c = compiled(
            json!({"all": [{"property": "city", "op": "eq", "value": "Lisboa"},
                           {"subscription": "sms", "op": "eq", "value": "subscribed"}]}),
            BackendKind::Sqlite,
        );
        assert_eq!(
            c.binds,
            vec![
                Bind::Text("city".into()),
                Bind::Text("lisboa".into()),
                Bind::Text("sms".into()),
                Bind::Text("subscribed".into()),
            ]
        );
        for n in 2..=5 {
            assert!(c.sql.contains(&format!("${n}")), "{}", c.sql);
        }
        assert!(!c.sql.contains("$6") && !c.sql.contains("$1 "), "{}", c.sql);
    }

    #[test]
    fn contains_uses_the_dialects_substring_function_on_lowercase_text() {
        let leaf = json!({"property": "city", "op": "contains", "value": "ÉV%"});
        let sqlite = compiled(leaf.clone(), BackendKind::Sqlite);
        assert!(sqlite.sql.contains("instr(v.text_lower, $3) > 0"), "{}", sqlite.sql);
        assert_eq!(sqlite.binds[1], Bind::Text("év%".into()));
        let postgres = compiled(leaf, BackendKind::Postgres);
        assert!(
            postgres.sql.contains("strpos(v.text_lower, $3) > 0"),
            "{}",
            postgres.sql
        );
    }

    #[test]
    fn relative_times_are_resolved_at_now() {
        let c = compiled(
            json!({"event": "SMS_CLICKED", "campaign": "BF", "since": "-PT1S", "op": "is_known"}),
            BackendKind::Sqlite,
        );
        assert_eq!(c.binds.last(), Some(&Bind::Int(0)));
    }

    #[test]
    fn events_of_a_workflow_send_are_refused() {
        let condition = Condition::parse(&json!({"event": "SMS_CLICKED", "of": "n1", "op": "is_known"})).unwrap();
        let refused = compile(&condition, 0, Dialect(BackendKind::Sqlite), 1);
        assert!(matches!(refused, Err(StoreError::Unsupported(_))), "{refused:?}");
    }

    #[test]
    fn conditions_with_too_many_leaves_are_refused() {
        let leaf = json!({"property": "city", "op": "is_known"});
        let many = json!({ "any": vec![leaf; MAX_LEAVES + 1] });
        let refused = compile(&Condition::parse(&many).unwrap(), 0, Dialect(BackendKind::Sqlite), 1);
        assert!(matches!(refused, Err(StoreError::Unsupported(_))), "{refused:?}");
    }
}
