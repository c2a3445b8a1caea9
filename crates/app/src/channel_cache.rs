//! Decoded channels for the hot paths (webhook intake, the send
//! dispatcher). Every delivery and every send names its channel; reading,
//! decrypting and parsing it each time would cost more than the work
//! itself. Entries live a few seconds, and a change made through this node
//! drops them at once; other nodes see it within the time to live.

use crate::channels::registry::{LoadedChannel, LoadedSms};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

const TIME_TO_LIVE: Duration = Duration::from_secs(5);

/// Entries of one kind of decoded channel, by channel id.
struct Entries<T> {
    map: RwLock<HashMap<String, (Instant, Arc<T>)>>,
}

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Entries {
            map: RwLock::new(HashMap::new()),
        }
    }
}

impl<T> Entries<T> {
    fn get(&self, id: &str) -> Option<Arc<T>> {
        let entries = self.map.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(id)
            .filter(|(at, _)| at.elapsed() < TIME_TO_LIVE)
            .map(|(_, c)| c.clone())
    }

    fn put(&self, id: &str, channel: Arc<T>) {
        let mut entries = self.map.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, (at, _)| at.elapsed() < TIME_TO_LIVE);
        }
        entries.insert(id.to_string(), (Instant::now(), channel));
    }

    fn forget(&self, id: &str) {
        self.map.write().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}

#[derive(Default)]
pub struct ChannelCache {
    whatsapp: Entries<LoadedChannel>,
    sms: Entries<LoadedSms>,
}

impl ChannelCache {
    pub fn get(&self, id: &str) -> Option<Arc<LoadedChannel>> {
        self.whatsapp.get(id)
    }

    pub fn put(&self, id: &str, channel: Arc<LoadedChannel>) {
        self.whatsapp.put(id, channel)
    }

    pub fn get_sms(&self, id: &str) -> Option<Arc<LoadedSms>> {
        self.sms.get(id)
    }

    pub fn put_sms(&self, id: &str, channel: Arc<LoadedSms>) {
        self.sms.put(id, channel)
    }

    /// A channel changed or was deleted through this node.
    pub fn forget(&self, id: &str) {
        self.whatsapp.forget(id);
        self.sms.forget(id);
    }
}
