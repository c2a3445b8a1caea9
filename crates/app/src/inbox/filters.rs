//! The filters of a thread list as users give them (query string, saved view,
//! web form) and their checked form for the store.

use crate::error::{AppError, AppResult};
use crate::AppState;
use recado_store::inbox::{OwnerFilter, SearchQuery, ThreadCursor, ThreadFilter};
use recado_store::StoreError;
use serde::{Deserialize, Serialize};

/// Ticket statuses.
pub const STATUSES: [&str; 2] = ["open", "closed"];
/// Channels a thread can be on.
pub const CHANNELS: [&str; 3] = ["whatsapp", "sms", "voice"];
/// Ticket priorities, lowest first.
pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// A view's filters: what `GET /threads` takes and what a saved view stores.
/// `owner` is `me`, `none` or a user id; `me` is resolved for whoever looks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
}

fn blank_to_none(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl ViewFilters {
    /// Drops empty values (a web form sends every field).
    pub fn normalized(&self) -> ViewFilters {
        ViewFilters {
            status: blank_to_none(&self.status),
            channel: blank_to_none(&self.channel),
            owner: blank_to_none(&self.owner),
            q: blank_to_none(&self.q),
        }
    }

    /// Checks every value (422 with the field when one is not known) and
    /// builds the store filter for `user_id`.
    pub async fn check(&self, state: &AppState, workspace_id: &str, user_id: &str) -> AppResult<ThreadFilter> {
        let f = self.normalized();
        if let Some(s) = &f.status {
            if !STATUSES.contains(&s.as_str()) {
                return Err(AppError::invalid(
                    "invalid_status",
                    "status",
                    "status is `open` or `closed`",
                ));
            }
        }
        if let Some(c) = &f.channel {
            if !CHANNELS.contains(&c.as_str()) {
                return Err(AppError::invalid(
                    "invalid_channel",
                    "channel",
                    format!("`{c}` is not a channel (whatsapp, sms, voice)"),
                ));
            }
        }
        let owner = match f.owner.as_deref() {
            None => OwnerFilter::Any,
            Some("me") => OwnerFilter::User(user_id.to_string()),
            Some("none") => OwnerFilter::Nobody,
            Some(id) => {
                check_owner(state, workspace_id, id, "owner").await?;
                OwnerFilter::User(id.to_string())
            }
        };
        if f.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
            return Err(AppError::invalid(
                "invalid_query",
                "q",
                "searches are at most 200 characters",
            ));
        }
        Ok(ThreadFilter {
            status: f.status,
            channel: f.channel,
            owner,
            search: f.q.as_deref().and_then(SearchQuery::parse),
            after: None,
            limit: 50,
        })
    }
}

/// A user id that must name a user of the workspace (422 `invalid_owner`).
pub async fn check_owner(state: &AppState, workspace_id: &str, id: &str, field: &str) -> AppResult<()> {
    match state.store.user(workspace_id, id).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(AppError::invalid(
            "invalid_owner",
            field,
            format!("`{id}` is not a user of this workspace"),
        )),
        Err(e) => Err(e.into()),
    }
}

pub fn parse_cursor(cursor: Option<&str>) -> AppResult<Option<ThreadCursor>> {
    match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => ThreadCursor::decode(c)
            .map(Some)
            .ok_or_else(|| AppError::invalid("invalid_cursor", "cursor", "the cursor is not one this list gave")),
    }
}
