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

mod consent;
mod contacts;
mod jobs;
mod nodes;

use jobs::job;

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
