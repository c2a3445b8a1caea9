//! Segment rules for the API: a name (1 to 200 characters, trimmed) and a
//! filter that is a valid condition about contacts — campaign or any-message
//! events, never a workflow's own send (`of`) — of at most
//! [`MAX_LEAVES`] conditions. Refusals are 422 `invalid_name` or
//! `invalid_condition` with `field` pointing into the body (`filter.all[0].of`).
//! Counts and members are the store's, at the clock's now.

use crate::{AppError, AppResult, AppState};
use recado_core::ids::{new_id, IdKind};
use recado_flow::condition::{EventScope, Leaf};
use recado_flow::Condition;
use recado_store::contacts::Contact;
use recado_store::segments::sql::MAX_LEAVES;
use recado_store::segments::SegmentRecord;
use recado_store::StoreError;
use serde_json::Value;

/// Longest segment name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A segment with the number of contacts that match it now.
#[derive(Clone, Debug, PartialEq)]
pub struct CountedSegment {
    pub segment: SegmentRecord,
    pub count: u64,
}

/// A segment's name, trimmed; 422 `invalid_name` unless it has 1 to
/// [`MAX_NAME_CHARS`] characters.
pub fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid(
            "invalid_name",
            "name",
            format!("a segment's name has 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_string())
}

/// The condition of a segment's `filter`; 422 `invalid_condition` with the
/// field (`filter.…`) when it does not parse, names a workflow send (`of`) or
/// has more than [`MAX_LEAVES`] conditions.
pub fn check_filter(filter: &Value) -> AppResult<Condition> {
    let condition = Condition::parse(filter).map_err(|e| invalid_condition(&e.field, e.message))?;
    if let Some(path) = send_leaf(&condition, "") {
        return Err(invalid_condition(
            &join(&path, "of"),
            "`of` names a send of a workflow run; a segment looks at a campaign's messages (`campaign`) or at any message (neither)",
        ));
    }
    let leaves = condition.leaves().len();
    if leaves > MAX_LEAVES {
        return Err(invalid_condition(
            "",
            format!("a segment has at most {MAX_LEAVES} conditions; this one has {leaves}"),
        ));
    }
    Ok(condition)
}

fn invalid_condition(path: &str, message: impl Into<String>) -> AppError {
    AppError::invalid("invalid_condition", join("filter", path), message)
}

fn join(path: &str, key: &str) -> String {
    match (path.is_empty(), key.is_empty()) {
        (_, true) => path.to_string(),
        (true, false) => key.to_string(),
        (false, false) => format!("{path}.{key}"),
    }
}

/// The path (as `Condition::parse` names places: `all[1].any[0]`) of the
/// first event leaf about a workflow's own send.
fn send_leaf(condition: &Condition, path: &str) -> Option<String> {
    match condition {
        Condition::All(items) | Condition::Any(items) => {
            let group = if matches!(condition, Condition::All(_)) {
                "all"
            } else {
                "any"
            };
            items
                .iter()
                .enumerate()
                .find_map(|(i, item)| send_leaf(item, &format!("{}[{i}]", join(path, group))))
        }
        Condition::Leaf(Leaf::Event(test)) if matches!(test.scope, EventScope::Send(_)) => Some(path.to_string()),
        Condition::Leaf(_) => None,
    }
}

fn not_found(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::not_found("segment"),
        other => other.into(),
    }
}

async fn counted(state: &AppState, segment: SegmentRecord) -> AppResult<CountedSegment> {
    let count = state
        .store
        .count_matching(&segment.workspace_id, &segment.filter, state.clock.now_ms())
        .await?;
    Ok(CountedSegment { segment, count })
}

pub async fn create(state: &AppState, workspace_id: &str, name: &str, filter: &Value) -> AppResult<CountedSegment> {
    let name = check_name(name)?;
    let filter = check_filter(filter)?;
    let now = state.clock.now_ms();
    let segment = SegmentRecord {
        id: new_id(IdKind::Segment),
        workspace_id: workspace_id.to_string(),
        name,
        filter,
        created_at: now,
        updated_at: now,
    };
    state.store.insert_segment(&segment).await?;
    counted(state, segment).await
}

/// The segment `id` of the workspace (404 `not_found` when it has none).
pub async fn get(state: &AppState, workspace_id: &str, id: &str) -> AppResult<CountedSegment> {
    let segment = state.store.segment(workspace_id, id).await.map_err(not_found)?;
    counted(state, segment).await
}

/// A page of the workspace's segments, newest first, each counted.
pub async fn list(
    state: &AppState,
    workspace_id: &str,
    before_id: Option<&str>,
    limit: i64,
) -> AppResult<Vec<CountedSegment>> {
    let mut page = Vec::new();
    for segment in state.store.segments(workspace_id, before_id, limit).await? {
        page.push(counted(state, segment).await?);
    }
    Ok(page)
}

/// Renames a segment and/or replaces its filter; nothing is written when
/// either is refused.
pub async fn update(
    state: &AppState,
    workspace_id: &str,
    id: &str,
    name: Option<&str>,
    filter: Option<&Value>,
) -> AppResult<CountedSegment> {
    let name = name.map(check_name).transpose()?;
    let filter = filter.map(check_filter).transpose()?;
    let mut segment = state.store.segment(workspace_id, id).await.map_err(not_found)?;
    if name.is_none() && filter.is_none() {
        return counted(state, segment).await;
    }
    if let Some(name) = name {
        segment.name = name;
    }
    if let Some(filter) = filter {
        segment.filter = filter;
    }
    segment.updated_at = state.clock.now_ms();
    state.store.update_segment(&segment).await.map_err(not_found)?;
    counted(state, segment).await
}

pub async fn delete(state: &AppState, workspace_id: &str, id: &str) -> AppResult<()> {
    let users = state.store.workflows_naming_segment(workspace_id, id).await?;
    if !users.is_empty() {
        return Err(AppError::conflict(
            "segment_in_use",
            format!(
                "workflows use this segment: {}; change or delete them first",
                users.join(", ")
            ),
        ));
    }
    state.store.delete_segment(workspace_id, id).await.map_err(not_found)
}

/// A page of the contacts matching segment `id` now, by ascending id after
/// `after` (the previous page's last id).
pub async fn members(
    state: &AppState,
    workspace_id: &str,
    id: &str,
    after: Option<&str>,
    limit: u32,
) -> AppResult<Vec<Contact>> {
    let segment = state.store.segment(workspace_id, id).await.map_err(not_found)?;
    Ok(state
        .store
        .matching_contacts(workspace_id, &segment.filter, state.clock.now_ms(), after, limit)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusal(filter: Value) -> (String, &'static str) {
        let e = check_filter(&filter).unwrap_err();
        (e.field.unwrap_or_default(), e.code)
    }

    #[test]
    fn a_condition_that_does_not_parse_is_refused_with_its_place_under_filter() {
        let (field, code) = refusal(json!({"all": [{"property": "city", "op": "bigger", "value": 1}]}));
        assert_eq!((field.as_str(), code), ("filter.all[0].op", "invalid_condition"));
        let (field, _) = refusal(json!("city = BR"));
        assert_eq!(field, "filter");
    }

    #[test]
    fn events_of_a_workflow_send_are_refused_at_their_of() {
        let (field, code) = refusal(json!({"any": [
            {"property": "city", "op": "is_known"},
            {"all": [{"event": "SMS_CLICKED", "of": "n1", "op": "is_known"}]}
        ]}));
        assert_eq!((field.as_str(), code), ("filter.any[1].all[0].of", "invalid_condition"));
        let (field, _) = refusal(json!({"event": "SMS_CLICKED", "of": "n1", "op": "is_known"}));
        assert_eq!(field, "filter.of");
    }

    #[test]
    fn campaign_and_any_message_events_are_accepted() {
        for filter in [
            json!({"event": "SMS_CLICKED", "campaign": "BF", "op": "is_known"}),
            json!({"event": "SMS_CLICKED", "op": "is_unknown", "since": "-P7D"}),
        ] {
            assert!(check_filter(&filter).is_ok(), "{filter}");
        }
    }

    #[test]
    fn a_filter_of_too_many_conditions_is_refused() {
        let leaf = json!({"property": "city", "op": "is_known"});
        let (field, code) = refusal(json!({"any": vec![leaf; MAX_LEAVES + 1]}));
        assert_eq!((field.as_str(), code), ("filter", "invalid_condition"));
    }

    #[test]
    fn names_are_trimmed_and_must_not_be_empty() {
        assert_eq!(check_name("  VIPs ").unwrap(), "VIPs");
        assert_eq!(check_name("   ").unwrap_err().code, "invalid_name");
        assert!(check_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }
}
