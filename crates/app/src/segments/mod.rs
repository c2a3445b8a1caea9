//! Segments: saved conditions over a workspace's contacts (API "Segments
//! (lists)"). The store counts and lists their contacts in SQL; [`facts`]
//! reads one contact as the condition evaluator sees it.

pub mod facts;
pub mod service;

pub use facts::ContactFacts;
