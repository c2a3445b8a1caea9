//! `contact_property_values`: every known (non-empty) property of a contact in
//! the forms conditions compare — Unicode lowercase text, a finite number, an
//! instant, a truth value — computed here with the very functions the
//! condition evaluator uses (`recado_flow::condition::property_*`). SQL cannot
//! lowercase, parse numbers or read dates the way Rust does, and a segment
//! must count exactly the contacts `Condition::matches` accepts, so the SQL
//! compiled from a condition (`segments::sql`) compares these columns only.
//!
//! The rows are written in the transaction of every contact write (insert,
//! find-or-insert, update, import through those) and removed by erasure; a
//! database that predates them is filled once by
//! [`Store::reindex_property_values_if_needed`], which [`Store::migrate`] runs.

use crate::{on_writer, Result, Store};
use recado_flow::condition::{property_date, property_flag, property_number, property_text};
use std::collections::BTreeMap;

/// One row of `contact_property_values`, without its contact.
#[derive(Clone, Debug, PartialEq)]
pub struct PropertyValue<'a> {
    pub property: &'a str,
    pub text_lower: String,
    pub num: Option<f64>,
    pub at_ms: Option<i64>,
    pub flag: Option<bool>,
}

/// The rows of a contact's properties: one per known property (an empty
/// value is unknown to conditions and has none).
pub fn property_values(properties: &BTreeMap<String, String>) -> Vec<PropertyValue<'_>> {
    properties
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(property, value)| PropertyValue {
            property,
            text_lower: property_text(value),
            num: property_number(value),
            at_ms: property_date(value),
            flag: property_flag(value),
        })
        .collect()
}

/// Rows per INSERT statement (seven parameters each, well under both
/// backends' limits).
pub(crate) const ROWS_PER_INSERT: usize = 500;

/// `INSERT … VALUES (…), (…)` for `rows` rows of (workspace_id, contact_id,
/// property, text_lower, num, at_ms, flag).
pub(crate) fn insert_sql(rows: usize) -> String {
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let p: Vec<String> = (1..=7).map(|i| format!("${}", r * 7 + i)).collect();
            format!("({})", p.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO contact_property_values (workspace_id, contact_id, property, text_lower, num, at_ms, flag) VALUES {}",
        tuples.join(", ")
    )
}

/// Writes the property value rows of a contact inside an open transaction
/// (`$conn` is what `execute` takes: `&mut *tx`). The contact must have none
/// yet: [`clear_property_values!`] first when replacing.
macro_rules! insert_property_values {
    ($conn:expr, $workspace_id:expr, $contact_id:expr, $properties:expr) => {{
        let values = $crate::property_values::property_values($properties);
        for chunk in values.chunks($crate::property_values::ROWS_PER_INSERT) {
            let sql = $crate::property_values::insert_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for v in chunk {
                query = query
                    .bind($workspace_id)
                    .bind($contact_id)
                    .bind(v.property)
                    .bind(&v.text_lower)
                    .bind(v.num)
                    .bind(v.at_ms)
                    .bind(v.flag);
            }
            query.execute($conn).await?;
        }
    }};
}

/// Removes the property value rows of a contact inside an open transaction.
macro_rules! clear_property_values {
    ($conn:expr, $contact_id:expr) => {{
        sqlx::query("DELETE FROM contact_property_values WHERE contact_id = $1")
            .bind($contact_id)
            .execute($conn)
            .await?;
    }};
}

/// The name under which the first fill of `contact_property_values` is
/// recorded in `store_backfills`.
pub const PROPERTY_VALUES_BACKFILL: &str = "contact_property_values";

/// Contacts rewritten per transaction by a reindex.
const CONTACTS_PER_BATCH: i64 = 500;

#[derive(sqlx::FromRow)]
struct ContactProperties {
    id: String,
    workspace_id: String,
    properties: String,
}

impl Store {
    /// Fills `contact_property_values` from every contact's stored properties
    /// unless that was done already (recorded in `store_backfills`): the
    /// first start after the migration that added the table. Returns how
    /// many contacts were rewritten. Safe beside running writes and on
    /// several nodes at once: each batch locks its contacts (PostgreSQL; the
    /// single writer on SQLite) and rewrites their rows from what is stored.
    pub async fn reindex_property_values_if_needed(&self) -> Result<u64> {
        let done: i64 = on_writer!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM store_backfills WHERE name = $1")
                .bind(PROPERTY_VALUES_BACKFILL)
                .fetch_one(pool)
                .await?
        });
        if done > 0 {
            return Ok(0);
        }
        let rewritten = self.reindex_property_values().await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        on_writer!(self, |pool| {
            sqlx::query("INSERT INTO store_backfills (name, done_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(PROPERTY_VALUES_BACKFILL)
                .bind(now)
                .execute(pool)
                .await?;
        });
        if rewritten > 0 {
            tracing::info!(contacts = rewritten, "contact property values indexed");
        }
        Ok(rewritten)
    }

    /// Rewrites the `contact_property_values` rows of every contact that is
    /// not erased from its stored properties, in batches of contacts.
    pub async fn reindex_property_values(&self) -> Result<u64> {
        let sql = format!(
            "SELECT id, workspace_id, properties FROM contacts WHERE erased_at IS NULL AND id > $1 \
             ORDER BY id LIMIT $2{}",
            self.dialect().for_update()
        );
        let mut after = String::new();
        let mut rewritten = 0u64;
        loop {
            let batch = on_writer!(self, |pool| {
                let mut tx = pool.begin().await?;
                let rows: Vec<ContactProperties> = sqlx::query_as(&sql)
                    .bind(&after)
                    .bind(CONTACTS_PER_BATCH)
                    .fetch_all(&mut *tx)
                    .await?;
                for row in &rows {
                    let properties: BTreeMap<String, String> = serde_json::from_str(&row.properties)
                        .map_err(|e| crate::StoreError::Corrupt(format!("contact {}: {e}", row.id)))?;
                    clear_property_values!(&mut *tx, &row.id);
                    insert_property_values!(&mut *tx, &row.workspace_id, &row.id, &properties);
                }
                tx.commit().await?;
                rows.last().map(|r| (r.id.clone(), rows.len()))
            });
            match batch {
                Some((last, n)) => {
                    after = last;
                    rewritten += n as u64;
                }
                None => return Ok(rewritten),
            }
        }
    }
}
