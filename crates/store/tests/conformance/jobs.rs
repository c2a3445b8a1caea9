//! The job queue: claims, leases, retries, burials, kinds, timers.

use super::*;
use recado_store::timers::{timer_job_id, Timer};

/// A job of the queue's tests: sending message `message_id`.
pub(crate) fn job(message_id: &str, run_at: i64, max_attempts: i64) -> NewJob<'static> {
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

/// The one timer job of call `owner`, due at `run_at`.
fn timer(owner: &str, run_at: i64) -> Timer {
    Timer {
        id: timer_job_id(owner),
        workspace_id: "ws_timers".into(),
        task: Task::SmsSend {
            message_id: owner.to_string(),
        },
        run_at,
        max_attempts: 3,
    }
}

async fn arm(store: &Store, t: &Timer, now: i64) {
    let mut tx = store.write().await.unwrap();
    tx.arm_timers(&[t], now).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_timer_armed_again_is_moved_never_doubled() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    arm(&store, &timer("msg_1", 1_000), 0).await;
    arm(&store, &timer("msg_1", 5_000), 10).await;
    assert!(store.claim_job("w", None, 4_999, 60_000).await.unwrap().is_none());
    let claimed = store.claim_job("w", None, 5_000, 60_000).await.unwrap().unwrap();
    assert_eq!(claimed.id, timer_job_id("msg_1"));
    assert!(store.complete_job(&claimed.id, "w", 5_001).await.unwrap());
    assert!(store.claim_job("w", None, 100_000, 60_000).await.unwrap().is_none());
}

#[tokio::test]
async fn a_disarmed_timer_never_runs() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    arm(&store, &timer("msg_1", 1_000), 0).await;
    let mut tx = store.write().await.unwrap();
    tx.disarm_timer(&timer_job_id("msg_1")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.claim_job("w", None, 100_000, 60_000).await.unwrap().is_none());
}

#[tokio::test]
async fn a_timer_armed_again_while_it_runs_runs_again_at_its_new_time() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    arm(&store, &timer("msg_1", 1_000), 0).await;
    let running = store.claim_job("w", None, 1_000, 60_000).await.unwrap().unwrap();
    arm(&store, &timer("msg_1", 3_000), 1_001).await;
    // The run that was moved under it no longer holds the job.
    assert!(!store.complete_job(&running.id, "w", 1_002).await.unwrap());
    let again = store.claim_job("w", None, 3_000, 60_000).await.unwrap().unwrap();
    assert_eq!((again.id.as_str(), again.attempts), (running.id.as_str(), 1));
}
