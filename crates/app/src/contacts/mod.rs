//! Contacts: property checks, phone normalisation, finding and creating.

pub mod service;
