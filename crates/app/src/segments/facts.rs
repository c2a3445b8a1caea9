//! One contact as conditions see it ([`recado_flow::Facts`]): its stored
//! properties, its subscriptions and the times of the timeline events a
//! condition asks about. Evaluating a condition on these facts with
//! `Condition::matches` answers what the store's SQL answers for the same
//! contact (`Store::contact_matches`).

use crate::{AppError, AppResult, AppState};
use recado_core::consent::{Channel, SubscriptionStatus};
use recado_flow::condition::{EventQuery, EventScope, Facts, Leaf};
use recado_flow::Condition;
use recado_store::StoreError;
use std::collections::{BTreeMap, HashMap};

/// What a condition may ask about one contact, read from the store.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContactFacts {
    properties: BTreeMap<String, String>,
    subscriptions: HashMap<Channel, SubscriptionStatus>,
    /// The times of the events of each event query loaded.
    events: Vec<(EventQuery, Vec<i64>)>,
}

impl ContactFacts {
    /// The facts of a contact (404 `not_found` for an unknown or erased
    /// one) that `condition` asks about when evaluated at `now`: properties
    /// and subscriptions, and the events of each event leaf through
    /// `Store::event_times`. A leaf about a workflow's own send (`of`) is the
    /// run's to answer (`recado_flow::run::RunFacts`) and loads nothing.
    pub async fn load(
        state: &AppState,
        workspace_id: &str,
        contact_id: &str,
        condition: &Condition,
        now: i64,
    ) -> AppResult<ContactFacts> {
        let store = &state.store;
        let contact = store.contact(workspace_id, contact_id).await.map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("contact"),
            other => other.into(),
        })?;
        let subscriptions = store.subscriptions(workspace_id, contact_id).await?;
        Self::from_loaded(state, &contact, &subscriptions, condition, now).await
    }

    /// The facts of a contact already read with its subscriptions: only the
    /// event times the condition asks about are read here.
    pub async fn from_loaded(
        state: &AppState,
        contact: &recado_store::contacts::Contact,
        subscriptions: &[recado_store::consent::SubscriptionRecord],
        condition: &Condition,
        now: i64,
    ) -> AppResult<ContactFacts> {
        let subscriptions = subscriptions
            .iter()
            .filter_map(|record| {
                let channel = record.channel.parse::<Channel>().ok()?;
                // A status the hub cannot read counts as never set, as in SQL.
                let status = record.status.parse::<SubscriptionStatus>().ok()?;
                Some((channel, status))
            })
            .collect();
        let mut events: Vec<(EventQuery, Vec<i64>)> = Vec::new();
        for leaf in condition.leaves() {
            let Leaf::Event(test) = leaf else { continue };
            let query = test.query(now);
            if matches!(query.scope, EventScope::Send(_)) || events.iter().any(|(q, _)| *q == query) {
                continue;
            }
            let times = state
                .store
                .event_times(&contact.workspace_id, &contact.id, &query)
                .await?;
            events.push((query, times));
        }
        Ok(ContactFacts {
            properties: contact.properties.clone(),
            subscriptions,
            events,
        })
    }
}

impl Facts for ContactFacts {
    fn property(&self, key: &str) -> Option<String> {
        self.properties.get(key).cloned()
    }

    fn subscription(&self, channel: Channel) -> Option<SubscriptionStatus> {
        self.subscriptions.get(&channel).copied()
    }

    fn event_times(&self, query: &EventQuery) -> Vec<i64> {
        match self.events.iter().find(|(q, _)| q == query) {
            Some((_, times)) => times.clone(),
            None => {
                // Only the condition given to `load`, at its `now`, was read.
                tracing::warn!(event = %query.event, "event facts asked for a query that was not loaded");
                Vec::new()
            }
        }
    }
}
