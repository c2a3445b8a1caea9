//! Outbound rules without the network: signatures, request bodies and limits, templates,
//! the marketing opt-out button and error classification.

mod classify;
mod opt_out;
mod send;
mod signature;
mod templates;
