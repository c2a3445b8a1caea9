//! The plans of the queries every send runs, on a workspace large enough for
//! a bad plan to show, without planner statistics (a fresh database has
//! none until ANALYZE runs, and nothing guarantees it ever does).

use recado_core::ids::{new_id, IdKind};
use recado_store::consent::SUBSCRIPTIONS_OF_CONTACT;
use recado_store::testing::TestDatabase;
use recado_store::workspaces::Workspace;
use recado_store::{Backend, Store};

const CONTACTS: i64 = 50_000;

/// A workspace of `CONTACTS` contacts, each subscribed to SMS, written in
/// two statements.
async fn large_workspace(store: &Store) -> String {
    let ws = new_id(IdKind::Workspace);
    store
        .create_workspace(&Workspace {
            id: ws.clone(),
            name: "large".into(),
            default_country: None,
            timezone: "UTC".into(),
            created_at: 1,
        })
        .await
        .unwrap();
    let numbers = format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {CONTACTS})");
    let contacts = format!(
        "{numbers} INSERT INTO contacts (id, workspace_id, properties, search_text, created_at, updated_at) \
         SELECT 'ct_' || i, $1, '{{}}', '', 1, 1 FROM n"
    );
    let subscriptions = format!(
        "{numbers} INSERT INTO subscriptions (workspace_id, contact_id, channel, status, source, actor, updated_at) \
         SELECT $1, 'ct_' || i, 'sms', 'subscribed', 'import', 'import', 1 FROM n"
    );
    recado_store::on_writer!(store, |pool| {
        for sql in [&contacts, &subscriptions] {
            sqlx::query(sql).bind(&ws).execute(pool).await.unwrap();
        }
    });
    ws
}

/// The plan of `sql` for one contact, one line per step.
async fn plan(store: &Store, sql: &str, ws: &str) -> Vec<String> {
    match store.backend() {
        Backend::Sqlite { reader, .. } => {
            let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                .bind(ws)
                .bind("ct_777")
                .fetch_all(reader)
                .await
                .unwrap();
            rows.into_iter().map(|r| r.3).collect()
        }
        Backend::Postgres { pool } => sqlx::query_scalar(&format!("EXPLAIN {sql}"))
            .bind(ws)
            .bind("ct_777")
            .fetch_all(pool)
            .await
            .unwrap(),
    }
}

#[tokio::test]
async fn a_contacts_subscriptions_are_found_by_its_key_not_by_scanning_the_workspace() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = large_workspace(&store).await;
    let steps = plan(&store, SUBSCRIPTIONS_OF_CONTACT, &ws).await;
    let by_contact = steps.iter().any(|s| {
        // SQLite: "SEARCH subscriptions USING INDEX … (workspace_id=? AND contact_id=?)";
        // PostgreSQL: an index scan whose condition names the contact.
        s.contains("contact_id=?") || (s.contains("Index") && s.contains("subscriptions"))
    });
    let scans = steps.iter().any(|s| s.contains("Seq Scan") || s.starts_with("SCAN"));
    assert!(by_contact && !scans, "plan: {steps:#?}");
    let found = store.subscriptions(&ws, "ct_777").await.unwrap();
    assert_eq!(found.len(), 1);
}
