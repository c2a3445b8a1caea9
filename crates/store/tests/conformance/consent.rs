//! Consent: its history, refused changes, concurrent changes, erasure.

use super::*;

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
