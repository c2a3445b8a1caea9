//! Cluster-wide exclusive locks, for work only one node may do at a time
//! (an SMPP channel's bind: an SMSC takes one session per account, and two
//! nodes bound at once would each receive half of the receipts).
//!
//! On PostgreSQL a lock is a session-level advisory lock held by a connection
//! taken out of the pool: when the node dies its connection closes and the
//! lock is free at once, so another node takes it over on its next try. A
//! SQLite database is served by a single node, which holds every lock.

use crate::{Backend, Result, Store};
use sqlx::Connection;

/// The first half of every advisory lock key, so the hub's locks never meet
/// another application's locks in the same database.
const LOCK_NAMESPACE: i32 = 0x5245_4344; // "RECD"

/// A lock this node holds until it is released, dropped, or its connection
/// is lost.
#[derive(Debug)]
pub struct HeldLock {
    name: String,
    holder: Holder,
}

#[derive(Debug)]
enum Holder {
    /// SQLite: this node is the only one.
    Local,
    Postgres(sqlx::PgConnection),
}

impl HeldLock {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the lock is still held: the connection holding it must still
    /// answer (a database restart or a cut connection frees the lock, and
    /// another node may hold it by now).
    pub async fn is_alive(&mut self) -> bool {
        match &mut self.holder {
            Holder::Local => true,
            Holder::Postgres(conn) => conn.ping().await.is_ok(),
        }
    }

    /// Frees the lock now rather than when the connection closes.
    pub async fn release(self) {
        if let Holder::Postgres(conn) = self.holder {
            let _ = conn.close().await;
        }
    }
}

impl Store {
    /// Takes the lock named `name` if no node holds it.
    pub async fn try_lock(&self, name: &str) -> Result<Option<HeldLock>> {
        match self.backend() {
            Backend::Sqlite { .. } => Ok(Some(HeldLock {
                name: name.to_string(),
                holder: Holder::Local,
            })),
            Backend::Postgres { pool } => {
                // The connection leaves the pool: the lock lives exactly as
                // long as it does.
                let mut conn = pool.acquire().await?.detach();
                let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2))")
                    .bind(LOCK_NAMESPACE)
                    .bind(name)
                    .fetch_one(&mut conn)
                    .await?;
                if taken {
                    Ok(Some(HeldLock {
                        name: name.to_string(),
                        holder: Holder::Postgres(conn),
                    }))
                } else {
                    let _ = conn.close().await;
                    Ok(None)
                }
            }
        }
    }
}
