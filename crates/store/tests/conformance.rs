//! The storage conformance suite. It runs unchanged against SQLite and
//! PostgreSQL: the test command runs it once with `RECADO_TEST_BACKEND=sqlite`
//! and once with `RECADO_TEST_BACKEND=postgres`.

use recado_core::consent::{
    decide, ChangeRequest, Channel, ConsentError, ConsentSource, ContactFacts, LegalBasis, SubscriptionStatus,
};
use recado_core::ids::{new_id, IdKind};
use recado_core::jobs::{JobKind, Task};
use recado_core::whatsapp::TemplateStatus;
use recado_store::consent::{ChangeContext, ChangeError, ChangeOutcome};
use recado_store::contacts::{ContactQuery, ContactWrite};
use recado_store::jobs::{NewJob, DEAD, DONE, QUEUED};
use recado_store::pacing::Slot;
use recado_store::testing::TestDatabase;
use recado_store::workspaces::{User, Workspace};
use recado_store::{Store, StoreError};
use std::collections::BTreeMap;

async fn workspace(store: &Store, name: &str) -> String {
    let id = new_id(IdKind::Workspace);
    store
        .create_workspace(&Workspace {
            id: id.clone(),
            name: name.into(),
            default_country: Some("BR".into()),
            timezone: "UTC".into(),
            created_at: 1,
        })
        .await
        .unwrap();
    id
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

async fn contact(store: &Store, ws: &str, props: &[(&str, &str)], phones: &[(&str, &str)]) -> String {
    let id = new_id(IdKind::Contact);
    let (p, ph) = (map(props), map(phones));
    store
        .insert_contact(&ContactWrite {
            workspace_id: ws,
            id: &id,
            properties: &p,
            phones: &ph,
            now: 10,
        })
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn migrations_exist_with_the_same_names_for_both_backends() {
    let (sqlite, postgres) = recado_store::backend_migration_names();
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

#[tokio::test]
async fn workspace_names_are_unique() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    workspace(&store, "acme").await;
    let again = store
        .create_workspace(&Workspace {
            id: new_id(IdKind::Workspace),
            name: "acme".into(),
            default_country: None,
            timezone: "UTC".into(),
            created_at: 2,
        })
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    assert_eq!(store.count_workspaces().await.unwrap(), 1);
}

#[tokio::test]
async fn tokens_are_found_by_hash_with_their_owner_role() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let user = User {
        id: new_id(IdKind::User),
        workspace_id: ws.clone(),
        email: "ana@example.com".into(),
        name: "Ana".into(),
        role: "agent".into(),
        password_hash: None,
        created_at: 1,
    };
    store.create_user(&user).await.unwrap();
    store
        .create_token(&new_id(IdKind::Token), &ws, &user.id, "cli", "hash-1", 1)
        .await
        .unwrap();
    let owner = store.token_owner("hash-1").await.unwrap().unwrap();
    assert_eq!(
        (owner.user_id.as_str(), owner.role.as_str(), owner.workspace_id.as_str()),
        (user.id.as_str(), "agent", ws.as_str())
    );
    assert!(store.token_owner("hash-2").await.unwrap().is_none());
    store.delete_user(&ws, &user.id).await.unwrap();
    assert!(
        store.token_owner("hash-1").await.unwrap().is_none(),
        "a deleted user's tokens stop working"
    );
}

#[tokio::test]
async fn contacts_round_trip_and_are_found_by_any_phone_property() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let id = contact(
        &store,
        &ws,
        &[("firstname", "Ana"), ("phone", "11 91234-5678")],
        &[("phone", "+5511912345678")],
    )
    .await;
    let other = contact(
        &store,
        &ws,
        &[("firstname", "Bia"), ("whatsapp_phone", "+351912345678")],
        &[("whatsapp_phone", "+351912345678")],
    )
    .await;
    let got = store.contact(&ws, &id).await.unwrap();
    assert_eq!(got.properties["firstname"], "Ana");
    assert_eq!(got.phones["phone"], "+5511912345678");
    assert_eq!(
        store.contact_by_phone(&ws, "+5511912345678").await.unwrap().unwrap().id,
        id
    );
    assert_eq!(
        store.contact_by_phone(&ws, "+351912345678").await.unwrap().unwrap().id,
        other
    );
    let found = store
        .list_contacts(
            &ws,
            &ContactQuery {
                phone_suffixes: vec!["351912345678".into()],
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        vec![other.as_str()]
    );
}

#[tokio::test]
async fn contact_text_search_is_case_insensitive_and_literal() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let ana = contact(&store, &ws, &[("firstname", "Ana"), ("lastname", "Souza_Lima")], &[]).await;
    contact(&store, &ws, &[("firstname", "Bia"), ("lastname", "SouzaXLima")], &[]).await;
    let q = |t: &str| ContactQuery {
        text: Some(t.into()),
        limit: 50,
        ..Default::default()
    };
    let hits = store.list_contacts(&ws, &q("ANA")).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, ana);
    // `_` is a LIKE wildcard; search must treat it literally.
    assert_eq!(store.list_contacts(&ws, &q("souza_lima")).await.unwrap().len(), 1);
    assert_eq!(store.list_contacts(&ws, &q("%")).await.unwrap().len(), 0);
}

#[tokio::test]
async fn contact_lists_page_newest_first_without_gaps() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(contact(&store, &ws, &[("firstname", &format!("c{i}"))], &[]).await);
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .list_contacts(
                &ws,
                &ContactQuery {
                    before_id: before.clone(),
                    limit: 3,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        before = page.last().map(|c| c.id.to_string());
        seen.extend(page.into_iter().map(|c| c.id));
    }
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn workspaces_never_see_each_others_contacts() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let a = workspace(&store, "a").await;
    let b = workspace(&store, "b").await;
    let in_a = contact(&store, &a, &[("firstname", "Ana")], &[("phone", "+5511912345678")]).await;
    assert!(matches!(store.contact(&b, &in_a).await, Err(StoreError::NotFound)));
    assert!(store.contact_by_phone(&b, "+5511912345678").await.unwrap().is_none());
    assert!(store
        .list_contacts(
            &b,
            &ContactQuery {
                limit: 50,
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        store.erase_contact(&b, &in_a, 5).await,
        Err(StoreError::NotFound)
    ));
}

fn manual(channel: Channel, status: SubscriptionStatus) -> ChangeRequest {
    ChangeRequest {
        channel,
        status,
        legal_basis: Some(LegalBasis::Consent),
        explanation: Some("web form".into()),
        source: ConsentSource::Manual,
    }
}

async fn change(
    store: &Store,
    ws: &str,
    id: &str,
    req: ChangeRequest,
    now: i64,
) -> Result<ChangeOutcome, ChangeError<ConsentError>> {
    let ctx = ChangeContext {
        workspace_id: ws,
        contact_id: id,
        channel: req.channel,
        source: req.source,
        actor: "usr_x",
        now,
    };
    store
        .change_subscription(ctx, |current| {
            decide(
                current,
                &req,
                ContactFacts {
                    has_whatsapp_phone: true,
                },
            )
        })
        .await
}

#[tokio::test]
async fn consent_changes_append_history_newest_first() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let id = contact(&store, &ws, &[("firstname", "Ana")], &[]).await;
    change(
        &store,
        &ws,
        &id,
        manual(Channel::Sms, SubscriptionStatus::Subscribed),
        100,
    )
    .await
    .unwrap();
    let mut stop = manual(Channel::Sms, SubscriptionStatus::Unsubscribed);
    stop.source = ConsentSource::Keyword;
    change(&store, &ws, &id, stop, 200).await.unwrap();
    let history = store
        .subscription_history(&ws, &id, Channel::Sms, None, 50)
        .await
        .unwrap();
    assert_eq!(
        history
            .iter()
            .map(|h| (h.status.as_str(), h.source.as_str()))
            .collect::<Vec<_>>(),
        vec![("unsubscribed", "keyword"), ("subscribed", "manual")]
    );
    assert_eq!(history[1].legal_basis.as_deref(), Some("consent"));
    assert_eq!(history[1].actor, "usr_x");
    let subs = store.subscriptions(&ws, &id).await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].status, "unsubscribed");
    let timeline = store.timeline(&ws, &id, None, 50).await.unwrap();
    assert_eq!(timeline.iter().filter(|e| e.kind == "SUBSCRIPTION_CHANGED").count(), 2);
}

#[tokio::test]
async fn refused_consent_changes_store_nothing() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let id = contact(&store, &ws, &[("firstname", "Ana")], &[]).await;
    let mut req = manual(Channel::Sms, SubscriptionStatus::Subscribed);
    req.legal_basis = None;
    let refused = change(&store, &ws, &id, req, 100).await;
    assert!(matches!(
        refused,
        Err(ChangeError::Refused(ConsentError::LegalBasisRequired))
    ));
    assert!(store
        .subscription_history(&ws, &id, Channel::Sms, None, 50)
        .await
        .unwrap()
        .is_empty());
    assert!(store.subscriptions(&ws, &id).await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_consent_changes_each_see_the_previous_one() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let id = contact(&store, &ws, &[("firstname", "Ana")], &[]).await;
    // Twenty contact-driven opt-outs at once: exactly one changes the state,
    // the others see it and write nothing.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (store, ws, id) = (store.clone(), ws.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let mut req = manual(Channel::Voice, SubscriptionStatus::Unsubscribed);
            req.source = ConsentSource::Keyword;
            change(&store, &ws, &id, req, 100 + i).await.unwrap()
        }));
    }
    let mut changed = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), ChangeOutcome::Changed(_)) {
            changed += 1;
        }
    }
    assert_eq!(changed, 1);
    assert_eq!(
        store
            .subscription_history(&ws, &id, Channel::Voice, None, 50)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn erasing_a_contact_removes_personal_data_and_history() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = workspace(&store, "acme").await;
    let id = contact(
        &store,
        &ws,
        &[("firstname", "Ana"), ("email", "ana@example.com")],
        &[("phone", "+5511912345678")],
    )
    .await;
    change(
        &store,
        &ws,
        &id,
        manual(Channel::Sms, SubscriptionStatus::Subscribed),
        100,
    )
    .await
    .unwrap();
    store.erase_contact(&ws, &id, 300).await.unwrap();
    assert!(matches!(store.contact(&ws, &id).await, Err(StoreError::NotFound)));
    assert!(store.contact_by_phone(&ws, "+5511912345678").await.unwrap().is_none());
    assert!(store.contact_by_email(&ws, "ana@example.com").await.unwrap().is_none());
    assert!(store
        .subscription_history(&ws, &id, Channel::Sms, None, 50)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .list_contacts(
            &ws,
            &ContactQuery {
                text: Some("ana".into()),
                limit: 50,
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .is_empty());
    // The anonymous timeline entries remain for statistics.
    let events = store.timeline(&ws, &id, None, 50).await.unwrap();
    assert!(events.iter().all(|e| e.details == "{}"));
}

/// A job of the queue's tests: sending message `message_id`.
fn job(message_id: &str, run_at: i64, max_attempts: i64) -> NewJob<'static> {
    NewJob {
        task: Task::SmsSend {
            message_id: message_id.to_string(),
        },
        workspace_id: None,
        run_at,
        max_attempts,
    }
}

#[tokio::test]
async fn jobs_are_claimed_once_when_due_and_completed_by_their_lease_holder() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let id = store.enqueue_job(&job("msg_1", 1_000, 3), 0).await.unwrap();
    assert!(
        store.claim_job("w1", None, 999, 30_000).await.unwrap().is_none(),
        "not due yet"
    );
    let claimed = store.claim_job("w1", None, 1_000, 30_000).await.unwrap().unwrap();
    assert_eq!((claimed.id.as_str(), claimed.attempts), (id.as_str(), 1));
    assert_eq!(
        claimed.task().unwrap(),
        Task::SmsSend {
            message_id: "msg_1".into()
        }
    );
    assert!(
        store.claim_job("w2", None, 1_001, 30_000).await.unwrap().is_none(),
        "leased jobs are not claimed again"
    );
    assert!(
        !store.complete_job(&id, "w2", 1_002).await.unwrap(),
        "only the lease holder completes"
    );
    assert!(store.complete_job(&id, "w1", 1_002).await.unwrap());
    assert_eq!(store.job(&id).await.unwrap().unwrap().status, DONE);
}

#[tokio::test]
async fn expired_leases_return_jobs_to_the_queue() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let id = store.enqueue_job(&job("msg_1", 0, 3), 0).await.unwrap();
    store.claim_job("w1", None, 10, 1_000).await.unwrap().unwrap();
    assert!(store.claim_job("w2", None, 500, 1_000).await.unwrap().is_none());
    let again = store.claim_job("w2", None, 1_011, 1_000).await.unwrap().unwrap();
    assert_eq!(
        (again.id.as_str(), again.attempts, again.lease_owner.as_deref()),
        (id.as_str(), 2, Some("w2"))
    );
    assert!(
        !store.complete_job(&id, "w1", 1_012).await.unwrap(),
        "the first worker lost its lease"
    );
}

#[tokio::test]
async fn a_deferred_job_returns_to_the_queue_without_using_an_attempt() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let id = store.enqueue_job(&job("msg_1", 0, 3), 0).await.unwrap();
    store.claim_job("w1", None, 10, 1_000).await.unwrap().unwrap();
    assert!(
        !store.defer_job(&id, "w2", 200, 11).await.unwrap(),
        "only the lease holder defers"
    );
    assert!(store.defer_job(&id, "w1", 200, 11).await.unwrap());
    assert!(
        store.claim_job("w2", None, 199, 1_000).await.unwrap().is_none(),
        "not before its time"
    );
    let again = store.claim_job("w2", None, 200, 1_000).await.unwrap().unwrap();
    assert_eq!((again.id.as_str(), again.attempts), (id.as_str(), 1));
}

#[tokio::test]
async fn a_held_lock_is_refused_to_another_holder_until_it_is_released() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let mut held = store
        .try_lock("smpp-bind:ch_1")
        .await
        .unwrap()
        .expect("a free lock is granted");
    assert!(held.is_alive().await);
    if store.kind() == recado_store::BackendKind::Postgres {
        // SQLite serves one node, which holds every lock; PostgreSQL serves many.
        assert!(store.try_lock("smpp-bind:ch_1").await.unwrap().is_none());
        assert!(
            store.try_lock("smpp-bind:ch_2").await.unwrap().is_some(),
            "locks are by name"
        );
    }
    held.release().await;
    assert!(store.try_lock("smpp-bind:ch_1").await.unwrap().is_some());
}

#[tokio::test]
async fn the_leases_of_a_node_that_stopped_beating_go_to_the_others_before_they_expire() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let id = store.enqueue_job(&job("msg_1", 0, 3), 0).await.unwrap();
    store.node_heartbeat("node_a", 0).await.unwrap();
    store.node_heartbeat("node_b", 0).await.unwrap();
    let lease = 60_000;
    store
        .claim_next("node_a:0", None, 10, lease, Some(0))
        .await
        .unwrap()
        .job
        .unwrap();
    // Node A still beats: its lease holds.
    store.node_heartbeat("node_a", 5_000).await.unwrap();
    let claim = store
        .claim_next("node_b:0", None, 6_000, lease, Some(6_000 - 20_000))
        .await
        .unwrap();
    assert!(claim.job.is_none());
    // Node A went quiet 20 s ago: node B takes the job long before the lease ends.
    let claim = store
        .claim_next("node_b:0", None, 26_000, lease, Some(26_000 - 20_000))
        .await
        .unwrap();
    let taken = claim.job.expect("the job moved to node B");
    assert_eq!(
        (taken.id.as_str(), taken.lease_owner.as_deref()),
        (id.as_str(), Some("node_b:0"))
    );
}

#[tokio::test]
async fn a_node_that_stops_releases_its_leases_at_once() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let id = store.enqueue_job(&job("msg_1", 0, 3), 0).await.unwrap();
    store.node_heartbeat("node_a", 0).await.unwrap();
    store
        .claim_next("node_a:1", None, 10, 60_000, None)
        .await
        .unwrap()
        .job
        .unwrap();
    store.remove_node("node_a", 20).await.unwrap();
    let again = store.claim_job("w2", None, 30, 60_000).await.unwrap().unwrap();
    assert_eq!(again.id, id);
}

#[tokio::test]
async fn a_restarted_node_releases_the_leases_of_the_process_it_replaces_at_once() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    // Instants as a clock gives them (an earlier instance is marked as having
    // beaten at the epoch).
    let t = 1_700_000_000_000;
    let first = store.enqueue_job(&job("msg_1", 0, 3), 0).await.unwrap();
    store.enqueue_job(&job("msg_2", 0, 3), 0).await.unwrap();
    store.start_node("node_a", "node_a.run1", t).await.unwrap();
    store.start_node("node_ab", "node_ab.run1", t).await.unwrap();
    for worker in ["node_a.run1:0", "node_ab.run1:0"] {
        store
            .claim_next(worker, None, t + 10, 60_000, Some(t))
            .await
            .unwrap()
            .job
            .unwrap();
    }
    // Killed, and started again a second later: its heartbeat is still fresh.
    store.start_node("node_a", "node_a.run2", t + 1_000).await.unwrap();
    let dead_before = Some(t + 1_000 - 20_000);
    let claim = store
        .claim_next("node_a.run2:0", None, t + 1_000, 60_000, dead_before)
        .await
        .unwrap();
    let taken = claim.job.expect("the earlier run's job is worked again at once");
    assert_eq!(taken.id, first);
    // A node whose name only starts like the restarted one's keeps its job.
    let next = store
        .claim_next("node_a.run2:0", None, t + 1_000, 60_000, dead_before)
        .await
        .unwrap();
    assert!(next.job.is_none());
}

#[tokio::test]
async fn nodes_reserving_slots_of_one_account_get_them_one_interval_apart() {
    let db = TestDatabase::new().await;
    // Two nodes: two stores on the same database.
    let (a, b) = (db.store().await, db.store().await);
    let mut got = Vec::new();
    for (i, store) in [&a, &b, &a, &b].into_iter().enumerate() {
        got.push(
            store
                .reserve_slot("voice:ch_1", 1_000 + i as i64, 250, 2_000)
                .await
                .unwrap(),
        );
    }
    let at = |t| Slot::Reserved { at: t };
    assert_eq!(got, vec![at(1_000), at(1_250), at(1_500), at(1_750)]);
    // Another account has its own slots; an idle account starts at once.
    assert_eq!(
        a.reserve_slot("voice:ch_2", 1_000, 250, 2_000).await.unwrap(),
        at(1_000)
    );
    assert_eq!(
        b.reserve_slot("voice:ch_1", 9_000, 250, 2_000).await.unwrap(),
        at(9_000)
    );
}

#[tokio::test]
async fn a_slot_further_than_the_caller_waits_is_left_free() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    for _ in 0..9 {
        store.reserve_slot("voice:ch_1", 0, 250, 2_000).await.unwrap();
    }
    // The next slot is at 2 250: 250 ms past what the caller waits.
    let far = store.reserve_slot("voice:ch_1", 0, 250, 2_000).await.unwrap();
    assert_eq!(far, Slot::TooFar { retry_after_ms: 250 });
    assert_eq!(
        store.reserve_slot("voice:ch_1", 250, 250, 2_000).await.unwrap(),
        Slot::Reserved { at: 2_250 }
    );
}

#[tokio::test]
async fn failed_jobs_retry_until_their_attempts_are_used_then_stay_visible_as_dead() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let id = store.enqueue_job(&job("msg_1", 0, 2), 0).await.unwrap();
    store.claim_job("w", None, 1, 1_000).await.unwrap().unwrap();
    assert_eq!(
        store.fail_job(&id, "w", "provider down", Some(5_000), 2).await.unwrap(),
        Some(QUEUED)
    );
    assert!(
        store.claim_job("w", None, 4_999, 1_000).await.unwrap().is_none(),
        "retry waits for its time"
    );
    store.claim_job("w", None, 5_000, 1_000).await.unwrap().unwrap();
    assert_eq!(
        store
            .fail_job(&id, "w", "provider down again", Some(9_000), 5_001)
            .await
            .unwrap(),
        Some(DEAD)
    );
    let dead = store.jobs(None, Some(DEAD), None, 50).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("provider down again"));
    assert_eq!(dead[0].attempts, 2);
}

#[tokio::test]
async fn a_job_whose_worker_keeps_dying_is_buried_after_its_attempts() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let id = store.enqueue_job(&job("msg_1", 0, 1), 0).await.unwrap();
    store.claim_job("w1", None, 1, 10).await.unwrap().unwrap();
    assert!(store.claim_job("w2", None, 100, 10).await.unwrap().is_none());
    assert_eq!(store.job(&id).await.unwrap().unwrap().status, DEAD);
}

#[tokio::test]
async fn many_workers_never_run_the_same_job_twice() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    for _ in 0..60 {
        store.enqueue_job(&job("msg_1", 0, 1), 0).await.unwrap();
    }
    let mut workers = Vec::new();
    for w in 0..6 {
        let store = store.clone();
        workers.push(tokio::spawn(async move {
            let name = format!("w{w}");
            let mut mine = Vec::new();
            while let Some(j) = store.claim_job(&name, None, 10, 60_000).await.unwrap() {
                assert!(store.complete_job(&j.id, &name, 11).await.unwrap());
                mine.push(j.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!((total, all.len()), (60, 60));
}

#[tokio::test]
async fn claims_can_be_limited_to_one_kind() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    store.enqueue_job(&job("msg_a", 0, 1), 0).await.unwrap();
    let b = NewJob {
        task: Task::WhatsAppSend {
            message_id: "msg_b".into(),
        },
        ..job("msg_b", 0, 1)
    };
    let b = store.enqueue_job(&b, 0).await.unwrap();
    assert_eq!(
        store
            .claim_job("w", Some(JobKind::WhatsAppSend), 1, 100)
            .await
            .unwrap()
            .unwrap()
            .id,
        b
    );
}

#[test]
fn retry_delays_grow_with_jitter_and_honour_retry_after() {
    let first = recado_store::jobs::retry_delay_ms(0, None);
    assert!((800..=1_200).contains(&first), "{first}");
    let fifth = recado_store::jobs::retry_delay_ms(4, None);
    assert!((12_800..=19_200).contains(&fifth), "{fifth}");
    assert!(recado_store::jobs::retry_delay_ms(30, None) <= 3_600_000 * 12 / 10);
    assert_eq!(recado_store::jobs::retry_delay_ms(0, Some(60_000)), 60_000);
}

#[tokio::test]
async fn sign_in_failures_are_shared_by_every_node_on_the_database() {
    use recado_store::workspaces::SignInFailures;
    let db = TestDatabase::new().await;
    let (node_a, node_b) = (db.store().await, db.store().await);
    let bump = |current: Option<SignInFailures>| SignInFailures {
        count: current.map_or(0, |c| c.count) + 1,
        window_start: current.map_or(100, |c| c.window_start),
    };
    node_a.record_sign_in_failure("ana@example.com", bump).await.unwrap();
    node_b.record_sign_in_failure("ana@example.com", bump).await.unwrap();
    node_a.record_sign_in_failure("ana@example.com", bump).await.unwrap();
    assert_eq!(
        node_b.sign_in_failures("ana@example.com").await.unwrap(),
        Some(SignInFailures {
            count: 3,
            window_start: 100
        })
    );
    node_b.clear_sign_in_failures("ana@example.com").await.unwrap();
    assert_eq!(node_a.sign_in_failures("ana@example.com").await.unwrap(), None);
}

#[tokio::test]
async fn values_outside_the_hubs_enums_are_refused_by_the_database() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let id = store.enqueue_job(&job("msg_1", 0, 1), 0).await.unwrap();
    for (sql, what) in [
        ("UPDATE jobs SET kind = 'no.such_kind' WHERE id = $1", "job kind"),
        ("UPDATE jobs SET status = 'paused' WHERE id = $1", "job status"),
    ] {
        let refused =
            recado_store::on_writer!(store, |pool| sqlx::query(sql).bind(&id).execute(pool).await.map(|_| ()));
        assert!(refused.is_err(), "a {what} the code does not know was stored");
    }
    for (column, value) in [("channel", "fax"), ("direction", "sideways"), ("status", "lost")] {
        let sql = format!(
            "INSERT INTO messages (id, workspace_id, channel, channel_id, direction, status, type, content, created_at, updated_at) \
             VALUES ('msg_x', 'ws', {}, 'ch', {}, {}, 'text', '{{}}', 1, 1)",
            if column == "channel" { format!("'{value}'") } else { "'sms'".into() },
            if column == "direction" { format!("'{value}'") } else { "'out'".into() },
            if column == "status" { format!("'{value}'") } else { "'queued'".into() },
        );
        let refused = recado_store::on_writer!(store, |pool| sqlx::query(&sql).execute(pool).await.map(|_| ()));
        assert!(refused.is_err(), "a message {column} `{value}` was stored");
    }
    assert_eq!(store.job(&id).await.unwrap().unwrap().kind, JobKind::SmsSend);
}

#[tokio::test]
async fn a_template_status_meta_does_not_document_is_refused_by_the_database() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let template = |status| recado_store::whatsapp::TemplateRecord {
        id: "tpl_1".into(),
        workspace_id: "ws".into(),
        channel_id: "ch".into(),
        provider_template_id: None,
        name: "order_update".into(),
        language: "pt_BR".into(),
        category: "UTILITY".into(),
        status,
        components: "[]".into(),
        updated_at: 1,
    };
    store
        .upsert_templates(&[template(TemplateStatus::Paused)])
        .await
        .unwrap();
    let refused = recado_store::on_writer!(store, |pool| sqlx::query("UPDATE wa_templates SET status = 'approved'")
        .execute(pool)
        .await
        .map(|_| ()));
    assert!(refused.is_err(), "a status in the wrong letter case was stored");
    let stored = store.template("ch", "order_update", "pt_BR").await.unwrap().unwrap();
    assert_eq!(stored.status, TemplateStatus::Paused);
}

#[tokio::test]
async fn a_worker_claims_the_oldest_due_job_of_its_kinds_past_those_left_to_others() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    // Many due sends (left to the send dispatcher), then one due job of
    // another kind, then a later send.
    for i in 0..300 {
        store.enqueue_job(&job(&format!("msg_{i}"), i, 3), 0).await.unwrap();
    }
    let webhook = NewJob {
        task: Task::WhatsAppTemplateSync {},
        workspace_id: None,
        run_at: 400,
        max_attempts: 3,
    };
    let other = store.enqueue_job(&webhook, 0).await.unwrap();
    store.enqueue_job(&job("msg_late", 500, 3), 0).await.unwrap();
    let except = [recado_core::jobs::JobKind::SmsSend];
    let claimed = store
        .claim_next_except("node_a:0", None, &except, 1_000, 60_000, None)
        .await
        .unwrap()
        .job
        .expect("the one due job not left to others");
    assert_eq!(claimed.id, other);
    let none = store
        .claim_next_except("node_a:0", None, &except, 1_000, 60_000, None)
        .await
        .unwrap();
    assert!(none.job.is_none());
    // A worker of one kind takes that kind's oldest due job.
    let send = store
        .claim_next(
            "node_a:1",
            Some(recado_core::jobs::JobKind::SmsSend),
            1_000,
            60_000,
            None,
        )
        .await
        .unwrap()
        .job
        .unwrap();
    assert_eq!(send.run_at, 0);
}
