//! Nodes: locks, heartbeats and the leases of nodes that stop; pacing slots.

use super::*;

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
