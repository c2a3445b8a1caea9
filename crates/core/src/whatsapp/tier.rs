//! The messaging limit tier (SPEC §4, providers.md §1.9): Meta caps how many
//! unique recipients a business may start conversations with in a moving
//! 24-hour window. The tier is a channel setting; the count of recipients comes
//! from the store.

use crate::consent::UnknownValue;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Meta's messaging limit tiers. The old 1K tier no longer exists: 250 is
/// followed by 2,000.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessagingTier {
    /// A business that has not been verified.
    #[default]
    #[serde(rename = "unverified")]
    Unverified,
    #[serde(rename = "250")]
    T250,
    #[serde(rename = "2000")]
    T2000,
    #[serde(rename = "10000")]
    T10000,
    #[serde(rename = "100000")]
    T100000,
    #[serde(rename = "unlimited")]
    Unlimited,
}

impl MessagingTier {
    pub const ALL: [MessagingTier; 6] = [
        MessagingTier::Unverified,
        MessagingTier::T250,
        MessagingTier::T2000,
        MessagingTier::T10000,
        MessagingTier::T100000,
        MessagingTier::Unlimited,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessagingTier::Unverified => "unverified",
            MessagingTier::T250 => "250",
            MessagingTier::T2000 => "2000",
            MessagingTier::T10000 => "10000",
            MessagingTier::T100000 => "100000",
            MessagingTier::Unlimited => "unlimited",
        }
    }

    /// Unique recipients of business-initiated conversations allowed per moving
    /// 24 hours; `None` for no cap.
    pub fn cap(self) -> Option<u64> {
        match self {
            MessagingTier::Unverified => Some(50),
            MessagingTier::T250 => Some(250),
            MessagingTier::T2000 => Some(2_000),
            MessagingTier::T10000 => Some(10_000),
            MessagingTier::T100000 => Some(100_000),
            MessagingTier::Unlimited => None,
        }
    }
}

impl FromStr for MessagingTier {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        MessagingTier::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_string()))
    }
}

impl fmt::Display for MessagingTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The moving window over which Meta counts an account's business-initiated
/// recipients. It happens to last as long as the customer-service session,
/// but it is another rule: it moves with every send, not with the contact.
pub const TIER_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Whether a business-initiated conversation with one recipient may start now.
///
/// `distinct_recipients_in_last_24h` counts the unique recipients the account
/// already started conversations with in the moving 24-hour window. Meta
/// counts recipients, not messages, so a recipient already counted in the
/// window takes no new slot and is always allowed — even when the count is over
/// the cap because the tier was lowered in the meantime.
pub fn tier_allows(tier: MessagingTier, distinct_recipients_in_last_24h: u64, recipient_already_counted: bool) -> bool {
    cap_allows(tier.cap(), distinct_recipients_in_last_24h, recipient_already_counted)
}

/// [`tier_allows`] for a tier given by its cap (`None`: unlimited).
pub fn cap_allows(cap: Option<u64>, distinct_recipients_in_last_24h: u64, recipient_already_counted: bool) -> bool {
    recipient_already_counted || cap.is_none_or(|cap| distinct_recipients_in_last_24h < cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_round_trip_through_their_api_names() {
        for tier in MessagingTier::ALL {
            assert_eq!(tier.as_str().parse::<MessagingTier>(), Ok(tier));
            assert_eq!(tier.to_string(), tier.as_str());
            let json = serde_json::to_string(&tier).unwrap();
            assert_eq!(json, format!("\"{}\"", tier.as_str()));
            assert_eq!(serde_json::from_str::<MessagingTier>(&json).unwrap(), tier);
        }
    }

    #[test]
    fn the_superseded_1k_tier_and_unknown_names_are_refused() {
        for name in ["1000", "1K", "TIER_250", "Unlimited", "", " 250"] {
            assert_eq!(name.parse::<MessagingTier>(), Err(UnknownValue(name.to_string())));
            assert!(serde_json::from_str::<MessagingTier>(&format!("\"{name}\"")).is_err());
        }
    }

    #[test]
    fn tier_caps_are_50_250_2000_10000_100000_and_unlimited() {
        let caps: Vec<Option<u64>> = MessagingTier::ALL.iter().map(|t| t.cap()).collect();
        assert_eq!(
            caps,
            vec![Some(50), Some(250), Some(2_000), Some(10_000), Some(100_000), None]
        );
    }

    #[test]
    fn an_unverified_business_defaults_to_the_lowest_tier() {
        assert_eq!(MessagingTier::default(), MessagingTier::Unverified);
    }

    #[test]
    fn a_new_recipient_is_allowed_only_while_the_cap_is_not_reached() {
        assert!(tier_allows(MessagingTier::T250, 0, false));
        assert!(tier_allows(MessagingTier::T250, 249, false));
        assert!(!tier_allows(MessagingTier::T250, 250, false));
        assert!(tier_allows(MessagingTier::Unverified, 49, false));
        assert!(!tier_allows(MessagingTier::Unverified, 50, false));
        assert!(!tier_allows(MessagingTier::T100000, 100_000, false));
    }

    #[test]
    fn a_recipient_already_counted_in_the_window_takes_no_new_slot() {
        assert!(tier_allows(MessagingTier::T250, 250, true));
        assert!(tier_allows(MessagingTier::Unverified, 50, true));
    }

    #[test]
    fn a_recipient_already_counted_stays_allowed_after_the_tier_is_lowered() {
        assert!(tier_allows(MessagingTier::Unverified, 2_000, true));
        assert!(!tier_allows(MessagingTier::Unverified, 2_000, false));
    }

    #[test]
    fn the_unlimited_tier_never_refuses() {
        assert!(tier_allows(MessagingTier::Unlimited, u64::MAX, false));
        assert!(tier_allows(MessagingTier::Unlimited, 0, false));
    }
}
