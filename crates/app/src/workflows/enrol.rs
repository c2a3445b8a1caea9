//! How contacts enter a workflow: by hand (API, contact page), through the
//! signed webhook, an event trigger, a segment (page by page), a schedule.
//! Every path ends in `Store::enrol`, which applies the re-enrolment rule
//! and keeps one active run per contact.

use super::service::{current_definition, enrol_segment_later, get, webhook_secret};
use crate::segments::ContactFacts;
use crate::{AppError, AppResult, AppState};
use hmac::{Hmac, Mac};
use recado_core::consent::{ChangeRequest, ConsentSource};
use recado_core::jobs::{Task, WorkflowChange};
use recado_flow::definition::{ContactMatch, Reenrolment, Trigger};
use recado_flow::events::INBOUND_EVENTS;
use recado_flow::schedule::{next_fire, parse_schedule};
use recado_flow::{Definition, WorkflowStatus};
use recado_store::jobs::NewJob;
use recado_store::workflows::{Enrolled, Enrolment, NewRun, Reenrol, SkipReason, WorkflowRecord};
use serde_json::{json, Map, Value};

/// Contacts enrolled from a segment per job.
pub const SEGMENT_PAGE: u32 = 5_000;

fn reenrol_of(def: &Definition) -> Reenrol {
    match def.settings.reenrolment {
        Reenrolment::Never => Reenrol::Never,
        Reenrolment::AfterEnd => Reenrol::AfterEnd,
        Reenrolment::Always => Reenrol::Always,
    }
}

/// Enrols contacts in the workflow's current version.
async fn enrol_in(
    state: &AppState,
    workflow: &WorkflowRecord,
    version: i64,
    def: &Definition,
    contacts: &[NewRun],
) -> AppResult<Enrolled> {
    Ok(state
        .store
        .enrol(&Enrolment {
            workspace_id: &workflow.workspace_id,
            workflow_id: &workflow.id,
            version,
            start_node: def.start.as_str(),
            reenrol: reenrol_of(def),
            now: state.clock.now_ms(),
            contacts,
        })
        .await?)
}

fn require_active(workflow: &WorkflowRecord) -> AppResult<()> {
    if workflow.status != WorkflowStatus::Active {
        return Err(AppError::conflict(
            "workflow_not_active",
            format!("the workflow is {}; activate it first", workflow.status.as_str()),
        ));
    }
    Ok(())
}

/// What a manual enrolment did.
pub struct ManualEnrolment {
    pub enrolled: Vec<(String, String)>,
    pub skipped: Vec<(String, &'static str)>,
}

/// Enrols contacts by id (API, contact page). Unknown contacts are skipped
/// with `not_found`.
pub async fn enrol_contacts(
    state: &AppState,
    workspace_id: &str,
    workflow_id: &str,
    contact_ids: &[String],
) -> AppResult<ManualEnrolment> {
    if contact_ids.len() > 1_000 {
        return Err(AppError::invalid(
            "too_many_contacts",
            "contact_ids",
            "enrol at most 1,000 contacts per call; use a segment trigger for more",
        ));
    }
    let workflow = get(state, workspace_id, workflow_id).await?;
    require_active(&workflow)?;
    let (version, def) = current_definition(state, &workflow)
        .await?
        .ok_or_else(|| AppError::conflict("workflow_not_published", "publish a version first"))?;
    let mut skipped = Vec::new();
    let mut found = Vec::new();
    for id in contact_ids {
        match state.store.contact(workspace_id, id).await {
            Ok(_) => found.push(NewRun {
                contact_id: id.clone(),
                trigger_data: None,
            }),
            Err(recado_store::StoreError::NotFound) => skipped.push((id.clone(), "not_found")),
            Err(e) => return Err(e.into()),
        }
    }
    let enrolled = enrol_in(state, &workflow, version, &def, &found).await?;
    skipped.extend(enrolled.skipped.into_iter().map(|(c, r)| (c, r.as_str())));
    Ok(ManualEnrolment {
        enrolled: enrolled.runs,
        skipped,
    })
}

/// The body of `POST /hooks/workflows/{id}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookCall {
    pub contact: WebhookContact,
    #[serde(default)]
    pub data: Map<String, Value>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WebhookContact {
    pub phone: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub properties: Map<String, Value>,
}

/// Why a webhook call enrolled no one.
pub enum WebhookRefusal {
    /// The workflow has no webhook trigger (404).
    NoWebhook,
    /// The signature does not match the secret (401).
    BadSignature,
    Other(AppError),
}

impl From<AppError> for WebhookRefusal {
    fn from(e: AppError) -> Self {
        WebhookRefusal::Other(e)
    }
}

/// A signed webhook call: the signature is checked over the raw body before
/// anything is read, the contact is matched (or created when the trigger
/// allows it) and enrolled with `data` as `{{trigger.data.x}}`.
pub async fn webhook(
    state: &AppState,
    workflow_id: &str,
    signature: Option<&str>,
    body: &[u8],
) -> Result<String, WebhookRefusal> {
    let workflow = match state.store.workflow_any(workflow_id).await {
        Ok(w) => w,
        Err(recado_store::StoreError::NotFound) => return Err(WebhookRefusal::NoWebhook),
        Err(e) => return Err(WebhookRefusal::Other(e.into())),
    };
    let Some(secret) = webhook_secret(state, &workflow)? else {
        return Err(WebhookRefusal::NoWebhook);
    };
    if !signature_matches(&secret, signature, body) {
        return Err(WebhookRefusal::BadSignature);
    }
    let Some((version, def)) = current_definition(state, &workflow).await? else {
        return Err(WebhookRefusal::Other(AppError::conflict(
            "workflow_not_active",
            "the workflow is not active",
        )));
    };
    let Some(trigger) = def.triggers.iter().find_map(|t| match t {
        Trigger::Webhook(w) => Some(w.clone()),
        _ => None,
    }) else {
        return Err(WebhookRefusal::NoWebhook);
    };
    require_active(&workflow)?;
    let call: WebhookCall = serde_json::from_slice(body)
        .map_err(|e| AppError::invalid("bad_request", "body", format!("the body does not read: {e}")))?;
    let ws = state
        .store
        .workspace(&workflow.workspace_id)
        .await
        .map_err(AppError::from)?;
    let contact_id = match_contact(state, &ws, &trigger.match_on, trigger.create_contact, &call.contact).await?;
    let enrolled = enrol_in(
        state,
        &workflow,
        version,
        &def,
        &[NewRun {
            contact_id: contact_id.clone(),
            trigger_data: Some(Value::Object(call.data).to_string()),
        }],
    )
    .await?;
    match (enrolled.runs.first(), enrolled.skipped.first()) {
        (Some((run_id, _)), _) => Ok(run_id.clone()),
        (None, Some((_, reason))) => Err(WebhookRefusal::Other(AppError::conflict(
            match reason {
                SkipReason::AlreadyEnrolled => "already_enrolled",
                SkipReason::EnrolledBefore => "enrolled_before",
            },
            "the contact was not enrolled again (see the workflow's re-enrolment setting)",
        ))),
        (None, None) => Err(WebhookRefusal::Other(AppError::internal("enrolment returned nothing"))),
    }
}

/// `sha256=<hex HMAC-SHA256 of the raw body>`, compared in constant time.
pub fn signature_matches(secret: &str, header: Option<&str>, body: &[u8]) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

async fn match_contact(
    state: &AppState,
    ws: &recado_store::workspaces::Workspace,
    match_on: &[ContactMatch],
    create: bool,
    given: &WebhookContact,
) -> AppResult<String> {
    let contacts = crate::contacts::service::contacts_for(state, ws);
    let phone = match &given.phone {
        Some(raw) => {
            let ctx = recado_core::phone::PhoneContext {
                mobile_prefix: None,
                country: None,
                default_country: ws.default_country.as_deref(),
            };
            Some(
                recado_core::phone::normalize(raw, &ctx)
                    .map_err(|e| AppError::invalid("invalid_phone", "contact.phone", e.to_string()))?,
            )
        }
        None => None,
    };
    for m in match_on {
        let found = match (m, &phone, &given.email) {
            (ContactMatch::Phone, Some(e164), _) => state.store.contact_by_phone(&ws.id, e164).await?,
            (ContactMatch::Email, _, Some(email)) => {
                state
                    .store
                    .contact_by_email(&ws.id, &email.trim().to_lowercase())
                    .await?
            }
            _ => None,
        };
        if let Some(contact) = found {
            if !given.properties.is_empty() {
                let changes = crate::contacts::service::check_properties(&given.properties)?;
                contacts.update(contact.clone(), changes).await?;
            }
            return Ok(contact.id.to_string());
        }
    }
    if !create {
        return Err(AppError::not_found("contact"));
    }
    let mut properties = given.properties.clone();
    if let Some(e164) = &phone {
        properties.insert("mobilephone".into(), Value::String(e164.clone()));
    }
    if let Some(email) = &given.email {
        properties.insert("email".into(), Value::String(email.clone()));
    }
    if properties.is_empty() {
        return Err(AppError::invalid(
            "contact_required",
            "contact",
            "name the contact by phone or email",
        ));
    }
    let changes = crate::contacts::service::check_properties(&properties)?;
    Ok(contacts.create(changes).await?.id.to_string())
}

/// A `workflow.event` job: the event trigger's filter is checked against the
/// contact now, and the contact enrolled with the event as trigger data.
pub async fn on_event(
    state: &AppState,
    workspace_id: &str,
    workflow_id: &str,
    contact_id: &str,
    event: &str,
    message_id: Option<&str>,
) -> AppResult<()> {
    let workflow = match state.store.workflow(workspace_id, workflow_id).await {
        Ok(w) => w,
        Err(recado_store::StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if workflow.status != WorkflowStatus::Active {
        return Ok(());
    }
    let Some((version, def)) = current_definition(state, &workflow).await? else {
        return Ok(());
    };
    let now = state.clock.now_ms();
    let mut admitted = false;
    let text = inbound_text(state, workspace_id, event, message_id).await?;
    for trigger in &def.triggers {
        let Trigger::Event(t) = trigger else { continue };
        if t.event != event || !t.keyword_matches(text.as_deref()) {
            continue;
        }
        admitted = match &t.filter {
            None => true,
            Some(filter) => match ContactFacts::load(state, workspace_id, contact_id, filter, now).await {
                Ok(facts) => filter.matches(&facts, now),
                Err(e) if e.code == "not_found" => false,
                Err(e) => return Err(e),
            },
        };
        if admitted {
            break;
        }
    }
    if admitted {
        let data = json!({ "event": event, "message_id": message_id });
        let run = NewRun {
            contact_id: contact_id.to_string(),
            trigger_data: Some(data.to_string()),
        };
        enrol_in(state, &workflow, version, &def, &[run]).await?;
    }
    for trigger in &def.triggers {
        if let Trigger::Segment(t) = trigger {
            check_segment_membership(state, &workflow, version, &def, &t.segment_id, contact_id, now).await?;
        }
    }
    Ok(())
}

/// The text of the inbound message an event is about (keyword triggers).
async fn inbound_text(
    state: &AppState,
    workspace_id: &str,
    event: &str,
    message_id: Option<&str>,
) -> AppResult<Option<String>> {
    let (true, Some(id)) = (INBOUND_EVENTS.contains(&event), message_id) else {
        return Ok(None);
    };
    match state.store.message(workspace_id, id).await {
        Ok(m) => Ok(m.text),
        Err(recado_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A contact that now matches the segment of a segment trigger and was not
/// recorded as matching came to match it: it is recorded and enrolled (the
/// re-enrolment policy applies). One that no longer matches is forgotten, so
/// matching again later enrols it again.
async fn check_segment_membership(
    state: &AppState,
    workflow: &WorkflowRecord,
    version: i64,
    def: &Definition,
    segment_id: &str,
    contact_id: &str,
    now: i64,
) -> AppResult<()> {
    let segment = match state.store.segment(&workflow.workspace_id, segment_id).await {
        Ok(s) => s,
        Err(recado_store::StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let matches = state
        .store
        .contact_matches(&workflow.workspace_id, contact_id, &segment.filter, now)
        .await?;
    if !matches {
        state.store.forget_segment_member(&workflow.id, contact_id).await?;
        return Ok(());
    }
    // Recording is the gate: of two events handled at once, one enrols.
    let added = state
        .store
        .record_segment_members(&workflow.workspace_id, &workflow.id, &[contact_id], now)
        .await?;
    if !added.is_empty() {
        let run = NewRun {
            contact_id: contact_id.to_string(),
            trigger_data: Some(json!({ "segment_id": segment_id }).to_string()),
        };
        enrol_in(state, workflow, version, def, &[run]).await?;
    }
    Ok(())
}

fn has_segment_trigger(def: &Definition, segment_id: &str) -> bool {
    def.triggers
        .iter()
        .any(|t| matches!(t, Trigger::Segment(s) if s.segment_id == segment_id))
}

/// A `workflow.enrol_segment` job: one page of the segment's members, then
/// the job for the next page.
pub async fn enrol_segment_page(
    state: &AppState,
    workspace_id: &str,
    workflow_id: &str,
    version: i64,
    segment_id: &str,
    after: Option<&str>,
    enrol: bool,
) -> AppResult<()> {
    let workflow = match state.store.workflow(workspace_id, workflow_id).await {
        Ok(w) => w,
        Err(recado_store::StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if workflow.status != WorkflowStatus::Active {
        return Ok(());
    }
    let segment = match state.store.segment(workspace_id, segment_id).await {
        Ok(s) => s,
        Err(recado_store::StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let text = state.store.workflow_version(workflow_id, version).await?;
    let def =
        Definition::parse(&serde_json::from_str(&text).map_err(AppError::internal)?).map_err(AppError::internal)?;
    let now = state.clock.now_ms();
    let ids = state
        .store
        .matching_contact_ids(workspace_id, &segment.filter, now, after, SEGMENT_PAGE)
        .await?;
    let runs: Vec<NewRun> = ids
        .iter()
        .map(|id| NewRun {
            contact_id: id.clone(),
            trigger_data: None,
        })
        .collect();
    if has_segment_trigger(&def, segment_id) {
        let page: Vec<&str> = ids.iter().map(String::as_str).collect();
        state
            .store
            .record_segment_members(workspace_id, workflow_id, &page, now)
            .await?;
    }
    if enrol {
        enrol_in(state, &workflow, version, &def, &runs).await?;
    }
    if ids.len() == SEGMENT_PAGE as usize {
        let job = NewJob {
            task: Task::WorkflowEnrolSegment {
                workspace_id: workspace_id.to_string(),
                workflow_id: workflow_id.to_string(),
                version,
                segment_id: segment_id.to_string(),
                after: ids.last().cloned(),
                enrol,
            },
            workspace_id: Some(workspace_id),
            run_at: now,
            max_attempts: 8,
        };
        state.store.enqueue_job(&job, now).await?;
    }
    Ok(())
}

/// Fires the schedule triggers that are due: each occurrence moves its
/// trigger to the next one (compare-and-set, so it fires once across nodes)
/// and enrols the segment's members. Returns how many fired.
pub async fn fire_schedules(state: &AppState) -> AppResult<usize> {
    let now = state.clock.now_ms();
    let due = state.store.due_triggers(now, 100).await?;
    let mut fired = 0;
    for t in due {
        let workflow = get(state, &t.workspace_id, &t.workflow_id).await?;
        let Some((version, def)) = current_definition(state, &workflow).await? else {
            continue;
        };
        let Some(Trigger::Schedule(schedule)) = def.triggers.get(t.trigger_index as usize) else {
            continue;
        };
        let ws = state.store.workspace(&t.workspace_id).await?;
        let tz: chrono_tz::Tz = ws.timezone.parse().unwrap_or(chrono_tz::UTC);
        let (at, days) = parse_schedule(&schedule.at, &schedule.days).map_err(AppError::internal)?;
        // The next occurrence after now: occurrences missed while the hub
        // was down are not made up one by one.
        let next = next_fire(at, &days, tz, now.max(t.next_at));
        if !state
            .store
            .advance_trigger(&t.workflow_id, t.trigger_index, t.next_at, next)
            .await?
        {
            continue;
        }
        fired += 1;
        tracing::info!(workflow = %t.workflow_id, at = t.next_at, "schedule trigger fired");
        if let Some(segment_id) = &schedule.segment_id {
            enrol_segment_later(state, &workflow, version, segment_id, true, now).await?;
        }
    }
    Ok(fired)
}

/// A `workflow.contact_change` job: a step's property or subscription change,
/// through the same services as the API (consent with source `workflow`).
pub async fn apply_change(
    state: &AppState,
    workspace_id: &str,
    contact_id: &str,
    run_id: &str,
    change: &WorkflowChange,
) -> AppResult<()> {
    let ws = state.store.workspace(workspace_id).await?;
    let contacts = crate::contacts::service::contacts_for(state, &ws);
    let contact = match contacts.get(contact_id).await {
        Ok(c) => c,
        Err(e) if e.code == "not_found" => return Ok(()),
        Err(e) => return Err(e),
    };
    match change {
        WorkflowChange::Property { property, value } => {
            if contact.properties.get(property) == value.as_ref() {
                return Ok(());
            }
            let changes = [(property.clone(), value.clone())].into_iter().collect();
            contacts.update(contact, changes).await?;
        }
        WorkflowChange::Subscription {
            channel,
            status,
            legal_basis,
            explanation,
        } => {
            let request = ChangeRequest {
                channel: *channel,
                status: *status,
                legal_basis: *legal_basis,
                explanation: explanation.clone(),
                source: ConsentSource::Workflow,
            };
            let actor = format!("workflow_run:{run_id}");
            match crate::consent::service::change(&state.store, &contact, &request, &actor, state.clock.now_ms()).await
            {
                Ok(_) => {}
                // A rule refused it (e.g. no re-subscription after an
                // opt-out): the contact's choice stands.
                Err(e) if !e.is_internal() => {
                    tracing::info!(contact = %contact_id, run = %run_id, code = e.code, "workflow consent change refused")
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}
