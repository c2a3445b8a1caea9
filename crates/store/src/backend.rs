use crate::{Result, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The connection pools of one backend.
#[derive(Clone, Debug)]
pub enum Backend {
    /// One writer connection (SQLite allows one writer at a time; queueing in
    /// the pool is cheaper than `SQLITE_BUSY` retries) and a pool of readers.
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres {
        pool: PgPool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

/// The storage API. Cheap to clone (pools are shared).
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
}

impl Store {
    /// Opens `sqlite://path` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("sqlite:") {
            Self::connect_sqlite(url).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::connect_postgres(url).await
        } else {
            Err(StoreError::UnsupportedUrl(url.to_string()))
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Store> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a write that was acknowledged survives a crash of the
            // process and of the machine, not only of the process.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // Page caches in KiB (negative): SQLite's default 2 MB sends the
        // writer back to the kernel for every page of the full-text index it
        // merges as messages are inserted (a quarter of the time of a
        // million-recipient broadcast's preparation went there).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone().pragma("cache_size", "-65536"))
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true).pragma("cache_size", "-8192"))
            .await?;
        Ok(Store {
            backend: Backend::Sqlite { writer, reader },
        })
    }

    async fn connect_postgres(url: &str) -> Result<Store> {
        // Plan every execution with its parameters. A statement sqlx keeps
        // prepared would otherwise settle on PostgreSQL's generic plan, made
        // when a table was still small (a sequential scan of `threads` for a
        // batch of contacts, say) and kept while the table grows: a batch
        // lookup that took 0.3 ms took 400 ms once 50,000 threads existed.
        let options = PgConnectOptions::from_str(url)?.options([("plan_cache_mode", "force_custom_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(Store {
            backend: Backend::Postgres { pool },
        })
    }

    /// Applies the embedded migrations of this backend, then the fills that
    /// need Rust (contact property values, once). Safe to run from several
    /// nodes at once (sqlx takes an advisory lock on PostgreSQL).
    pub async fn migrate(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await?,
            Backend::Postgres { pool } => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        self.reindex_property_values_if_needed().await?;
        Ok(())
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The SQL dialect of this backend: the one place queries fork.
    pub fn dialect(&self) -> crate::Dialect {
        crate::Dialect(self.kind())
    }

    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite { .. } => BackendKind::Sqlite,
            Backend::Postgres { .. } => BackendKind::Postgres,
        }
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        crate::on_reader!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Copies the SQLite database to `path` with `VACUUM INTO`: a consistent
    /// snapshot taken while the hub keeps running.
    pub async fn backup_sqlite(&self, path: &str) -> Result<()> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                sqlx::query("VACUUM INTO $1").bind(path).execute(writer).await?;
                Ok(())
            }
            Backend::Postgres { .. } => Err(StoreError::UnsupportedUrl(
                "backup is for SQLite; use pg_dump for PostgreSQL".into(),
            )),
        }
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { writer, reader } => {
                writer.close().await;
                reader.close().await;
            }
            Backend::Postgres { pool } => pool.close().await,
        }
    }
}

/// The migration file names of each backend, for the check that both stay in step.
pub fn migration_names() -> (Vec<String>, Vec<String>) {
    let names = |m: &sqlx::migrate::Migrator| m.iter().map(|m| format!("{}_{}", m.version, m.description)).collect();
    (names(&SQLITE_MIGRATIONS), names(&POSTGRES_MIGRATIONS))
}
