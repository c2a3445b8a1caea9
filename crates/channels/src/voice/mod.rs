//! Voice providers' I/O: speech rendered on the box ([`speech`]), calls
//! through the company's own Asterisk over its REST interface ([`asterisk`]),
//! and the TwiML dialect of HTTP voice providers — Twilio, Telnyx TeXML,
//! SignalWire ([`twiml`]).
//! The call's rules (its state machine, the IVR menu, definitions) are
//! `recado_core::voice`; adapters here only turn them into audio and
//! provider requests.

pub mod asterisk;
mod espeak_lib;
mod resample;
pub mod speech;
pub mod twiml;
