//! Whether a counted WhatsApp conversation may start now (SPEC §4): first the
//! workspace's monthly quota, then — for a business-initiated conversation —
//! the account's messaging-limit tier over its moving 24 hours. The store
//! reads the counts inside the transaction that records the conversation and
//! this function decides, so two concurrent sends can never both take the
//! last slot.

use super::tier::cap_allows;
use super::usage::quota_allows;

/// What the store counted for one send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConversationCounts {
    /// Counted conversations of the workspace in the current usage period.
    pub used_in_period: u64,
    /// Distinct recipients of business-initiated conversations of the account
    /// in the tier's moving window.
    pub tier_recipients: u64,
    /// Whether this recipient is already one of them (takes no new slot).
    pub recipient_already_counted: bool,
}

/// Why a counted conversation may not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdmissionRefusal {
    /// The workspace used its monthly conversations (`quota_exhausted`).
    QuotaExhausted,
    /// The account reached its tier's recipients per 24 hours
    /// (`messaging_limit_reached`).
    MessagingLimitReached,
}

/// The decision for one counted conversation. `limit` is the period's
/// effective limit ([`super::UsageSettings::effective_limit`]), `tier_cap` the
/// account's tier cap ([`super::MessagingTier::cap`]).
pub fn admit(
    limit: u64,
    tier_cap: Option<u64>,
    business_initiated: bool,
    counts: &ConversationCounts,
) -> Result<(), AdmissionRefusal> {
    if !quota_allows(counts.used_in_period, limit) {
        return Err(AdmissionRefusal::QuotaExhausted);
    }
    if business_initiated && !cap_allows(tier_cap, counts.tier_recipients, counts.recipient_already_counted) {
        return Err(AdmissionRefusal::MessagingLimitReached);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatsapp::MessagingTier;

    fn counts(used: u64, recipients: u64, already: bool) -> ConversationCounts {
        ConversationCounts {
            used_in_period: used,
            tier_recipients: recipients,
            recipient_already_counted: already,
        }
    }

    #[test]
    fn the_quota_is_checked_before_the_tier() {
        let r = admit(10, MessagingTier::Unverified.cap(), true, &counts(10, 50, false));
        assert_eq!(r, Err(AdmissionRefusal::QuotaExhausted));
    }

    #[test]
    fn the_tier_caps_only_new_recipients_of_business_initiated_conversations() {
        let tier = MessagingTier::Unverified.cap(); // 50 recipients
        assert_eq!(
            admit(1_000, tier, true, &counts(0, 50, false)),
            Err(AdmissionRefusal::MessagingLimitReached)
        );
        assert_eq!(admit(1_000, tier, true, &counts(0, 50, true)), Ok(()));
        assert_eq!(admit(1_000, tier, false, &counts(0, 50, false)), Ok(()));
        assert_eq!(admit(1_000, tier, true, &counts(0, 49, false)), Ok(()));
    }
}
