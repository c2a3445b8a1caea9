//! WhatsApp rules that do not depend on a provider: the customer-service
//! window, the workspace's monthly conversation limit and Meta's messaging
//! limit tier (SPEC §4).

pub mod admission;
pub mod session;
pub mod template_status;
pub mod tier;
pub mod usage;

pub use admission::{admit, AdmissionRefusal, ConversationCounts};
pub use session::{SessionWindow, SESSION_WINDOW_MS};
pub use template_status::TemplateStatus;
pub use tier::{tier_allows, MessagingTier, TIER_WINDOW_MS};
pub use usage::{
    counts_as_conversation, forecast_exhausted_at, percent_used, percent_used_text, quota_allows, thresholds_reached,
    usage_period, UsageError, UsagePeriod, UsageSettings, DEFAULT_MONTHLY_LIMIT, PACK_SIZE, THRESHOLDS,
};
