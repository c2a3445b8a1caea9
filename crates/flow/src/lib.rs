//! Recado's workflow engine rules, without I/O, async or clock reads: every
//! function takes the time as `now`, milliseconds since the epoch.
//!
//! * [`definition`] — the workflow definition JSON (triggers, settings, a
//!   graph of nodes) as typed values; send nodes split into the opaque
//!   [`definition::SendAction`] and their routing.
//! * [`condition`] — the condition language of segments, branches, trigger
//!   filters and exit conditions: strict parsing with field paths, evaluation
//!   against [`condition::Facts`], and a public tree the store compiles to SQL.
//! * [`validate`] — the checks a definition passes before it is published;
//!   references to channels, senders, templates and segments are resolved by
//!   the caller through [`validate::References`].
//! * [`interpreter`] — [`interpreter::advance`] moves a persisted
//!   [`run::Run`] by one [`run::Input`] and returns the [`run::Effect`]s for the
//!   application to carry out in the same transaction. Redelivered or stale
//!   inputs change nothing, so at-least-once delivery never sends twice.
//! * [`lifecycle`] — draft, active, paused: what activate / pause / resume
//!   may do in each state.
//! * [`schedule`] — the next instant a local time of day occurs in a time
//!   zone, across DST gaps and folds (schedule triggers and `until_time`).
//! * [`simulate`] — test mode: the interpreter in virtual time, sending nothing.
//!
//! Supporting modules: [`duration`] (ISO 8601 durations), [`calendar`] (times
//! of day, week days, dates) and [`events`] (the event names per channel).

pub mod calendar;
pub mod condition;
pub mod definition;
pub mod duration;
pub mod events;
pub mod interpreter;
pub mod lifecycle;
pub mod run;
pub mod schedule;
pub mod simulate;
pub mod validate;

pub use condition::{Condition, ConditionError, EventQuery, Facts};
pub use definition::{Definition, Node, NodeId, NodeKind, SendAction};
pub use interpreter::advance;
pub use lifecycle::{LifecycleAction, LifecycleError, WorkflowStatus};
pub use run::{Context, Effect, Input, Limits, Outcome, Run, RunStatus, SendOutcome, Step};
pub use schedule::next_fire;
pub use simulate::{simulate, SimEvent, SimStep};
pub use validate::{validate, AllowAll, Invalid, References, TemplateShape};
