//! Contacts: property checks, phone normalisation, finding and creating.

pub mod import;
pub mod listing;
pub mod service;
