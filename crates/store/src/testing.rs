//! Fresh databases for tests, on the backend chosen by `RECADO_TEST_BACKEND`
//! (`sqlite`, the default, or `postgres`). The test command runs the whole
//! suite once per backend, so every test that uses this helper checks both.

use crate::Store;
use sqlx::Connection;
use std::path::PathBuf;

/// The administrative PostgreSQL URL tests create their databases through.
pub fn postgres_admin_url() -> String {
    std::env::var("RECADO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Whether the suite runs against PostgreSQL in this process.
pub fn testing_postgres() -> bool {
    matches!(
        std::env::var("RECADO_TEST_BACKEND").as_deref(),
        Ok("postgres") | Ok("postgresql") | Ok("pg")
    )
}

/// An empty database that disappears when dropped.
pub struct TestDatabase {
    pub url: String,
    sqlite_dir: Option<PathBuf>,
    postgres_name: Option<String>,
}

impl TestDatabase {
    pub async fn new() -> TestDatabase {
        let unique = ulid::Ulid::new().to_string().to_ascii_lowercase();
        if testing_postgres() {
            let admin = postgres_admin_url();
            let name = format!("recado_test_{unique}");
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for RECADO_TEST_BACKEND=postgres: {e}"));
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            conn.close().await.ok();
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
            TestDatabase {
                url: format!("{base}/{name}"),
                sqlite_dir: None,
                postgres_name: Some(name),
            }
        } else {
            let dir = std::env::temp_dir().join(format!("recado-test-{unique}"));
            std::fs::create_dir_all(&dir).expect("create test directory");
            let url = format!("sqlite://{}", dir.join("recado.db").display());
            TestDatabase {
                url,
                sqlite_dir: Some(dir),
                postgres_name: None,
            }
        }
    }

    /// A connected, migrated store on this database.
    pub async fn store(&self) -> Store {
        let store = Store::connect(&self.url).await.expect("connect to test database");
        store.migrate().await.expect("migrate test database");
        store
    }

    /// The directory a SQLite test database lives in (data directory for the app).
    pub fn data_dir(&self) -> Option<&PathBuf> {
        self.sqlite_dir.as_ref()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(dir) = &self.sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = self.postgres_name.take() {
            // Drop runs outside async; a short-lived runtime on its own thread
            // removes the database even while other connections linger.
            let admin = postgres_admin_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await
                        .ok()?;
                    conn.close().await.ok()
                })
            })
            .join();
        }
    }
}

/// Generated contacts for load tests and benchmarks: `n` contacts
/// (`firstname` "Cliente {i}", `mobilephone` +551191{i:07}, counted from
/// `first`) subscribed to SMS, written as the contact services write them
/// (phones index, property values, subscription) but 500 to a transaction
/// and many rows per statement, so a million take seconds, not the
/// minutes the API's one-contact-at-a-time import takes.
pub async fn seed_subscribed_contacts(
    store: &Store,
    workspace_id: &str,
    first: usize,
    n: usize,
    now: i64,
) -> crate::Result<()> {
    seed_contacts_subscribed_to(store, workspace_id, first, n, now, "sms").await
}

/// [`seed_subscribed_contacts`], subscribed to `channel` (`sms`, `voice`…).
pub async fn seed_contacts_subscribed_to(
    store: &Store,
    workspace_id: &str,
    first: usize,
    n: usize,
    now: i64,
    channel: &str,
) -> crate::Result<()> {
    use recado_core::ids::{new_id, IdKind};
    use std::collections::BTreeMap;
    const BATCH: usize = 500;
    for start in (first..first + n).step_by(BATCH) {
        type Row = (String, BTreeMap<String, String>, BTreeMap<String, String>);
        let rows: Vec<Row> = (start..(start + BATCH).min(first + n))
            .map(|i| {
                let phone = format!("+551191{i:07}");
                let props = BTreeMap::from([
                    ("firstname".to_string(), format!("Cliente {i}")),
                    ("mobilephone".to_string(), phone.clone()),
                ]);
                (
                    new_id(IdKind::Contact),
                    props,
                    BTreeMap::from([("mobilephone".to_string(), phone)]),
                )
            })
            .collect();
        crate::on_writer!(store, |pool| {
            let mut tx = pool.begin().await?;
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO contacts (id, workspace_id, properties, search_text, email, created_at, updated_at) ",
            );
            q.push_values(&rows, |mut b, (id, props, phones)| {
                b.push_bind(id)
                    .push_bind(workspace_id)
                    .push_bind(serde_json::to_string(props).unwrap_or_default())
                    .push_bind(crate::contacts::search_text(props, phones))
                    .push_bind(None::<String>)
                    .push_bind(now)
                    .push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
            let mut q =
                sqlx::QueryBuilder::new("INSERT INTO contact_phones (workspace_id, contact_id, property, e164) ");
            q.push_values(&rows, |mut b, (id, _, phones)| {
                b.push_bind(workspace_id)
                    .push_bind(id)
                    .push_bind("mobilephone")
                    .push_bind(phones["mobilephone"].clone());
            });
            q.build().execute(&mut *tx).await?;
            let values: Vec<(&String, crate::property_values::PropertyValue<'_>)> = rows
                .iter()
                .flat_map(|(id, props, _)| {
                    crate::property_values::property_values(props)
                        .into_iter()
                        .map(move |v| (id, v))
                })
                .collect();
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO contact_property_values (workspace_id, contact_id, property, text_lower, num, at_ms, flag) ",
            );
            q.push_values(&values, |mut b, (id, v)| {
                b.push_bind(workspace_id)
                    .push_bind(*id)
                    .push_bind(v.property)
                    .push_bind(&v.text_lower)
                    .push_bind(v.num)
                    .push_bind(v.at_ms)
                    .push_bind(v.flag);
            });
            q.build().execute(&mut *tx).await?;
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO subscriptions (workspace_id, contact_id, channel, status, legal_basis, explanation, source, actor, updated_at) ",
            );
            q.push_values(&rows, |mut b, (id, _, _)| {
                b.push_bind(workspace_id)
                    .push_bind(id)
                    .push_bind(channel)
                    .push_bind("subscribed")
                    .push_bind("consent")
                    .push_bind("generated")
                    .push_bind("manual")
                    .push_bind("seed")
                    .push_bind(now);
            });
            q.build().execute(&mut *tx).await?;
            tx.commit().await?;
        });
    }
    Ok(())
}
