//! The plans of the queries every send runs, on a workspace large enough for
//! a bad plan to show, without planner statistics (a fresh database has
//! none until ANALYZE runs, and nothing guarantees it ever does).

use recado_core::ids::{new_id, IdKind};
use recado_store::consent::SUBSCRIPTIONS_OF_CONTACT;
use recado_store::segments::sql::Bind;
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

/// A workspace of `CONTACTS` contacts, each with two properties (and their
/// indexed values), an SMS subscription and two timeline events.
async fn large_segmentable_workspace(store: &Store) -> String {
    let ws = large_workspace(store).await;
    let numbers = format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {CONTACTS})");
    let values = format!(
        "{numbers} INSERT INTO contact_property_values (workspace_id, contact_id, property, text_lower, num, at_ms, flag) \
         SELECT $1, 'ct_' || i, p.property, p.text_lower, p.num, NULL, NULL FROM n, \
         (SELECT 'city' AS property, 'lisboa' AS text_lower, NULL AS num UNION ALL SELECT 'age', '42', 42.0) p"
    );
    let events = format!(
        "{numbers} INSERT INTO timeline_events (id, workspace_id, contact_id, type, at, message_id, campaign, sender, details) \
         SELECT 'evt_' || i || '_' || e.type, $1, 'ct_' || i, e.type, i, NULL, 'BF', NULL, '{{}}' FROM n, \
         (SELECT 'SMS_DELIVERED' AS type UNION ALL SELECT 'SMS_CLICKED') e"
    );
    recado_store::on_writer!(store, |pool| {
        for sql in [&values, &events] {
            sqlx::query(sql).bind(&ws).execute(pool).await.unwrap();
        }
    });
    ws
}

#[tokio::test]
async fn counting_a_segment_looks_each_condition_up_by_contact_without_scanning_a_table() {
    let db = TestDatabase::new().await;
    let store = db.store().await;
    let ws = large_segmentable_workspace(&store).await;
    let condition = recado_flow::Condition::parse(&serde_json::json!({"all": [
        {"property": "city", "op": "eq", "value": "Lisboa"},
        {"any": [
            {"property": "age", "op": "gt", "value": 18},
            {"property": "city", "op": "contains", "value": "boa"},
            {"property": "email", "op": "is_unknown"}
        ]},
        {"subscription": "sms", "op": "neq", "value": "unsubscribed"},
        {"event": "SMS_CLICKED", "campaign": "BF", "since": "-P7D", "op": "is_known"},
        {"event": "SMS_DELIVERED", "campaign": "Xmas", "op": "is_unknown"}
    ]}))
    .unwrap();
    let (sql, binds) = store.count_matching_query(&ws, &condition, 1_000_000).unwrap();
    let steps: Vec<String> = recado_store::on_reader!(&store, |pool| {
        let explain = match store.backend() {
            Backend::Sqlite { .. } => format!("EXPLAIN QUERY PLAN {sql}"),
            Backend::Postgres { .. } => format!("EXPLAIN {sql}"),
        };
        let mut query = sqlx::query(&explain);
        for bind in &binds {
            query = match bind {
                Bind::Text(text) => query.bind(text.as_str()),
                Bind::Real(number) => query.bind(*number),
                Bind::Int(number) => query.bind(*number),
                Bind::Bool(flag) => query.bind(*flag),
            };
        }
        let rows = query.fetch_all(pool).await.unwrap();
        rows.iter()
            .map(|row| {
                use sqlx::Row;
                match store.backend() {
                    Backend::Sqlite { .. } => row.get::<String, _>(3),
                    Backend::Postgres { .. } => row.get::<String, _>(0),
                }
            })
            .collect()
    });
    // SQLite: "SEARCH c USING INDEX contacts_workspace (workspace_id=?)" then
    // one "SEARCH … (contact_id=? …)" per condition; PostgreSQL: index scans.
    let scans: Vec<&String> = steps
        .iter()
        .filter(|s| s.contains("Seq Scan") || s.trim_start().starts_with("SCAN"))
        .collect();
    assert!(scans.is_empty(), "plan: {steps:#?}");
    let lookups = steps
        .iter()
        .filter(|s| s.contains("contact_id=?") || s.contains("Index"))
        .count();
    assert!(lookups >= 7, "every condition looks its contact up: {steps:#?}");
    assert_eq!(
        store.count_matching(&ws, &condition, 1_000_000).await.unwrap(),
        CONTACTS as u64
    );
}
