//! Campaigns: the record every send counts in, found by name (created on
//! first use), and read back with statistics, a time series and their
//! recipients. Counting itself happens in the store as events are recorded;
//! what each event counts is `recado_core::campaigns`.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::whatsapp::send::SendSource;
use recado_core::campaigns::{clean_name, default_name, series, Bucket, Point, Source, Stats, RECIPIENT_STATES};
use recado_core::consent::Channel;
use recado_core::ids::{new_id, IdKind};
use recado_store::campaigns::{CampaignFilter, CampaignRecord, RecipientRow};
use std::collections::HashMap;

/// Most recipients one page returns.
pub const RECIPIENTS_PAGE_MAX: i64 = 1000;

impl SendSource {
    /// The campaign source of sends from here.
    pub fn campaign_source(self) -> Source {
        match self {
            SendSource::Api => Source::Api,
            SendSource::Inbox => Source::Inbox,
            SendSource::Workflow => Source::Workflow,
            SendSource::Crm => Source::Crm,
            SendSource::Broadcast => Source::Broadcast,
            SendSource::IvrKey => Source::Ivr,
            SendSource::System => Source::System,
        }
    }
}

/// The campaign a send counts in: the one it names, or its default
/// (`{SOURCE}_{CHANNEL}_{YEAR}_{MONTH}`). The record is found or created
/// when the message is written.
pub fn name_of_send(state: &AppState, named: Option<&str>, source: SendSource, channel: Channel) -> String {
    named
        .and_then(clean_name)
        .unwrap_or_else(|| default_name(source.campaign_source(), channel, state.clock.now()))
}

fn invalid_name() -> AppError {
    AppError::invalid(
        "invalid_campaign",
        "name",
        "a campaign name is 1 to 200 characters, without control characters",
    )
}

/// A campaign with its statistics.
#[derive(Clone, Debug)]
pub struct CampaignWithStats {
    pub campaign: CampaignRecord,
    pub stats: Stats,
}

/// Creates a campaign by name; 409 `campaign_exists` when the name is taken.
pub async fn create(
    state: &AppState,
    workspace_id: &str,
    name: &str,
    channel: Channel,
    source: Source,
) -> AppResult<CampaignWithStats> {
    let name = clean_name(name).ok_or_else(invalid_name)?;
    let record = CampaignRecord {
        id: new_id(IdKind::Campaign),
        workspace_id: workspace_id.to_string(),
        name,
        channel,
        source,
        created_at: state.clock.now_ms(),
    };
    state.store.insert_campaign(&record).await.map_err(name_taken)?;
    Ok(CampaignWithStats {
        campaign: record,
        stats: Stats::default(),
    })
}

fn name_taken(e: recado_store::StoreError) -> AppError {
    match e {
        recado_store::StoreError::Conflict(_) => {
            AppError::conflict("campaign_exists", "another campaign has this name").with_field("name")
        }
        other => other.into(),
    }
}

/// Campaigns of a workspace, newest first, each with its statistics.
pub async fn list(state: &AppState, workspace_id: &str, filter: &CampaignFilter) -> AppResult<Vec<CampaignWithStats>> {
    let campaigns = state.store.campaigns(workspace_id, filter).await?;
    with_stats(state, workspace_id, campaigns).await
}

async fn with_stats(
    state: &AppState,
    workspace_id: &str,
    campaigns: Vec<CampaignRecord>,
) -> AppResult<Vec<CampaignWithStats>> {
    let ids: Vec<&str> = campaigns.iter().map(|c| c.id.as_str()).collect();
    let mut counters: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for (campaign, key, n) in state.store.campaign_counters(workspace_id, &ids).await? {
        counters.entry(campaign).or_default().push((key, n));
    }
    Ok(campaigns
        .into_iter()
        .map(|campaign| {
            let stats = Stats::of(
                counters
                    .get(&campaign.id)
                    .into_iter()
                    .flatten()
                    .map(|(k, n)| (k.as_str(), *n)),
            );
            CampaignWithStats { campaign, stats }
        })
        .collect())
}

pub async fn get(state: &AppState, workspace_id: &str, id: &str) -> AppResult<CampaignWithStats> {
    let campaign = state
        .store
        .campaign(workspace_id, id)
        .await
        .map_err(|_| AppError::not_found("campaign"))?;
    let mut found = with_stats(state, workspace_id, vec![campaign]).await?;
    found.pop().ok_or_else(|| AppError::not_found("campaign"))
}

/// Renames a campaign; its statistics stay.
pub async fn rename(state: &AppState, workspace_id: &str, id: &str, name: &str) -> AppResult<CampaignWithStats> {
    let name = clean_name(name).ok_or_else(invalid_name)?;
    get(state, workspace_id, id).await?;
    state
        .store
        .rename_campaign(workspace_id, id, &name)
        .await
        .map_err(name_taken)?;
    get(state, workspace_id, id).await
}

/// A campaign's counters per hour or per day (days in the workspace's time
/// zone), oldest first.
pub async fn time_series(
    state: &AppState,
    workspace_id: &str,
    id: &str,
    bucket: Bucket,
) -> AppResult<Vec<(i64, Point)>> {
    get(state, workspace_id, id).await?;
    let workspace = state.store.workspace(workspace_id).await?;
    let tz: chrono_tz::Tz = workspace.timezone.parse().unwrap_or(chrono_tz::UTC);
    let hours = state.store.campaign_hours(workspace_id, id).await?;
    Ok(series(hours, bucket, tz))
}

/// The recipient states a list may be filtered by; 422 for any other.
pub fn check_state(state: Option<&str>) -> AppResult<()> {
    match state {
        Some(s) if !RECIPIENT_STATES.contains(&s) => Err(AppError::invalid(
            "invalid_state",
            "state",
            format!("state is one of {}", RECIPIENT_STATES.join(", ")),
        )),
        _ => Ok(()),
    }
}

/// A page of a campaign's recipients, after the message id `after`.
pub async fn recipients(
    state: &AppState,
    workspace_id: &str,
    id: &str,
    filter: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<RecipientRow>> {
    check_state(filter)?;
    get(state, workspace_id, id).await?;
    Ok(state
        .store
        .campaign_recipients(workspace_id, id, filter, after, limit.clamp(1, RECIPIENTS_PAGE_MAX))
        .await?)
}
