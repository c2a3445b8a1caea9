//! Workflows (SPEC §7): the admin's service (drafts, versions, lifecycle),
//! the ways contacts enter, the engine that advances runs, the send nodes
//! through the channels' send paths, and performance and simulation.
//! Every rule of a run lives in `recado-flow`; this module carries out what
//! the interpreter decides.

pub mod engine;
pub mod enrol;
pub mod pages;
pub mod references;
pub mod reports;
pub mod sends;
pub mod service;
