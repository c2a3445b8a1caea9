//! Segments: saved conditions over a workspace's contacts, and the queries
//! that answer a condition in SQL — how many contacts match, which ones (a
//! page of ids or of contacts, by ascending id), whether one contact does —
//! through the compilation in [`sql`]. Erased contacts never match.

pub mod sql;

use crate::contacts::{Contact, ContactRow, CONTACT_COLUMNS};
use crate::{on_reader, on_writer, Result, Store, StoreError};
use recado_flow::condition::{EventQuery, EventScope};
use recado_flow::Condition;
use sql::{bind_compiled, compile, Bind, Compiled};

/// Which side of a page's last id the next page is on.
enum Page<'a> {
    /// Ascending ids after this one.
    After(Option<&'a str>),
    /// Descending ids before this one.
    Before(Option<&'a str>),
}

/// A stored segment.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentRecord {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub filter: Condition,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct SegmentRow {
    id: String,
    workspace_id: String,
    name: String,
    filter: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<SegmentRow> for SegmentRecord {
    type Error = StoreError;

    fn try_from(row: SegmentRow) -> Result<SegmentRecord> {
        let json: serde_json::Value =
            serde_json::from_str(&row.filter).map_err(|e| StoreError::Corrupt(format!("segment {}: {e}", row.id)))?;
        let filter = Condition::parse(&json).map_err(|e| StoreError::Corrupt(format!("segment {}: {e}", row.id)))?;
        Ok(SegmentRecord {
            id: row.id,
            workspace_id: row.workspace_id,
            name: row.name,
            filter,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const SEGMENT_COLUMNS: &str = "id, workspace_id, name, filter, created_at, updated_at";

/// The contacts of a workspace that may match: not erased.
const CANDIDATES: &str = "FROM contacts c WHERE c.workspace_id = $1 AND c.erased_at IS NULL";

impl Store {
    pub async fn insert_segment(&self, s: &SegmentRecord) -> Result<()> {
        let filter = s.filter.to_json().to_string();
        on_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO segments (id, workspace_id, name, filter, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&s.id)
            .bind(&s.workspace_id)
            .bind(&s.name)
            .bind(&filter)
            .bind(s.created_at)
            .bind(s.updated_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The segment `id` of the workspace; `NotFound` when there is none.
    pub async fn segment(&self, workspace_id: &str, id: &str) -> Result<SegmentRecord> {
        let sql = format!("SELECT {SEGMENT_COLUMNS} FROM segments WHERE workspace_id = $1 AND id = $2");
        let row = on_reader!(self, |pool| sqlx::query_as::<_, SegmentRow>(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)?;
        row.try_into()
    }

    /// A workspace's segments, newest first; `before_id` continues a page.
    pub async fn segments(
        &self,
        workspace_id: &str,
        before_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<SegmentRecord>> {
        let sql = format!(
            "SELECT {SEGMENT_COLUMNS} FROM segments WHERE workspace_id = $1 AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        );
        let rows = on_reader!(self, |pool| sqlx::query_as::<_, SegmentRow>(&sql)
            .bind(workspace_id)
            .bind(before_id)
            .bind(limit)
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(SegmentRecord::try_from).collect()
    }

    /// Writes a segment's name, filter and `updated_at`; `NotFound` when the
    /// workspace has no segment with its id.
    pub async fn update_segment(&self, s: &SegmentRecord) -> Result<()> {
        let filter = s.filter.to_json().to_string();
        let n = on_writer!(self, |pool| {
            sqlx::query(
                "UPDATE segments SET name = $1, filter = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5",
            )
            .bind(&s.name)
            .bind(&filter)
            .bind(s.updated_at)
            .bind(&s.workspace_id)
            .bind(&s.id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        StoreError::found(n)
    }

    pub async fn delete_segment(&self, workspace_id: &str, id: &str) -> Result<()> {
        let n = on_writer!(self, |pool| {
            sqlx::query("DELETE FROM segments WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        StoreError::found(n)
    }

    /// How many contacts of the workspace match `condition` at `now`.
    pub async fn count_matching(&self, workspace_id: &str, condition: &Condition, now: i64) -> Result<u64> {
        let (sql, binds) = self.count_matching_query(workspace_id, condition, now)?;
        let count: i64 = on_reader!(self, |pool| {
            bind_compiled!(sqlx::query_scalar(&sql).persistent(false), &binds)
                .fetch_one(pool)
                .await?
        });
        Ok(count.max(0) as u64)
    }

    /// The statement [`Store::count_matching`] runs and its parameters (for
    /// looking at its plan).
    pub fn count_matching_query(
        &self,
        workspace_id: &str,
        condition: &Condition,
        now: i64,
    ) -> Result<(String, Vec<Bind>)> {
        let Compiled { sql, mut binds } = compile(condition, now, self.dialect(), 2)?;
        binds.insert(0, Bind::Text(workspace_id.to_string()));
        Ok((format!("SELECT COUNT(*) {CANDIDATES} AND {sql}"), binds))
    }

    /// The ids of the contacts matching `condition` at `now`, ascending,
    /// after `after` (a page's last id) and at most `limit` of them.
    pub async fn matching_contact_ids(
        &self,
        workspace_id: &str,
        condition: &Condition,
        now: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>> {
        let (sql, binds) = self.matching_query("c.id", workspace_id, condition, now, after, limit)?;
        Ok(on_reader!(self, |pool| {
            bind_compiled!(sqlx::query_scalar(&sql).persistent(false), &binds)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The contacts matching `condition` at `now`, as [`matching_contact_ids`]
    /// pages them.
    ///
    /// [`matching_contact_ids`]: Store::matching_contact_ids
    pub async fn matching_contacts(
        &self,
        workspace_id: &str,
        condition: &Condition,
        now: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Contact>> {
        let columns: Vec<String> = CONTACT_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect();
        let (sql, binds) = self.matching_query(&columns.join(", "), workspace_id, condition, now, after, limit)?;
        let rows = on_reader!(self, |pool| {
            bind_compiled!(sqlx::query_as::<_, ContactRow>(&sql).persistent(false), &binds)
                .fetch_all(pool)
                .await?
        });
        self.attach_phones(rows).await
    }

    /// Whether the contact `contact_id` of the workspace (not erased)
    /// matches `condition` at `now`.
    pub async fn contact_matches(
        &self,
        workspace_id: &str,
        contact_id: &str,
        condition: &Condition,
        now: i64,
    ) -> Result<bool> {
        let Compiled { sql, binds } = compile(condition, now, self.dialect(), 3)?;
        let sql = format!("SELECT COUNT(*) {CANDIDATES} AND c.id = $2 AND {sql}");
        let count: i64 = on_reader!(self, |pool| {
            bind_compiled!(
                sqlx::query_scalar(&sql)
                    .persistent(false)
                    .bind(workspace_id)
                    .bind(contact_id),
                &binds
            )
            .fetch_one(pool)
            .await?
        });
        Ok(count > 0)
    }

    /// The contacts matching `condition` at `now`, newest first (descending
    /// id) before `before` (a page's last id): the contacts list's order.
    pub async fn matching_contacts_newest(
        &self,
        workspace_id: &str,
        condition: &Condition,
        now: i64,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Contact>> {
        let columns: Vec<String> = CONTACT_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect();
        let (sql, binds) = self.ordered_matching_query(
            &columns.join(", "),
            workspace_id,
            condition,
            now,
            Page::Before(before),
            limit,
        )?;
        let rows = on_reader!(self, |pool| {
            bind_compiled!(sqlx::query_as::<_, ContactRow>(&sql).persistent(false), &binds)
                .fetch_all(pool)
                .await?
        });
        self.attach_phones(rows).await
    }

    /// `SELECT {columns}` of the matching contacts by ascending id, with
    /// every parameter in order (workspace, `after`, the condition's, limit).
    fn matching_query(
        &self,
        columns: &str,
        workspace_id: &str,
        condition: &Condition,
        now: i64,
        after: Option<&str>,
        limit: u32,
    ) -> Result<(String, Vec<Bind>)> {
        self.ordered_matching_query(columns, workspace_id, condition, now, Page::After(after), limit)
    }

    fn ordered_matching_query(
        &self,
        columns: &str,
        workspace_id: &str,
        condition: &Condition,
        now: i64,
        page: Page<'_>,
        limit: u32,
    ) -> Result<(String, Vec<Bind>)> {
        let mut binds = vec![Bind::Text(workspace_id.to_string())];
        let (bound, comparison, order) = match page {
            Page::After(id) => (id, ">", "ASC"),
            Page::Before(id) => (id, "<", "DESC"),
        };
        let mut bound_test = String::new();
        if let Some(id) = bound {
            binds.push(Bind::Text(id.to_string()));
            bound_test = format!(" AND c.id {comparison} $2");
        }
        let compiled = compile(condition, now, self.dialect(), binds.len() + 1)?;
        binds.extend(compiled.binds);
        binds.push(Bind::Int(i64::from(limit)));
        let sql = format!(
            "SELECT {columns} {CANDIDATES}{bound_test} AND {} ORDER BY c.id {order} LIMIT ${}",
            compiled.sql,
            binds.len()
        );
        Ok((sql, binds))
    }

    /// When the events `query` describes happened to a contact (its
    /// timeline), within the query's time bounds, oldest first. Events of a
    /// workflow's own send (`EventScope::Send`) are the run's to answer.
    pub async fn event_times(&self, workspace_id: &str, contact_id: &str, query: &EventQuery) -> Result<Vec<i64>> {
        let mut sql = "SELECT t.at FROM timeline_events t WHERE t.workspace_id = $1 AND t.contact_id = $2 \
                       AND t.type = $3"
            .to_string();
        let mut binds = vec![Bind::Text(query.event.clone())];
        let mut narrow = |sql: &mut String, test: &str, bind: Bind| {
            binds.push(bind);
            sql.push_str(&format!(" AND {test} ${}", binds.len() + 2));
        };
        match &query.scope {
            EventScope::Campaign(campaign) => narrow(&mut sql, "t.campaign =", Bind::Text(campaign.clone())),
            EventScope::AnyMessage => {}
            EventScope::Send(node) => {
                return Err(StoreError::Unsupported(format!(
                    "events of the send `{}` belong to a workflow run",
                    node.as_str()
                )))
            }
        }
        if let Some(sender) = &query.sender {
            narrow(&mut sql, "t.sender =", Bind::Text(sender.clone()));
        }
        if let Some(message_id) = &query.message_id {
            narrow(&mut sql, "t.message_id =", Bind::Text(message_id.clone()));
        }
        if let Some(since) = query.since {
            narrow(&mut sql, "t.at >=", Bind::Int(since));
        }
        if let Some(until) = query.until {
            narrow(&mut sql, "t.at <=", Bind::Int(until));
        }
        sql.push_str(" ORDER BY t.at");
        Ok(on_reader!(self, |pool| {
            bind_compiled!(
                sqlx::query_scalar(&sql)
                    .persistent(false)
                    .bind(workspace_id)
                    .bind(contact_id),
                &binds
            )
            .fetch_all(pool)
            .await?
        }))
    }
}
