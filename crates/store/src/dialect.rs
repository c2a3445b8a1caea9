//! Every place where SQLite and PostgreSQL need different SQL. Queries are
//! written once with `$n` placeholders; what differs — row locks, advisory
//! locks, full-text search, integer sums, substring tests — is asked of the
//! [`Dialect`] here, so a fork between the backends is never hidden in a
//! query module.

use crate::BackendKind;

/// The SQL dialect of a store's backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect(pub BackendKind);

impl Dialect {
    /// The suffix that locks the rows a write transaction reads. SQLite's
    /// single writer already serialises every write transaction.
    pub fn for_update(self) -> &'static str {
        match self.0 {
            BackendKind::Sqlite => "",
            BackendKind::Postgres => " FOR UPDATE",
        }
    }

    /// The suffix that lets concurrent claimers skip each other's rows
    /// (job claims); SQLite's single writer claims one at a time anyway.
    pub fn skip_locked(self) -> &'static str {
        match self.0 {
            BackendKind::Sqlite => "",
            BackendKind::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// A clause naming the index a query must read, where the planner (no
    /// statistics: SQLite is not `ANALYZE`d) would take another one; none on
    /// PostgreSQL, whose planner keeps statistics.
    pub fn indexed_by(self, index: &str) -> String {
        match self.0 {
            BackendKind::Sqlite => format!(" INDEXED BY {index}"),
            BackendKind::Postgres => String::new(),
        }
    }

    /// A statement taking a transaction-scoped lock on the key bound as
    /// `$1` (text), for work that has no row to lock yet (the first contact
    /// of a phone number, a workspace's conversation count). None on SQLite,
    /// where the single writer is the lock.
    pub fn advisory_xact_lock(self) -> Option<&'static str> {
        match self.0 {
            BackendKind::Sqlite => None,
            BackendKind::Postgres => Some("SELECT pg_advisory_xact_lock(hashtext($1))"),
        }
    }

    /// Whether the text `haystack` contains the text `needle` (both SQL
    /// expressions), compared as they are: no pattern characters, no case
    /// folding.
    pub fn contains_text(self, haystack: &str, needle: &str) -> String {
        match self.0 {
            BackendKind::Sqlite => format!("instr({haystack}, {needle}) > 0"),
            BackendKind::Postgres => format!("strpos({haystack}, {needle}) > 0"),
        }
    }

    /// `sql`, a query whose columns are `SUM`s, with every column read as a
    /// 64-bit integer (PostgreSQL's `SUM` is NUMERIC).
    pub fn integer_sums(self, sql: String, columns: &[&str]) -> String {
        match self.0 {
            BackendKind::Sqlite => sql,
            BackendKind::Postgres => {
                let casts: Vec<String> = columns.iter().map(|c| format!("{c}::BIGINT AS {c}")).collect();
                format!("SELECT {} FROM ({sql}) sums", casts.join(", "))
            }
        }
    }

    /// The full-text query for `terms` (each matched as a prefix, all
    /// required): FTS5 `"w"* "v"*` or a PostgreSQL tsquery `w:* & v:*` of
    /// the terms folded by `fold` (PostgreSQL's `simple` configuration does
    /// not remove accents, so the stored vectors are folded too).
    pub fn text_matcher(self, terms: &[String], fold: impl Fn(&str) -> String) -> String {
        match self.0 {
            BackendKind::Sqlite => terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" "),
            BackendKind::Postgres => terms
                .iter()
                .map(|t| format!("{}:*", fold(t)))
                .collect::<Vec<_>>()
                .join(" & "),
        }
    }
}

impl Dialect {
    /// The condition on threads `t` matching a search: words in a message
    /// (never a quarantined one) or in the contact's name, or a phone number
    /// ending with the digits. `$ws`, `$m` and `$p` are the placeholders of
    /// the workspace id, the [`text_matcher`](Self::text_matcher) and the
    /// phone digits (NULL when the search is not a number).
    pub fn thread_search_condition(self, ws: usize, m: usize, p: usize) -> String {
        use crate::inbox::search::{pg_contact_vector, pg_message_vector};
        let phone = format!(
            "OR ${p} IS NOT NULL AND t.contact_id IN (SELECT cp.contact_id FROM contact_phones cp \
             WHERE cp.workspace_id = ${ws} AND cp.e164 LIKE '%' || ${p})"
        );
        match self.0 {
            BackendKind::Sqlite => format!(
                "AND (t.id IN (SELECT sm.thread_id FROM message_search JOIN messages sm ON sm.id = message_search.message_id \
                 WHERE message_search MATCH ${m} AND sm.workspace_id = ${ws} AND sm.quarantined = 0) \
                 OR t.contact_id IN (SELECT contact_search.contact_id FROM contact_search WHERE contact_search MATCH ${m}) {phone})"
            ),
            BackendKind::Postgres => format!(
                "AND (t.id IN (SELECT sm.thread_id FROM messages sm WHERE sm.workspace_id = ${ws} AND NOT sm.quarantined \
                 AND {} @@ to_tsquery('simple', ${m})) \
                 OR t.contact_id IN (SELECT sc.id FROM contacts sc WHERE sc.workspace_id = ${ws} \
                 AND {} @@ to_tsquery('simple', ${m})) {phone})",
                pg_message_vector("sm"),
                pg_contact_vector("sc")
            ),
        }
    }
}
