//! The SMS channel: composition (tokens, short links, UTM, unsubscribe URL),
//! sending with consent, sender and segment rules, provider dispatch, delivery
//! receipts, inbound replies and keywords, and the public link pages.

pub mod analysis;
pub mod compose;
pub mod http;
pub mod inbound;
pub mod providers;
pub mod receipts;
pub mod reconcile;
pub mod sandbox_outbox;
pub mod send;
pub mod smpp;
pub mod unsubscribe;
