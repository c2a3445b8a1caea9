//! What the API shows of a workflow's work: performance by version and
//! node, and a simulation for one contact in virtual time.

use super::engine::conditions_of;
use super::sends::{fill, Recipient};
use super::service::{current_definition, get};
use crate::segments::ContactFacts;
use crate::{AppError, AppResult, AppState};
use recado_flow::simulate::{simulate, SimEvent, SimStep};
use recado_flow::{Definition, NodeId, SendAction, SendOutcome};
use recado_store::workflows::StatusCounts;
use serde_json::Value;
use std::collections::BTreeMap;

pub struct NodePerformance {
    pub version: i64,
    pub node_id: String,
    pub node_type: String,
    pub attempts: i64,
    pub successes: i64,
    pub failures: BTreeMap<String, i64>,
    pub waiting: i64,
}

pub struct VersionPerformance {
    pub version: i64,
    pub published_at: i64,
    pub counts: StatusCounts,
}

pub struct Performance {
    pub enrolled: i64,
    pub counts: StatusCounts,
    pub versions: Vec<VersionPerformance>,
    pub nodes: Vec<NodePerformance>,
}

/// Counts kept as runs move (never computed from the log): runs by status
/// per version, each node's attempts, successes and failures by reason, and
/// the runs waiting at it.
pub async fn performance(state: &AppState, workspace_id: &str, id: &str) -> AppResult<Performance> {
    let workflow = get(state, workspace_id, id).await?;
    let mut counts = StatusCounts::default();
    let mut by_version: BTreeMap<i64, StatusCounts> = BTreeMap::new();
    for c in state.store.run_counts(id).await? {
        counts.add(c.status, c.n);
        by_version.entry(c.version).or_default().add(c.status, c.n);
    }
    let published = state.store.workflow_versions(id).await?;
    let versions = published
        .iter()
        .map(|(version, published_at)| VersionPerformance {
            version: *version,
            published_at: *published_at,
            counts: by_version.remove(version).unwrap_or_default(),
        })
        .collect();
    let mut definitions: BTreeMap<i64, Definition> = BTreeMap::new();
    for (version, _) in &published {
        let text = state.store.workflow_version(id, *version).await?;
        let value: Value = serde_json::from_str(&text).map_err(AppError::internal)?;
        definitions.insert(*version, Definition::parse(&value).map_err(AppError::internal)?);
    }
    let mut nodes: BTreeMap<(i64, String), NodePerformance> = BTreeMap::new();
    for (version, def) in &definitions {
        for (node_id, node) in &def.nodes {
            nodes.insert(
                (*version, node_id.as_str().to_string()),
                NodePerformance {
                    version: *version,
                    node_id: node_id.as_str().to_string(),
                    node_type: node.type_name().to_string(),
                    attempts: 0,
                    successes: 0,
                    failures: BTreeMap::new(),
                    waiting: 0,
                },
            );
        }
    }
    for stat in state.store.node_stats(id).await? {
        let Some(node) = nodes.get_mut(&(stat.version, stat.node_id.clone())) else {
            continue;
        };
        use recado_flow::Outcome::*;
        match stat.outcome {
            Ok => {
                node.attempts += stat.n;
                node.successes += stat.n;
            }
            Failed => {
                node.attempts += stat.n;
                *node.failures.entry(stat.reason.clone()).or_default() += stat.n;
            }
            Skipped | Waited | Resumed | TimedOut | Exited => {}
        }
    }
    for (version, node_id, n) in state.store.runs_at_nodes(id).await? {
        if let Some(node) = nodes.get_mut(&(version, node_id)) {
            node.waiting += n;
        }
    }
    Ok(Performance {
        enrolled: workflow.enrolled,
        counts,
        versions,
        nodes: nodes.into_values().collect(),
    })
}

/// A simulated step, with what a send would have sent and cost.
pub struct SimulatedStep {
    pub step: SimStep,
    pub would_send: Option<Value>,
}

/// Runs the workflow's published version (else its draft) for one contact
/// in virtual time: no send, no write. SMS show their text and parts.
pub async fn simulate_for(
    state: &AppState,
    workspace_id: &str,
    id: &str,
    contact_id: &str,
    events: &[SimEvent],
) -> AppResult<Vec<SimulatedStep>> {
    let workflow = get(state, workspace_id, id).await?;
    let def = match current_definition(state, &workflow).await? {
        Some((_, def)) => def,
        None => {
            let value: Value = serde_json::from_str(&workflow.draft).map_err(AppError::internal)?;
            Definition::parse(&value).map_err(AppError::internal)?
        }
    };
    let now = state.clock.now_ms();
    let facts = ContactFacts::load(state, workspace_id, contact_id, &conditions_of(&def), now).await?;
    let contact = state.store.contact(workspace_id, contact_id).await?;
    let ws = state.store.workspace(workspace_id).await?;
    let tz: chrono_tz::Tz = ws.timezone.parse().unwrap_or(chrono_tz::UTC);
    let steps = simulate(&def, &facts, tz, now, events, |_| SendOutcome::Accepted {
        message_id: "simulated".into(),
    });
    let data = serde_json::Map::new();
    let to = Recipient {
        workspace: &ws,
        contact: &contact,
        trigger_data: &data,
        subscriptions: None,
        source: crate::whatsapp::send::SendSource::Workflow,
    };
    Ok(steps
        .into_iter()
        .map(|step| {
            let would_send = step.would_send.as_ref().map(|action| describe(action, &to));
            SimulatedStep { step, would_send }
        })
        .collect())
}

/// What a send would carry: the filled text and, for SMS, its parts and
/// encoding; for WhatsApp, that it may open a counted conversation.
fn describe(action: &SendAction, to: &Recipient<'_>) -> Value {
    match action {
        SendAction::Sms(m) => {
            let text = fill(&m.text, to);
            let analysis = recado_sms::analyze(&text, &recado_sms::AnalyzeOptions::default()).ok();
            serde_json::json!({
                "channel": "sms", "from": m.from, "text": text,
                "segments": analysis.as_ref().map(|a| a.segments),
                "encoding": analysis.as_ref().map(|a| a.encoding.as_str()),
            })
        }
        SendAction::WhatsappTemplate(m) => serde_json::json!({
            "channel": "whatsapp", "template": {"name": m.template.name, "language": m.template.language},
            "conversations": 1,
        }),
        SendAction::WhatsappText(m) => serde_json::json!({
            "channel": "whatsapp", "text": fill(&m.text, to), "conversations": 0,
        }),
        SendAction::Voice(m) => describe_call(crate::voice::send::CallContent::parse_message(&m.voice), to),
        SendAction::Ivr(m) => describe_call(crate::voice::send::CallContent::parse_ivr(&m.ivr), to),
    }
}

/// A call as the contact would hear it: the opening narration with the
/// contact's tokens filled.
fn describe_call(content: AppResult<crate::voice::send::CallContent>, to: &Recipient<'_>) -> Value {
    let Ok(content) = content else {
        return serde_json::json!({"channel": "voice"});
    };
    let heard = crate::voice::send::personalised(&content, &to.contact.properties);
    serde_json::json!({"channel": "voice", "call": heard.kind(), "definition": heard.to_json()})
}

/// Reads `{"after": "PT2H", "type": "SMS_CLICKED", "of": "n1"}` events.
pub fn sim_event(after: &str, event: &str, of: &str) -> AppResult<SimEvent> {
    let duration = recado_flow::duration::IsoDuration::parse(after)
        .map_err(|e| AppError::invalid("invalid_event", "events.after", e.to_string()))?;
    Ok(SimEvent {
        after_ms: duration.as_millis(),
        event: event.to_string(),
        of: NodeId::new(of),
    })
}
