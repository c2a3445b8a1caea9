//! Send slots shared by every node: an account paced at one send per
//! `interval_ms` hands out slots one interval apart, whichever node asks.

use crate::{on_writer, Result, Store};

/// What a reservation got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The slot is the caller's: send at this instant (ms, never before now).
    Reserved { at: i64 },
    /// The next free slot is further away than the caller would wait; it was
    /// left free. Ask again after this many ms.
    TooFar { retry_after_ms: i64 },
}

impl Store {
    /// Reserves `key`'s next free slot — `now`, or one interval after the
    /// last slot reserved, whichever is later — unless it is more than
    /// `max_wait_ms` away. One statement: concurrent callers on any node get
    /// distinct slots.
    pub async fn reserve_slot(&self, key: &str, now: i64, interval_ms: i64, max_wait_ms: i64) -> Result<Slot> {
        // `next_at` after the reservation, when one was made.
        let reserved: Option<i64> = on_writer!(self, |pool| sqlx::query_scalar(
            "INSERT INTO pacing_slots (key, next_at) VALUES ($1, $2 + $3) \
             ON CONFLICT (key) DO UPDATE SET \
               next_at = (CASE WHEN pacing_slots.next_at > $2 THEN pacing_slots.next_at ELSE $2 END) + $3 \
             WHERE pacing_slots.next_at - $2 <= $4 \
             RETURNING next_at"
        )
        .bind(key)
        .bind(now)
        .bind(interval_ms)
        .bind(max_wait_ms)
        .fetch_optional(pool)
        .await?);
        if let Some(next_at) = reserved {
            return Ok(Slot::Reserved {
                at: next_at - interval_ms,
            });
        }
        let next_at: i64 = on_writer!(self, |pool| sqlx::query_scalar(
            "SELECT next_at FROM pacing_slots WHERE key = $1"
        )
        .bind(key)
        .fetch_one(pool)
        .await?);
        Ok(Slot::TooFar {
            retry_after_ms: (next_at - now - max_wait_ms).max(1),
        })
    }
}
