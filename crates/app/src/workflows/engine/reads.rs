//! What a claimed batch of runs reads before it moves.

use super::*;

/// What a claimed batch reads before it moves, a few statements for all its
/// runs: workspaces, contacts, subscriptions, the sends already recorded and
/// the timeline events since the runs entered.
pub(super) struct BatchReads {
    pub(super) workspaces: HashMap<String, Workspace>,
    pub(super) contacts: HashMap<String, Contact>,
    pub(super) subscriptions: HashMap<String, Vec<SubscriptionRecord>>,
    /// Idempotency key → message id.
    pub(super) sends: HashMap<String, String>,
    /// Per contact, oldest first.
    pub(super) events: HashMap<String, Vec<TimelineEvent>>,
}

impl BatchReads {
    pub(super) async fn load(state: &AppState, rows: &[RunRow], _now: i64) -> AppResult<BatchReads> {
        let store = &state.store;
        let mut by_workspace: HashMap<&str, Vec<&RunRow>> = HashMap::new();
        for row in rows {
            by_workspace.entry(row.workspace_id.as_str()).or_default().push(row);
        }
        let mut read = BatchReads {
            workspaces: HashMap::new(),
            contacts: HashMap::new(),
            subscriptions: HashMap::new(),
            sends: HashMap::new(),
            events: HashMap::new(),
        };
        for (ws, runs) in by_workspace {
            read.workspaces.insert(ws.to_string(), store.workspace(ws).await?);
            let mut ids: Vec<&str> = runs.iter().map(|r| r.contact_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            for contact in store.contacts_by_ids(ws, &ids).await? {
                read.contacts.insert(contact.id.to_string(), contact);
            }
            for (contact_id, record) in store.subscriptions_of_contacts(ws, &ids).await? {
                read.subscriptions.entry(contact_id).or_default().push(record);
            }
            // Runs that moved before may have sends whose events they await.
            let moved: Vec<&&RunRow> = runs.iter().filter(|r| r.state.is_some()).collect();
            if let Some(since) = moved.iter().map(|r| r.entered_at).min() {
                let mut contacts: Vec<&str> = moved.iter().map(|r| r.contact_id.as_str()).collect();
                contacts.sort_unstable();
                contacts.dedup();
                for e in store.contacts_events_since(ws, &contacts, since).await? {
                    read.events.entry(e.contact_id.clone()).or_default().push(e);
                }
            }
        }
        let run_ids: Vec<&str> = rows
            .iter()
            .filter(|r| r.state.is_some())
            .map(|r| r.id.as_str())
            .collect();
        read.sends = store.workflow_sends_of_runs(&run_ids).await?.into_iter().collect();
        Ok(read)
    }
}
