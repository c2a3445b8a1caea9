//! Recado's storage API. One [`Store`] talks to either SQLite (one file in the
//! data directory, one writer connection plus a read pool) or PostgreSQL (one
//! pool, shareable by several nodes). SQL is written once where both dialects
//! agree and forked only where they differ (job claiming, row locks).

mod backend;
pub mod broadcasts;
pub mod calls;
pub mod campaigns;
pub mod channel_health;
pub mod channels;
pub mod consent;
// Before `contacts`, whose writes use its macros.
#[macro_use]
pub mod property_values;
pub mod contacts;
pub mod deliveries;
mod dialect;
mod dispatch;
pub mod gauges;
pub mod idempotency;
pub mod inbox;
pub mod jobs;
pub mod keywords;
pub mod links;
pub mod locks;
pub mod messages;
pub mod outbound;
pub mod pacing;
pub mod segments;
pub mod testing;
pub mod timeline;
pub mod timers;
pub mod webhooks;
pub mod whatsapp;
pub mod workflows;
pub mod workspaces;
mod write;
mod write_many;

pub use backend::{migration_names as backend_migration_names, Backend, BackendKind, Store};
pub use dialect::Dialect;
pub use write::WriteTx;
pub use write_many::{OutboundRow, TimelineEntry};

/// Errors of the storage layer. Callers map `NotFound`/`Conflict` to their
/// contract; everything else is an internal error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("unsupported database URL `{0}` (use sqlite://… or postgres://…)")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// A request the store cannot answer, such as a condition about a
    /// workflow's own send compiled to SQL.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl StoreError {
    /// Ok when a write touched at least one row; `NotFound` when the row it
    /// names does not exist (in this workspace).
    pub(crate) fn found(rows_affected: u64) -> Result<()> {
        if rows_affected == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Turns a unique-constraint violation into `Conflict`, leaving other errors alone.
    pub(crate) fn unique_as_conflict(e: sqlx::Error, what: &str) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what.to_string()),
            _ => StoreError::Database(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Runs `$body` with `$pool` bound to the pool that takes writes: SQLite's single
/// writer connection or the PostgreSQL pool. The body is compiled once per
/// backend, so the same query code serves both.
#[macro_export]
macro_rules! on_writer {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store.backend() {
            $crate::Backend::Sqlite { writer, .. } => {
                let $pool = writer;
                $body
            }
            $crate::Backend::Postgres { pool } => {
                let $pool = pool;
                $body
            }
        }
    };
}

/// Like [`on_writer!`] but for reads: SQLite's read pool, so reads never queue
/// behind the writer.
#[macro_export]
macro_rules! on_reader {
    ($store:expr, |$pool:ident| $body:expr) => {
        match $store.backend() {
            $crate::Backend::Sqlite { reader, .. } => {
                let $pool = reader;
                $body
            }
            $crate::Backend::Postgres { pool } => {
                let $pool = pool;
                $body
            }
        }
    };
}

/// Encodes a list position for `next_cursor`; ids sort by creation time so the
/// last id seen is enough.
pub fn encode_cursor(last_id: &str) -> String {
    last_id.to_string()
}

/// Clamps a client's `?limit=` to the contract's range (default 50, max 500).
pub fn clamp_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(50).clamp(1, 500)
}
