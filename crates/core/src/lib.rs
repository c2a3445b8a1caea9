//! Recado's pure domain rules. Nothing here does I/O or reads the wall clock
//! directly: time comes from an injected [`clock::Clock`] so rules can be tested
//! across any boundary.

pub mod broadcasts;
pub mod campaigns;
pub mod clock;
pub mod consent;
pub mod contact_csv;
pub mod delivery;
pub mod ids;
pub mod jobs;
pub mod json_members;
pub mod keywords;
pub mod phone;
pub mod properties;
pub mod sms_compose;
pub mod text;
pub mod tokens;
pub mod unsubscribe_token;
pub mod voice;
pub mod whatsapp;
