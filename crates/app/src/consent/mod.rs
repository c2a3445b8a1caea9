//! Consent changes and inbound keywords, through the one rule of
//! `recado_core::consent`.

pub mod keywords;
pub mod service;
