//! The `voice_http` channel kind: voice calls in the TwiML dialect that Twilio, Telnyx TeXML
//! and SignalWire's Compatibility API all accept — one adapter, chosen by base URL and
//! credentials.
//!
//! The provider keeps no state of the hub's: the hub places a call through the Calls API
//! ([`calls`]), the provider fetches a TwiML document ([`document`]) from the call's `Url`
//! and from every `<Gather action>`, `<Dial action>` and `<Redirect>` after it, and reports
//! the call's progress to its `StatusCallback` ([`callbacks`]). Every request the provider
//! makes is signed with `X-Twilio-Signature` over the full URL it requested (query included)
//! and the posted form ([`verify_signature`]).
//!
//! The call's rules — what is recorded, when to retry, what a key does — are
//! `recado_core::voice`; this module turns provider reports into its
//! [`ProviderEvent`](recado_core::voice::call::ProviderEvent)s and its IVR reactions into
//! documents.
//!
//! - [`calls`]: create, fetch and hang up calls; exact request forms.
//! - [`errors`]: what a provider refusal means ([`CallError`]).
//! - [`document`]: a typed TwiML builder and reader (`<Play>`, `<Say>`, `<Gather>`,
//!   `<Dial>`, `<Redirect>`, `<Hangup/>`, `<Pause/>`).
//! - [`callbacks`]: status callbacks, the document request, `<Gather>` and `<Dial>` actions.
//! - `contract` (feature `contract`): request forms against the provider's OpenAPI file.
//! - [`testkit`]: a local stand-in provider that places and plays calls against a hub.

pub mod callbacks;
pub mod calls;
#[cfg(feature = "contract")]
pub mod contract;
pub mod document;
pub mod errors;
pub mod testkit;

pub use crate::sms::http::signature::{signature, verify_signature, SIGNATURE_HEADER};
pub use callbacks::{
    answered_by, parse_dial_action, parse_gather, parse_status_callback, parse_voice_request, provider_events,
    CallStatus, DialResult, DialStatus, GatherResult, ParseError, StatusCallback, VoiceRequest,
};
pub use calls::{
    create_call_form, hang_up_form, CallInfo, CallRequest, CallSid, CallsClient, TwimlConfig, DEFAULT_BASE_URL,
    STATUS_CALLBACK_EVENTS,
};
pub use document::{Dial, DocumentError, Gather, Method, Prompt, Redirect, Response, Say, Verb, CONTENT_TYPE};
pub use errors::{refusal_code, CallError};
