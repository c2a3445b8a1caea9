//! A workflow's life: `draft` until activated, then `active` or `paused`, and
//! what each API action may do from each state (API "Workflows").

use crate::run::{Outcome, RunStatus};
use recado_core::consent::UnknownValue;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowStatus {
    /// Never activated: no trigger enrols anyone.
    Draft,
    /// Triggers enrol contacts and runs advance.
    Active,
    /// Nothing enrols and no run advances until resumed; runs keep their place.
    Paused,
}

/// What an admin asks of a workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleAction {
    Activate,
    Pause,
    Resume,
}

/// Why an action is refused in the workflow's state (409 on the API).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("publish a version before activating the workflow")]
    NotPublished,
    #[error("the workflow is {0}; only an active workflow can be paused")]
    NotActive(&'static str),
    #[error("the workflow is {0}; only a paused workflow can be resumed")]
    NotPaused(&'static str),
    #[error("the workflow is already active")]
    AlreadyActive,
}

impl WorkflowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowStatus::Draft => "draft",
            WorkflowStatus::Active => "active",
            WorkflowStatus::Paused => "paused",
        }
    }

    /// The state after `action`, or why it cannot be taken. Activation needs a
    /// published version: runs always run a published, immutable version.
    pub fn after(self, action: LifecycleAction, has_version: bool) -> Result<WorkflowStatus, LifecycleError> {
        match (action, self) {
            (LifecycleAction::Activate, _) if !has_version => Err(LifecycleError::NotPublished),
            (LifecycleAction::Activate, WorkflowStatus::Active) => Err(LifecycleError::AlreadyActive),
            (LifecycleAction::Activate, _) => Ok(WorkflowStatus::Active),
            (LifecycleAction::Pause, WorkflowStatus::Active) => Ok(WorkflowStatus::Paused),
            (LifecycleAction::Pause, other) => Err(LifecycleError::NotActive(other.as_str())),
            (LifecycleAction::Resume, WorkflowStatus::Paused) => Ok(WorkflowStatus::Active),
            (LifecycleAction::Resume, other) => Err(LifecycleError::NotPaused(other.as_str())),
        }
    }
}

macro_rules! text_enum {
    ($ty:ty, [$($variant:expr),+ $(,)?]) => {
        impl FromStr for $ty {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                [$($variant),+]
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownValue(s.to_string()))
            }
        }
        impl TryFrom<String> for $ty {
            type Error = UnknownValue;
            fn try_from(s: String) -> Result<Self, UnknownValue> {
                s.parse()
            }
        }
    };
}

text_enum!(
    WorkflowStatus,
    [WorkflowStatus::Draft, WorkflowStatus::Active, WorkflowStatus::Paused]
);
text_enum!(
    RunStatus,
    [
        RunStatus::Ready,
        RunStatus::Running,
        RunStatus::Waiting,
        RunStatus::Completed,
        RunStatus::Exited,
        RunStatus::Failed,
    ]
);
text_enum!(
    Outcome,
    [
        Outcome::Ok,
        Outcome::Failed,
        Outcome::Skipped,
        Outcome::Waited,
        Outcome::Resumed,
        Outcome::TimedOut,
        Outcome::Exited,
    ]
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workflow_without_a_published_version_cannot_be_activated() {
        assert_eq!(
            WorkflowStatus::Draft.after(LifecycleAction::Activate, false),
            Err(LifecycleError::NotPublished)
        );
    }

    #[test]
    fn a_published_draft_activates() {
        assert_eq!(
            WorkflowStatus::Draft.after(LifecycleAction::Activate, true),
            Ok(WorkflowStatus::Active)
        );
    }

    #[test]
    fn only_an_active_workflow_pauses() {
        assert_eq!(
            WorkflowStatus::Active.after(LifecycleAction::Pause, true),
            Ok(WorkflowStatus::Paused)
        );
        assert!(WorkflowStatus::Draft.after(LifecycleAction::Pause, true).is_err());
        assert!(WorkflowStatus::Paused.after(LifecycleAction::Pause, true).is_err());
    }

    #[test]
    fn only_a_paused_workflow_resumes() {
        assert_eq!(
            WorkflowStatus::Paused.after(LifecycleAction::Resume, true),
            Ok(WorkflowStatus::Active)
        );
        assert!(WorkflowStatus::Active.after(LifecycleAction::Resume, true).is_err());
        assert!(WorkflowStatus::Draft.after(LifecycleAction::Resume, true).is_err());
    }

    #[test]
    fn statuses_read_back_from_their_stored_text() {
        for status in [WorkflowStatus::Draft, WorkflowStatus::Active, WorkflowStatus::Paused] {
            assert_eq!(status.as_str().parse::<WorkflowStatus>(), Ok(status));
        }
        assert_eq!("waiting".parse::<RunStatus>(), Ok(RunStatus::Waiting));
        assert_eq!("timed_out".parse::<Outcome>(), Ok(Outcome::TimedOut));
        assert!("running_late".parse::<RunStatus>().is_err());
    }
}
