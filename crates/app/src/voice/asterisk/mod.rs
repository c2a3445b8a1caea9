//! Calls through the company's own Asterisk (`voice_asterisk`), over its
//! REST interface and event WebSocket (ARI, `recado_channels::voice::asterisk`).
//!
//! * Each Asterisk application named by the channels is held by one node at
//!   a time ([`links`]): it keeps the WebSocket open, dials the channels'
//!   calls ([`dial`]: `max_concurrent` and `max_cps` held there, for the
//!   whole hub) and handles their events ([`events`]): reports fed to the
//!   call machine, keys numbered per call, the menu stopped by a key,
//!   what follows each narration, a transfer's bridge. On each connection
//!   the calls that may be up are reconciled with Asterisk ([`reconcile`]).
//! * What the call machine decides is carried out by `voice.command` jobs
//!   on any node ([`commands`]): every request names the hub's own ids —
//!   the channel `{call}-{attempt}`, its transfer leg `…-t`, the bridge
//!   `…-b`, and playbacks that say what they play ([`playbacks`]).
//! * Narrations are rendered by the hub and fetched by Asterisk from
//!   `{public_url}/voice/media/{key}.wav`; the public URL must reach the hub
//!   from Asterisk.

mod commands;
mod dial;
mod events;
mod links;
mod playbacks;
mod reconcile;

pub use commands::act;
pub use dial::dial;
pub use links::{run, AsteriskLinks, CHECK_EVERY};
