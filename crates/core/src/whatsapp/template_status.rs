//! A WhatsApp template's review status, as Meta reports it in template lists
//! and in the `message_template_status_update` webhook (SPEC §4: only
//! approved templates can be sent).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::consent::UnknownValue;

/// Every status Meta documents for a message template. Stored as Meta spells
/// it (`APPROVED`, `PENDING_DELETION`, ...), checked by the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TemplateStatus {
    Approved,
    Pending,
    Rejected,
    InAppeal,
    Paused,
    Disabled,
    Flagged,
    Locked,
    LimitExceeded,
    PendingDeletion,
    Deleted,
    Archived,
}

impl TemplateStatus {
    pub const ALL: [TemplateStatus; 12] = [
        TemplateStatus::Approved,
        TemplateStatus::Pending,
        TemplateStatus::Rejected,
        TemplateStatus::InAppeal,
        TemplateStatus::Paused,
        TemplateStatus::Disabled,
        TemplateStatus::Flagged,
        TemplateStatus::Locked,
        TemplateStatus::LimitExceeded,
        TemplateStatus::PendingDeletion,
        TemplateStatus::Deleted,
        TemplateStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TemplateStatus::Approved => "APPROVED",
            TemplateStatus::Pending => "PENDING",
            TemplateStatus::Rejected => "REJECTED",
            TemplateStatus::InAppeal => "IN_APPEAL",
            TemplateStatus::Paused => "PAUSED",
            TemplateStatus::Disabled => "DISABLED",
            TemplateStatus::Flagged => "FLAGGED",
            TemplateStatus::Locked => "LOCKED",
            TemplateStatus::LimitExceeded => "LIMIT_EXCEEDED",
            TemplateStatus::PendingDeletion => "PENDING_DELETION",
            TemplateStatus::Deleted => "DELETED",
            TemplateStatus::Archived => "ARCHIVED",
        }
    }

    /// Reads the status a provider reports, in any letter case. `REINSTATED`
    /// is the webhook's word for a paused or flagged template approved again
    /// (template lists then say `APPROVED`). A value Meta has not documented
    /// is `None`: the caller keeps what it knew and says so in the log.
    pub fn from_provider(value: &str) -> Option<TemplateStatus> {
        let upper = value.trim().to_ascii_uppercase();
        if upper == "REINSTATED" {
            return Some(TemplateStatus::Approved);
        }
        upper.parse().ok()
    }

    /// Only approved templates can be sent (SPEC §4).
    pub fn is_sendable(self) -> bool {
        self == TemplateStatus::Approved
    }
}

impl std::fmt::Display for TemplateStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TemplateStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        TemplateStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_string()))
    }
}

impl TryFrom<String> for TemplateStatus {
    type Error = UnknownValue;
    fn try_from(s: String) -> Result<Self, UnknownValue> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_stored_spelling() {
        for status in TemplateStatus::ALL {
            assert_eq!(status.as_str().parse::<TemplateStatus>(), Ok(status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }

    #[test]
    fn a_stored_value_outside_the_set_is_an_error_not_a_default() {
        assert_eq!(
            "approved".parse::<TemplateStatus>(),
            Err(UnknownValue("approved".into()))
        );
        assert!("".parse::<TemplateStatus>().is_err());
    }

    #[test]
    fn provider_statuses_are_read_in_any_case_and_reinstated_means_approved() {
        assert_eq!(
            TemplateStatus::from_provider("approved"),
            Some(TemplateStatus::Approved)
        );
        assert_eq!(
            TemplateStatus::from_provider("Pending_Deletion"),
            Some(TemplateStatus::PendingDeletion)
        );
        assert_eq!(
            TemplateStatus::from_provider("REINSTATED"),
            Some(TemplateStatus::Approved)
        );
        assert_eq!(TemplateStatus::from_provider("SOMETHING_NEW"), None);
    }

    #[test]
    fn only_an_approved_template_is_sendable() {
        let sendable: Vec<_> = TemplateStatus::ALL.into_iter().filter(|s| s.is_sendable()).collect();
        assert_eq!(sendable, vec![TemplateStatus::Approved]);
    }
}
