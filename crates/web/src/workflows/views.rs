//! The JSON shapes of API.md "Workflows".

use recado_app::workflows::reports::Performance;
use recado_app::AppState;
use recado_core::clock::to_rfc3339;
use recado_store::workflows::{LogLine, RunRow, StatusCounts, WorkflowRecord};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct WorkflowView {
    pub id: String,
    pub name: String,
    /// `draft`, `active` or `paused`.
    pub status: String,
    /// The latest published version; null before the first publish.
    pub version: Option<i64>,
    #[schema(value_type = Object)]
    pub draft: Value,
    /// Where the webhook trigger is called; null without one.
    pub webhook_url: Option<String>,
    /// Shown once, when the webhook trigger is created.
    pub webhook_secret: Option<String>,
    pub enrolled: i64,
    pub active: i64,
    pub completed: i64,
    pub exited: i64,
    pub failed: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl WorkflowView {
    pub fn of(state: &AppState, w: WorkflowRecord, counts: &StatusCounts, secret: Option<String>) -> WorkflowView {
        let webhook_url = w
            .webhook_secret
            .as_ref()
            .map(|_| format!("{}/hooks/workflows/{}", state.settings.public_url, w.id));
        WorkflowView {
            draft: serde_json::from_str(&w.draft).unwrap_or(Value::Null),
            status: w.status.as_str().to_string(),
            version: w.version,
            webhook_url,
            webhook_secret: secret,
            enrolled: w.enrolled,
            active: counts.active,
            completed: counts.completed,
            exited: counts.exited,
            failed: counts.failed,
            created_at: to_rfc3339(w.created_at),
            updated_at: to_rfc3339(w.updated_at),
            id: w.id,
            name: w.name,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct RunView {
    pub id: String,
    pub contact_id: String,
    pub version: i64,
    pub status: String,
    pub node_id: String,
    pub entered_at: String,
    pub ended_at: Option<String>,
    pub end_reason: Option<String>,
}

impl From<RunRow> for RunView {
    fn from(r: RunRow) -> Self {
        RunView {
            status: match r.status.as_str() {
                "ready" | "running" | "waiting" => "active".into(),
                other => other.into(),
            },
            entered_at: to_rfc3339(r.entered_at),
            ended_at: r.ended_at.map(to_rfc3339),
            id: r.id,
            contact_id: r.contact_id,
            version: r.version,
            node_id: r.node_id,
            end_reason: r.end_reason,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct LogView {
    pub at: String,
    pub run_id: String,
    pub contact_id: String,
    pub version: i64,
    pub node_id: String,
    pub action_type: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub message_id: Option<String>,
}

impl From<LogLine> for LogView {
    fn from(l: LogLine) -> Self {
        LogView {
            at: to_rfc3339(l.at),
            outcome: l.outcome.as_str().into(),
            run_id: l.run_id,
            contact_id: l.contact_id,
            version: l.version,
            node_id: l.node_id,
            action_type: l.action_type,
            reason: l.reason,
            message_id: l.message_id,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct NodeView {
    pub version: i64,
    pub node_id: String,
    #[serde(rename = "type")]
    pub node_type: String,
    pub attempts: i64,
    pub successes: i64,
    pub failures: BTreeMap<String, i64>,
    pub waiting: i64,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct VersionView {
    pub version: i64,
    pub published_at: String,
    pub active: i64,
    pub completed: i64,
    pub exited: i64,
    pub errors: i64,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct PerformanceView {
    pub enrolled: i64,
    pub active: i64,
    pub completed: i64,
    pub exited: i64,
    pub errors: i64,
    pub versions: Vec<VersionView>,
    pub nodes: Vec<NodeView>,
}

impl From<Performance> for PerformanceView {
    fn from(p: Performance) -> Self {
        PerformanceView {
            enrolled: p.enrolled,
            active: p.counts.active,
            completed: p.counts.completed,
            exited: p.counts.exited,
            errors: p.counts.failed,
            versions: p
                .versions
                .into_iter()
                .map(|v| VersionView {
                    version: v.version,
                    published_at: to_rfc3339(v.published_at),
                    active: v.counts.active,
                    completed: v.counts.completed,
                    exited: v.counts.exited,
                    errors: v.counts.failed,
                })
                .collect(),
            nodes: p
                .nodes
                .into_iter()
                .map(|n| NodeView {
                    version: n.version,
                    node_id: n.node_id,
                    node_type: n.node_type,
                    attempts: n.attempts,
                    successes: n.successes,
                    failures: n.failures,
                    waiting: n.waiting,
                })
                .collect(),
        }
    }
}
