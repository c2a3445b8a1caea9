//! The help-desk inbox: web sign-in sessions, saved views, thread lists with
//! their current ticket (filtered, searched, counted per view) and ticket
//! changes. Full-text search runs on SQLite FTS5 tables and PostgreSQL GIN
//! indexes that migration 0004 keeps in step with messages and contacts.

pub(crate) mod search;
mod sessions;
mod threads;
mod views;

pub use search::{SearchQuery, PG_FOLD_FROM, PG_FOLD_TO};
pub use sessions::{WebSession, WebSessionWrite};
pub use threads::{InboxCounts, InboxThread, OwnerFilter, ThreadCursor, ThreadFilter, ThreadPreview, TicketChange};
pub use views::SavedView;
