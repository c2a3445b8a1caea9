//! Calls through the company's own Asterisk, over its REST interface (ARI):
//! HTTP requests to place and steer calls ([`AriClient`]), one WebSocket of
//! events back ([`AriEvents`]), and the mapping of those events onto the
//! provider-neutral reports of the call state machine ([`report_of`],
//! `recado_core::voice::call`).
//!
//! How a call goes, as measured on the test rig (Asterisk 22):
//!
//! 1. [`AriClient::originate`] with a channel id the hub chooses
//!    ([`ChannelRef`]: `{call id}-{attempt}`). While that channel lives a
//!    second originate of the id is refused ([`AriError::AlreadyExists`]), so
//!    a retried request never dials twice. Once it has ended Asterisk takes
//!    the id again: the hub's own record of the attempt is what stops a late
//!    second dial.
//! 2. Progress arrives as `Dial` and `ChannelStateChange` events (ringing);
//!    the answer as `StasisStart` (an originate to the application enters it
//!    on answer), with the originate's application arguments.
//! 3. Narrations are played with hub-chosen playback ids
//!    ([`AriClient::play`]); a key (`ChannelDtmfReceived`) stops the
//!    narration ([`AriClient::stop_playback`]) before anything else — a
//!    queued playback blocks adding the channel to a bridge.
//! 4. A transfer originates a second leg (`…-t`), and on its answer bridges
//!    both legs in a mixing bridge.
//! 5. Every channel ends with `ChannelDestroyed` and a Q.850 cause: 16 after
//!    a normal hang-up, 0 when the phone hung up with a bare BYE, 17 busy,
//!    19 rang out, 18 nothing answered.
//!
//! One WebSocket per application name: a second connection for the same
//! name takes the application over, and the first gets
//! [`AriEvent::ApplicationReplaced`] and no more events. Nodes of a hub that
//! share an Asterisk use an application name each.

mod client;
mod config;
mod error;
mod events;
mod report;
mod stream;

pub use client::{AriClient, AsteriskInfo, ChannelInfo, Originate, Party, DEFAULT_TIMEOUT};
pub use config::AsteriskConfig;
pub use error::AriError;
pub use events::{AriEvent, Received};
pub use report::{report_of, ChannelRef, Leg, Report};
pub use stream::{AriEvents, DEFAULT_KEEPALIVE};
