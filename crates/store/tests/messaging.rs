//! Messaging storage, on both backends: inbound dedupe, threads and tickets,
//! sessions, quota and tier checks, delivery updates, webhook events and
//! idempotency keys.

use recado_core::consent::Channel;
use recado_core::delivery::{MessageStatus, OutboundStatus};
use recado_core::ids::{new_id, IdKind};
use recado_core::jobs::{JobKind, Task};
use recado_core::whatsapp::{SESSION_WINDOW_MS, TIER_WINDOW_MS};
use recado_store::contacts::ContactWrite;
use recado_store::idempotency::{Claim, Holder, KeyFinish};
use recado_store::jobs::NewJob;
use recado_store::links::ShortLink;
use recado_store::messages::{
    ConversationWrite, DeliveryUpdate, InboundWrite, MessageRecord, OutboundRefusal, QuotaCheck, TimelineNote,
};
use recado_store::testing::TestDatabase;
use recado_store::webhooks::IncomingWebhook;
use recado_store::whatsapp::NewNotification;
use recado_store::workspaces::Workspace;
use recado_store::{Store, StoreError};
use std::collections::BTreeMap;

struct Fixture {
    store: Store,
    ws: String,
    contact: String,
    _db: TestDatabase,
}

async fn fixture() -> Fixture {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = new_id(IdKind::Workspace);
    store
        .create_workspace(&Workspace {
            id: ws.clone(),
            name: "acme".into(),
            default_country: None,
            timezone: "UTC".into(),
            created_at: 0,
        })
        .await
        .unwrap();
    let contact = new_id(IdKind::Contact);
    let props: BTreeMap<String, String> = [("firstname".to_string(), "Ana".to_string())].into();
    let phones: BTreeMap<String, String> = [("whatsapp_phone".to_string(), "+5511912345678".to_string())].into();
    store
        .insert_contact(&ContactWrite {
            workspace_id: &ws,
            id: &contact,
            properties: &props,
            phones: &phones,
            now: 0,
        })
        .await
        .unwrap();
    Fixture {
        store,
        ws,
        contact,
        _db: db,
    }
}

fn message(f: &Fixture, direction: &str, provider_id: Option<&str>, at: i64) -> MessageRecord {
    MessageRecord {
        id: new_id(IdKind::Message).into(),
        workspace_id: f.ws.clone(),
        channel: Channel::Whatsapp,
        channel_id: "ch_1".into(),
        thread_id: None,
        contact_id: Some(f.contact.clone().into()),
        direction: direction.parse().unwrap(),
        status: if direction == "in" {
            MessageStatus::Received
        } else {
            OutboundStatus::Queued.into()
        },
        kind: "text".into(),
        text: Some("hi".into()),
        content: "{}".into(),
        template: None,
        campaign: None,
        campaign_id: None,
        campaign_source: None,
        sender: Some("+5511912345678".into()),
        recipient: Some("pn_1".into()),
        provider_message_id: provider_id.map(str::to_string),
        segments: None,
        encoding: None,
        error_code: None,
        error_message: None,
        quarantined: false,
        counted: false,
        send_attempted_at: None,
        created_at: at,
        updated_at: at,
    }
}

fn inbound<'a>(m: &'a MessageRecord, at: i64) -> InboundWrite<'a> {
    InboundWrite {
        message: m,
        account: "pn_1",
        at,
        timeline: TimelineNote {
            kind: "WHATSAPP_RECEIVED",
            details: serde_json::json!({}),
        },
    }
}

#[tokio::test]
async fn the_same_provider_message_twice_is_stored_once() {
    let f = fixture().await;
    let first = message(&f, "in", Some("wamid.A"), 1_000);
    let again = message(&f, "in", Some("wamid.A"), 1_000);
    let a = f.store.record_inbound(&inbound(&first, 1_000)).await.unwrap();
    let b = f.store.record_inbound(&inbound(&again, 1_000)).await.unwrap();
    assert!(!a.duplicate);
    assert!(b.duplicate);
    assert_eq!(b.message_id, first.id);
    assert_eq!(f.store.thread_messages(&f.ws, &a.thread_id, 50).await.unwrap().len(), 1);
}

#[tokio::test]
async fn inbound_messages_share_a_thread_and_an_open_ticket() {
    let f = fixture().await;
    let a = f
        .store
        .record_inbound(&inbound(&message(&f, "in", Some("wamid.1"), 1_000), 1_000))
        .await
        .unwrap();
    let b = f
        .store
        .record_inbound(&inbound(&message(&f, "in", Some("wamid.2"), 2_000), 2_000))
        .await
        .unwrap();
    assert_eq!(a.thread_id, b.thread_id);
    assert_eq!(a.ticket_id, b.ticket_id);
    let timeline = f.store.timeline(&f.ws, &f.contact, None, 10).await.unwrap();
    assert_eq!(timeline.iter().filter(|e| e.kind == "WHATSAPP_RECEIVED").count(), 2);
}

#[tokio::test]
async fn an_inbound_message_after_the_window_starts_a_new_session() {
    let f = fixture().await;
    let a = f
        .store
        .record_inbound(&inbound(&message(&f, "in", Some("wamid.1"), 1_000), 1_000))
        .await
        .unwrap();
    f.store
        .record_inbound(&inbound(&message(&f, "in", Some("wamid.2"), 5_000), 5_000))
        .await
        .unwrap();
    let thread = f.store.thread(&f.ws, &a.thread_id).await.unwrap();
    assert_eq!(
        (thread.session_started_at, thread.last_inbound_at),
        (Some(1_000), Some(5_000)),
        "inside the window the session continues"
    );
    let late = 5_000 + SESSION_WINDOW_MS;
    f.store
        .record_inbound(&inbound(&message(&f, "in", Some("wamid.3"), late), late))
        .await
        .unwrap();
    let thread = f.store.thread(&f.ws, &a.thread_id).await.unwrap();
    assert_eq!(thread.session_started_at, Some(late));
}

fn quota(limit: u64, tier_cap: Option<u64>) -> QuotaCheck {
    QuotaCheck {
        period_start: 0,
        period_end: i64::MAX,
        limit,
        tier_cap,
    }
}

/// Records an outbound message the way the send services do: the
/// conversation's admission, the thread and the message in one transaction.
async fn record(
    store: &Store,
    m: &MessageRecord,
    account: Option<&str>,
    conversation: Option<ConversationWrite<'_>>,
    quota: Option<QuotaCheck>,
) -> Result<(), OutboundRefusal> {
    let mut m = m.clone();
    let mut tx = store.write().await.unwrap();
    if let Some(c) = &conversation {
        tx.admit_conversation(&m, quota.as_ref(), c).await.unwrap()?;
    }
    if let Some(account) = account {
        tx.file_outbound(&mut m, account).await.unwrap();
    }
    tx.insert_message(&mut m).await.unwrap();
    tx.commit().await.unwrap();
    Ok(())
}

#[tokio::test]
async fn counted_conversations_stop_at_the_monthly_limit() {
    let f = fixture().await;
    for i in 0..3 {
        let m = message(&f, "out", None, 10 + i);
        let conversation = ConversationWrite {
            recipient: "+5511912345678",
            business_initiated: true,
        };
        let result = record(&f.store, &m, Some("pn_1"), Some(conversation), Some(quota(2, None))).await;
        if i < 2 {
            assert!(result.is_ok());
        } else {
            assert_eq!(result.unwrap_err(), OutboundRefusal::QuotaExhausted);
            assert!(
                matches!(
                    f.store.message(&f.ws, &m.id).await,
                    Err(recado_store::StoreError::NotFound)
                ),
                "a refusal writes nothing"
            );
        }
    }
    assert_eq!(f.store.count_conversations(&f.ws, 0, i64::MAX).await.unwrap(), 2);
}

#[tokio::test]
async fn the_tier_cap_counts_unique_recipients_in_a_rolling_day() {
    let f = fixture().await;
    let send = |recipient: &'static str, at: i64| {
        let m = message(&f, "out", None, at);
        let store = f.store.clone();
        async move {
            let conversation = ConversationWrite {
                recipient,
                business_initiated: true,
            };
            record(&store, &m, None, Some(conversation), Some(quota(1_000, Some(2)))).await
        }
    };
    assert!(send("+1", 100).await.is_ok());
    assert!(send("+2", 200).await.is_ok());
    assert!(
        send("+1", 300).await.is_ok(),
        "a recipient already in the window takes no new slot"
    );
    assert_eq!(
        send("+3", 400).await.unwrap_err(),
        OutboundRefusal::MessagingLimitReached
    );
    assert!(send("+3", 300 + TIER_WINDOW_MS).await.is_ok(), "the window rolls");
}

#[tokio::test]
async fn delivery_updates_read_modify_write_with_events() {
    let f = fixture().await;
    let m = message(&f, "out", None, 10);
    record(&f.store, &m, Some("pn_1"), None, None).await.unwrap();
    let updated = f
        .store
        .update_delivery(&m.id, 20, |current| {
            assert_eq!(current.status, OutboundStatus::Queued);
            Some(DeliveryUpdate {
                status: Some(OutboundStatus::Sent),
                provider_message_id: Some("wamid.X".into()),
                events: vec![("sent".into(), serde_json::json!({}))],
                timeline: vec![("WHATSAPP_SENT".into(), serde_json::json!({}))],
                ..Default::default()
            })
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.status, OutboundStatus::Sent);
    assert_eq!(
        f.store
            .message_by_provider_id("ch_1", "wamid.X")
            .await
            .unwrap()
            .unwrap()
            .id,
        m.id
    );
    let events: Vec<String> = f
        .store
        .message_events(&m.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(events, vec!["queued", "sent"]);
    assert!(
        f.store.update_delivery(&m.id, 30, |_| None).await.unwrap().is_none(),
        "no change writes nothing"
    );
}

#[tokio::test]
async fn identical_webhook_deliveries_are_stored_once_with_one_job() {
    let f = fixture().await;
    let event = |id: &'static str| IncomingWebhook {
        id,
        workspace_id: &f.ws,
        channel_id: "ch_1",
        dedupe_key: "digest-1",
        body: "{}",
        received_at: 5,
        job: |event_id| Task::WhatsAppWebhook { event_id },
    };
    assert!(f.store.store_webhook(&event("evt_1")).await.unwrap());
    assert!(!f.store.store_webhook(&event("evt_2")).await.unwrap());
    assert_eq!(f.store.count_webhook_events("ch_1").await.unwrap(), 1);
    assert_eq!(f.store.jobs(Some(&f.ws), None, None, 50).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_batch_of_webhooks_stores_each_delivery_once_with_one_job_across_statement_chunks() {
    let f = fixture().await;
    // Deliveries (id, body digest): more than two insert statements' worth.
    let first: Vec<(String, String)> = (0..600)
        .map(|i| (format!("evt_a{i:04}"), format!("digest-{i}")))
        .collect();
    // Then: the first 600 again, 400 new ones, and 100 repeats of those within the batch.
    let second: Vec<(String, String)> = (0..1_100)
        .map(|i| {
            (
                format!("evt_b{i:04}"),
                format!("digest-{}", if i < 1_000 { i } else { i - 400 }),
            )
        })
        .collect();
    let store_all = |list: &[(String, String)]| {
        let f = &f;
        let list = list.to_vec();
        async move {
            let batch: Vec<IncomingWebhook<'_>> = list
                .iter()
                .map(|(id, key)| IncomingWebhook {
                    id,
                    workspace_id: &f.ws,
                    channel_id: "ch_1",
                    dedupe_key: key,
                    body: "{}",
                    received_at: 5,
                    job: |event_id| Task::WhatsAppWebhook { event_id },
                })
                .collect();
            f.store.store_webhooks(&batch).await.unwrap()
        }
    };
    let stored = store_all(&first).await;
    assert!(stored.iter().all(|new| *new));
    let stored = store_all(&second).await;
    assert!(stored[..600].iter().all(|new| !new), "repeats of stored deliveries");
    assert!(stored[600..1_000].iter().all(|new| *new), "new deliveries");
    assert!(stored[1_000..].iter().all(|new| !new), "repeats within the batch");
    assert_eq!(f.store.count_webhook_events("ch_1").await.unwrap(), 1_000);
    let jobs = f.store.jobs(Some(&f.ws), None, None, 5_000).await.unwrap();
    let events: std::collections::HashSet<String> = jobs
        .iter()
        .map(|j| match j.task().unwrap() {
            Task::WhatsAppWebhook { event_id } => event_id,
            other => panic!("not a webhook job: {other:?}"),
        })
        .collect();
    assert_eq!((jobs.len(), events.len()), (1_000, 1_000), "one job per stored event");
    assert!(events.contains("evt_a0000") && events.contains("evt_b0999") && !events.contains("evt_b1000"));
}

fn alive(node: &str) -> Holder<'_> {
    Holder { node, dead_before: 0 }
}

#[tokio::test]
async fn idempotency_keys_return_the_first_request() {
    let f = fixture().await;
    f.store.node_heartbeat("node_a.1", 0).await.unwrap();
    let claim = |hash: &'static str, now: i64| {
        let store = f.store.clone();
        let ws = f.ws.clone();
        async move {
            store
                .claim_idempotency(&ws, "k1", hash, alive("node_a.1"), now, 1_000)
                .await
                .unwrap()
        }
    };
    assert_eq!(claim("hash-a", 0).await, Claim::Claimed);
    let Claim::Earlier(pending) = claim("hash-a", 1).await else {
        panic!("claimed twice")
    };
    assert_eq!((pending.status_code, pending.holder_alive), (0, true));
    f.store
        .finish_idempotency(&f.ws, "k1", "node_a.1", 202, "{\"id\":\"msg_1\"}")
        .await
        .unwrap();
    let Claim::Earlier(done) = claim("hash-b", 2).await else {
        panic!("claimed twice")
    };
    assert_eq!((done.status_code, done.request_hash.as_str()), (202, "hash-a"));
    assert_eq!(
        claim("hash-b", 2_000).await,
        Claim::Claimed,
        "expired keys are forgotten"
    );
}

#[tokio::test]
async fn a_key_held_by_a_node_that_is_gone_is_taken_over_by_one_claimant() {
    let f = fixture().await;
    f.store.node_heartbeat("node_a.1", 0).await.unwrap();
    f.store.node_heartbeat("node_b.1", 30_000).await.unwrap();
    f.store.node_heartbeat("node_c.1", 30_000).await.unwrap();
    let claim = |node: &'static str, hash: &'static str| {
        let store = f.store.clone();
        let ws = f.ws.clone();
        let holder = Holder {
            node,
            dead_before: 10_000,
        };
        async move {
            store
                .claim_idempotency(&ws, "k1", hash, holder, 30_000, 86_400_000)
                .await
                .unwrap()
        }
    };
    assert_eq!(claim("node_a.1", "hash-a").await, Claim::Claimed);
    // node_a stopped beating at 0; anything older than 10 s is gone.
    let Claim::Earlier(other_body) = claim("node_b.1", "hash-b").await else {
        panic!("another body took the key")
    };
    assert_eq!(
        other_body.request_hash, "hash-a",
        "a key is only taken over for its own request"
    );
    assert_eq!(claim("node_b.1", "hash-a").await, Claim::Claimed);
    let Claim::Earlier(held) = claim("node_c.1", "hash-a").await else {
        panic!("taken over twice")
    };
    assert_eq!((held.holder.as_str(), held.holder_alive), ("node_b.1", true));
    // The old holder can no longer answer under the key.
    f.store
        .finish_idempotency(&f.ws, "k1", "node_a.1", 202, "{}")
        .await
        .unwrap();
    let Claim::Earlier(still) = claim("node_c.1", "hash-a").await else {
        panic!()
    };
    assert_eq!(still.status_code, 0);
}

#[tokio::test]
async fn a_key_finished_with_its_send_is_answered_again_even_when_its_node_is_gone() {
    let f = fixture().await;
    f.store.node_heartbeat("node_a.1", 0).await.unwrap();
    let holder = Holder {
        node: "node_a.1",
        dead_before: 0,
    };
    f.store
        .claim_idempotency(&f.ws, "k1", "hash-a", holder, 0, 86_400_000)
        .await
        .unwrap();
    let mut tx = f.store.write().await.unwrap();
    tx.finish_idempotency(&KeyFinish {
        workspace_id: &f.ws,
        key: "k1",
        holder: "node_a.1",
        status_code: 202,
        response: "{\"id\":\"msg_1\"}",
        message_id: "msg_1",
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let later = Holder {
        node: "node_b.1",
        dead_before: 50_000,
    };
    let Claim::Earlier(done) = f
        .store
        .claim_idempotency(&f.ws, "k1", "hash-a", later, 60_000, 86_400_000)
        .await
        .unwrap()
    else {
        panic!("a finished key was taken over")
    };
    assert_eq!((done.status_code, done.message_id.as_deref()), (202, Some("msg_1")));
}

#[tokio::test]
async fn a_send_whose_key_was_taken_over_is_not_recorded() {
    let f = fixture().await;
    let gone = Holder {
        node: "node_a.1",
        dead_before: 0,
    };
    f.store
        .claim_idempotency(&f.ws, "k1", "hash-a", gone, 0, 86_400_000)
        .await
        .unwrap();
    f.store.node_heartbeat("node_b.1", 60_000).await.unwrap();
    let taker = Holder {
        node: "node_b.1",
        dead_before: 50_000,
    };
    let taken = f
        .store
        .claim_idempotency(&f.ws, "k1", "hash-a", taker, 60_000, 86_400_000)
        .await
        .unwrap();
    assert_eq!(taken, Claim::Claimed);
    let mut tx = f.store.write().await.unwrap();
    let late = tx
        .finish_idempotency(&KeyFinish {
            workspace_id: &f.ws,
            key: "k1",
            holder: "node_a.1",
            status_code: 202,
            response: "{}",
            message_id: "msg_late",
        })
        .await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
}

#[tokio::test]
async fn a_new_usage_notification_writes_its_outbound_event_in_the_same_transaction_once() {
    let f = fixture().await;
    f.store
        .create_endpoint(&recado_store::outbound::Endpoint {
            id: new_id(IdKind::Event),
            workspace_id: f.ws.clone(),
            url: "http://127.0.0.1:9/hook".into(),
            secret: "sealed".into(),
            events: "usage.threshold".into(),
            enabled: true,
            consecutive_failures: 0,
            disabled_reason: None,
            created_at: 0,
        })
        .await
        .unwrap();
    let d = serde_json::json!({"percent": 80});
    for at in [1, 2] {
        f.store
            .add_notification(&NewNotification {
                workspace_id: &f.ws,
                kind: "usage_threshold",
                period_start: 0,
                percent: 80,
                details: &d,
                event: Some("usage.threshold"),
                email: false,
                at,
            })
            .await
            .unwrap();
    }
    let deliveries = f.store.jobs(Some(&f.ws), Some("queued"), None, 50).await.unwrap();
    let deliveries: Vec<_> = deliveries
        .iter()
        .filter(|j| j.kind == JobKind::WebhookDelivery)
        .collect();
    assert_eq!(deliveries.len(), 1, "one event for one new notification");
}

#[tokio::test]
async fn notifications_are_recorded_once_per_period_and_threshold() {
    let f = fixture().await;
    let d = serde_json::json!({});
    assert!(f
        .store
        .add_notification(&NewNotification {
            workspace_id: &f.ws,
            kind: "usage_threshold",
            period_start: 0,
            percent: 70,
            details: &d,
            event: None,
            email: false,
            at: 1
        })
        .await
        .unwrap());
    assert!(!f
        .store
        .add_notification(&NewNotification {
            workspace_id: &f.ws,
            kind: "usage_threshold",
            period_start: 0,
            percent: 70,
            details: &d,
            event: None,
            email: false,
            at: 2
        })
        .await
        .unwrap());
    assert!(f
        .store
        .add_notification(&NewNotification {
            workspace_id: &f.ws,
            kind: "usage_threshold",
            period_start: 100,
            percent: 70,
            details: &d,
            event: None,
            email: false,
            at: 3
        })
        .await
        .unwrap());
    assert_eq!(f.store.notifications(&f.ws, None, Some(0), 50).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_write_transaction_dropped_before_commit_leaves_no_message_link_or_job() {
    let f = fixture().await;
    let mut m = message(&f, "out", None, 10);
    {
        let mut tx = f.store.write().await.unwrap();
        tx.insert_message(&mut m).await.unwrap();
        let link = ShortLink {
            code: "abc123".into(),
            workspace_id: f.ws.clone(),
            message_id: m.id.to_string(),
            contact_id: m.contact_id.as_deref().map(str::to_string),
            target_url: "https://example.com/".into(),
            clicks: 0,
            created_at: 10,
        };
        tx.insert_short_links(&[link]).await.unwrap();
        let job = NewJob {
            task: Task::SmsSend {
                message_id: m.id.to_string(),
            },
            workspace_id: Some(&f.ws),
            run_at: 10,
            max_attempts: 3,
        };
        tx.enqueue(&job, 10).await.unwrap();
        // The send is refused here: no commit.
    }
    assert!(matches!(
        f.store.message(&f.ws, &m.id).await,
        Err(recado_store::StoreError::NotFound)
    ));
    assert!(f.store.short_link("abc123").await.unwrap().is_none());
    assert!(f.store.jobs(Some(&f.ws), None, None, 50).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_write_transaction_commits_many_jobs_and_links_in_few_statements() {
    let f = fixture().await;
    let mut m = message(&f, "out", None, 10);
    let jobs: Vec<NewJob<'_>> = (0..1_200)
        .map(|i| NewJob {
            task: Task::SmsSend {
                message_id: format!("msg_{i}"),
            },
            workspace_id: Some(&f.ws),
            run_at: 10,
            max_attempts: 3,
        })
        .collect();
    let links: Vec<ShortLink> = (0..1_100)
        .map(|i| ShortLink {
            code: format!("c{i:05}"),
            workspace_id: f.ws.clone(),
            message_id: m.id.to_string(),
            contact_id: None,
            target_url: "https://example.com/".into(),
            clicks: 0,
            created_at: 10,
        })
        .collect();
    let mut tx = f.store.write().await.unwrap();
    tx.insert_message(&mut m).await.unwrap();
    let ids = tx.enqueue_many(&jobs, 10).await.unwrap();
    tx.insert_short_links(&links).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids.len(), 1_200);
    assert_eq!(f.store.jobs(Some(&f.ws), None, None, 5_000).await.unwrap().len(), 1_200);
    assert!(f.store.short_link("c01099").await.unwrap().is_some());
}

/// Two sends of one campaign reported `sent` in two open transactions.
async fn sent_in_open_transaction(store: &Store, id: &str) -> recado_store::WriteTx {
    let mut tx = store.write().await.unwrap();
    tx.update_delivery(id, 20, |_| {
        Some(DeliveryUpdate {
            status: Some(OutboundStatus::Sent),
            events: vec![("sent".into(), serde_json::json!({}))],
            timeline: vec![("WHATSAPP_SENT".into(), serde_json::json!({}))],
            ..Default::default()
        })
    })
    .await
    .unwrap();
    tx
}

#[tokio::test]
async fn events_of_one_campaign_counted_in_concurrent_transactions_do_not_wait_for_each_other() {
    let f = fixture().await;
    // SQLite has one writer: its transactions never run side by side.
    if f.store.kind() != recado_store::BackendKind::Postgres {
        return;
    }
    let mut ids = Vec::new();
    for at in [10, 11] {
        let mut m = message(&f, "out", None, at);
        m.campaign = Some("Spring".into());
        m.campaign_source = Some(recado_core::campaigns::Source::Api);
        record(&f.store, &m, None, None, None).await.unwrap();
        ids.push(m.id);
    }
    let first = sent_in_open_transaction(&f.store, &ids[0]).await;
    let second = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sent_in_open_transaction(&f.store, &ids[1]),
    )
    .await
    .expect("the second send's counters do not wait for the first transaction's commit");
    first.commit().await.unwrap();
    second.commit().await.unwrap();
    let campaign = f.store.message(&f.ws, &ids[0]).await.unwrap().campaign_id.unwrap();
    let sent: i64 = f
        .store
        .campaign_counters(&f.ws, &[campaign.as_str()])
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, counter, _)| counter == "sent")
        .map(|(_, _, n)| n)
        .sum();
    assert_eq!(sent, 2, "the statistics sum every shard");
}
