//! Workflows: the editable draft, immutable published versions, the runs of
//! contacts through them (the engine's queue), the send each step made, the
//! action log and per node counters. Rules live in `recado-flow`; this module
//! only stores what the engine decided.

mod definitions;
mod members;
mod pages;
mod reports;
mod runs;
mod triggers;

pub use definitions::{NewWorkflow, WorkflowRecord};
pub use pages::{ContactRun, WorkflowStatusCount};
pub use reports::{LogFilter, LogLine, NodeStat, RunFilter, StatusCounts, VersionCounts};
pub(crate) use runs::{on_timeline_event, queue_event_triggers, WAKE_AWAITING};
pub use runs::{Enrolled, Enrolment, NewRun, Reenrol, RunRow, RunUpdate, SkipReason, StepLog, WorkflowSend};
pub use triggers::DueTrigger;
