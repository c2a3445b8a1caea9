//! The contacts list as users filter it: by a property, by a channel's
//! subscription status and by segment (all three together), or by the
//! quick text search. Filters are conditions of the segment language, so
//! the list counts and pages exactly the contacts a segment with the same
//! filter would hold, through the same SQL.

use super::service::phone_search_suffixes;
use crate::segments::service::check_filter;
use crate::{AppError, AppResult, AppState};
use recado_flow::Condition;
use recado_store::contacts::{Contact, ContactQuery};
use serde_json::{json, Value};

/// Most contacts a bulk action over "all that match" takes.
pub const MAX_MATCHING: usize = 100_000;

/// A test on one property: `op` is a property operator of the segment
/// language (`eq`, `neq`, `contains`, `is_known`, `is_unknown`, `gt`, `lt`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PropertyFilter {
    pub name: String,
    pub op: String,
    pub value: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListFilter {
    /// Quick search (name, e-mail, any property, any written form of a
    /// number); used only when no other filter is set.
    pub text: Option<String>,
    pub property: Option<PropertyFilter>,
    /// `(channel, status)`: `sms`/`whatsapp`/`voice` and
    /// `subscribed`/`unsubscribed`/`not_specified`.
    pub subscription: Option<(String, String)>,
    pub segment_id: Option<String>,
}

impl ListFilter {
    /// Whether the structured filters (not the quick search) are used.
    pub fn is_structured(&self) -> bool {
        self.property.is_some() || self.subscription.is_some() || self.segment_id.is_some()
    }
}

/// One page of the list and the cursor of the next (older) one.
pub struct ListPage {
    pub contacts: Vec<Contact>,
    pub next: Option<String>,
}

/// The condition the structured filters make (422 `invalid_condition` with
/// the field when one cannot be read; 404 for an unknown segment).
pub async fn condition_of(state: &AppState, workspace_id: &str, filter: &ListFilter) -> AppResult<Option<Condition>> {
    if !filter.is_structured() {
        return Ok(None);
    }
    let mut leaves: Vec<Value> = Vec::new();
    if let Some(p) = &filter.property {
        let mut leaf = json!({"property": p.name.trim(), "op": p.op});
        if !matches!(p.op.as_str(), "is_known" | "is_unknown") {
            leaf["value"] = match p.op.as_str() {
                "gt" | "lt" => p
                    .value
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| json!(p.value), Value::Number),
                _ => json!(p.value),
            };
        }
        leaves.push(leaf);
    }
    if let Some((channel, status)) = &filter.subscription {
        leaves.push(json!({"subscription": channel, "op": "eq", "value": status}));
    }
    let mut condition = if leaves.is_empty() {
        None
    } else {
        Some(check_filter(&json!({ "all": leaves }))?)
    };
    if let Some(id) = &filter.segment_id {
        let segment = state.store.segment(workspace_id, id).await.map_err(|e| match e {
            recado_store::StoreError::NotFound => AppError::not_found("segment"),
            other => other.into(),
        })?;
        condition = Some(match condition {
            Some(c) => Condition::All(vec![c, segment.filter]),
            None => segment.filter,
        });
    }
    Ok(condition)
}

/// A page of contacts, newest first, before `before`.
pub async fn page(
    state: &AppState,
    workspace_id: &str,
    filter: &ListFilter,
    before: Option<&str>,
    limit: u32,
) -> AppResult<ListPage> {
    let mut contacts = match condition_of(state, workspace_id, filter).await? {
        Some(condition) => {
            state
                .store
                .matching_contacts_newest(workspace_id, &condition, state.clock.now_ms(), before, limit + 1)
                .await?
        }
        None => {
            state
                .store
                .list_contacts(workspace_id, &text_query(filter, before, limit + 1))
                .await?
        }
    };
    let next = if contacts.len() > limit as usize {
        contacts.truncate(limit as usize);
        contacts.last().map(|c| c.id.to_string())
    } else {
        None
    };
    Ok(ListPage { contacts, next })
}

fn text_query(filter: &ListFilter, before: Option<&str>, limit: u32) -> ContactQuery {
    let mut query = ContactQuery {
        before_id: before.map(str::to_string),
        limit: i64::from(limit),
        ..ContactQuery::default()
    };
    if let Some(text) = filter.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        match phone_search_suffixes(text) {
            Some(suffixes) => query.phone_suffixes = suffixes,
            None => query.text = Some(text.to_lowercase()),
        }
    }
    query
}

/// How many contacts the structured filters match (none without them:
/// counting every contact on each page is not worth its time).
pub async fn count(state: &AppState, workspace_id: &str, filter: &ListFilter) -> AppResult<Option<u64>> {
    match condition_of(state, workspace_id, filter).await? {
        Some(c) => Ok(Some(
            state
                .store
                .count_matching(workspace_id, &c, state.clock.now_ms())
                .await?,
        )),
        None => Ok(None),
    }
}

/// The ids of every contact the list shows with `filter` (at most
/// [`MAX_MATCHING`]; 422 `too_many_contacts` beyond), for bulk actions on
/// "all that match".
pub async fn all_ids(state: &AppState, workspace_id: &str, filter: &ListFilter) -> AppResult<Vec<String>> {
    const PAGE: u32 = 5_000;
    let mut ids = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = page(state, workspace_id, filter, before.as_deref(), PAGE).await?;
        ids.extend(page.contacts.iter().map(|c| c.id.to_string()));
        if ids.len() > MAX_MATCHING {
            return Err(AppError::invalid(
                "too_many_contacts",
                "contact_ids",
                format!("a bulk action takes at most {MAX_MATCHING} contacts; narrow the filter"),
            ));
        }
        match page.next {
            Some(next) => before = Some(next),
            None => return Ok(ids),
        }
    }
}
