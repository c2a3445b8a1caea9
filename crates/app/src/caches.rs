//! Short-lived copies of what every API request reads and rarely changes:
//! the owner of a bearer token, a workspace's settings, a workspace's
//! channels of a kind. At thousands of requests a second each read costs
//! more than the work the request asks for. A change made through this node
//! drops the copy at once; other nodes see it within the time to live, so a
//! revoked token keeps working there for at most [`TOKEN_TTL`].

use recado_store::channels::ChannelRecord;
use recado_store::workspaces::{TokenOwner, Workspace};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

pub const TOKEN_TTL: Duration = Duration::from_secs(1);
const WORKSPACE_TTL: Duration = Duration::from_secs(1);
const CHANNELS_TTL: Duration = Duration::from_secs(5);

/// Entries that expire `ttl` after they were put.
pub struct TtlCache<V> {
    ttl: Duration,
    map: RwLock<HashMap<String, (Instant, V)>>,
}

impl<V: Clone> TtlCache<V> {
    pub fn new(ttl: Duration) -> TtlCache<V> {
        TtlCache {
            ttl,
            map: RwLock::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &str) -> Option<V> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: &str, value: V) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        map.insert(key.to_string(), (Instant::now(), value));
    }

    pub fn forget(&self, key: &str) {
        self.map.write().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    pub fn clear(&self) {
        self.map.write().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// The caches of the API's hot path.
pub struct Caches {
    /// Token hash → its owner.
    pub tokens: TtlCache<TokenOwner>,
    /// Workspace id → the workspace.
    pub workspaces: TtlCache<Workspace>,
    /// `{workspace id}:{kind prefix}` → the workspace's channels of that kind.
    pub channels: TtlCache<Vec<ChannelRecord>>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            tokens: TtlCache::new(TOKEN_TTL),
            workspaces: TtlCache::new(WORKSPACE_TTL),
            channels: TtlCache::new(CHANNELS_TTL),
        }
    }
}

impl Caches {
    /// A workspace's channels changed through this node.
    pub fn channels_changed(&self, workspace_id: &str) {
        for prefix in ["sms", "whatsapp", "voice"] {
            self.channels.forget(&format!("{workspace_id}:{prefix}"));
        }
    }
}
