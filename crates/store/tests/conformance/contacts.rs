//! Contacts: stored, found by any phone, searched, paged, kept per workspace.

use super::*;

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
