//! Decoded channels for the webhook hot path. Every delivery names its channel;
//! reading, decrypting and parsing it for each one would cost more than
//! storing the event. Entries live a few seconds, and a change made through
//! this node drops them at once; other nodes see it within the time to live.

use crate::channels::registry::LoadedChannel;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

const TIME_TO_LIVE: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct ChannelCache {
    entries: RwLock<HashMap<String, (Instant, Arc<LoadedChannel>)>>,
}

impl ChannelCache {
    pub fn get(&self, id: &str) -> Option<Arc<LoadedChannel>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(id)
            .filter(|(at, _)| at.elapsed() < TIME_TO_LIVE)
            .map(|(_, c)| c.clone())
    }

    pub fn put(&self, id: &str, channel: Arc<LoadedChannel>) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, (at, _)| at.elapsed() < TIME_TO_LIVE);
        }
        entries.insert(id.to_string(), (Instant::now(), channel));
    }

    pub fn forget(&self, id: &str) {
        self.entries.write().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}
