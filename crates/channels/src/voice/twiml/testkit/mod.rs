//! A local stand-in for a TwiML voice provider, for the tests of this crate and of the hub:
//! [`TwimlRunner`] answers the Calls API on `127.0.0.1` and then *plays* each call against the
//! hub as the provider would — signed status callbacks, the document request, `<Gather>`
//! actions with the digits of a per-number [`Script`], `<Redirect>`s, `<Dial>` actions — and
//! records everything it did for assertions.
//!
//! What it does for a call (Twilio's behaviour, as far as the hub can see it):
//!
//! 1. `POST /2010-04-01/Accounts/{sid}/Calls.json`: checks basic auth (401, error 20003),
//!    `To`, `From` and `Url` (400 with errors 21201, 21213, 21205), applies a
//!    [`Script::refuse`] of the called number, records the form and answers 201 with a call
//!    resource whose `sid` is `CA` + 32 hex digits.
//! 2. Posts the status callbacks the form asked for (`StatusCallbackEvent`; `completed` only
//!    when none): `initiated`, `ringing`, then `in-progress` (event `answered`) — or straight
//!    to the final `busy` (SIP 486), `no-answer` (SIP 487) or `failed` (the script's SIP code)
//!    as the `completed` event. Each carries `SequenceNumber` from 0, the final one
//!    `CallDuration` (and `Duration`), `SipResponseCode`.
//! 3. Once answered, requests the call's `Url` (with `CallStatus=in-progress`, and
//!    `AnsweredBy` when `MachineDetection` was asked for) and carries out the document:
//!    records each `<Play>` (optionally fetching the audio), `<Say>`, `<Pause>`; at a
//!    `<Gather>` records its prompts and sends the script's next key to the action (an empty
//!    `Digits` for silence — or, without `actionOnEmptyResult="true"`, goes on with the next
//!    verb), or hangs up there if the script says so; records a `<Dial>` and posts its
//!    action with the script's `DialCallStatus`; follows `<Redirect>`; stops at `<Hangup/>`
//!    or the end of a document. Relative URLs are resolved against the document's. More than
//!    [`MAX_DOCUMENTS`] documents in one call end it with an error (a hub looping for ever).
//! 4. Posts the final `completed` callback.
//!
//! Every request to the hub is signed with `X-Twilio-Signature` exactly as the provider signs
//! (full URL with query; POST parameters). `GET …/Calls/{Sid}.json` reads a call back and
//! `POST …/Calls/{Sid}.json` with `Status=completed` hangs it up at the next step.
//!
//! The pieces: [`Script`]s of the called numbers (`script`); what the runner records of each
//! call, [`RunnerCall`] and its [`Step`]s (`call`); the [`TwimlRunner`] handle and its shared
//! state (`runner`); the Calls API it serves over HTTP (`server`); the player that carries a
//! call's documents out against the hub (`player`); and the forms of the provider's requests
//! about a call, for tests that post them by hand (`forms`).

mod call;
mod forms;
mod player;
mod runner;
mod script;
mod server;

pub use call::{HungUpBy, RunnerCall, Step};
pub use forms::{dial_action_form, gather_form, status_callback_form};
pub use runner::TwimlRunner;
pub use script::Script;

use std::time::Duration;

/// The account the runner answers to unless started with another.
pub const TEST_ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TEST_AUTH_TOKEN: &str = "twiml-runner-auth-token";
/// The most documents one call may request before the runner gives up on it.
pub const MAX_DOCUMENTS: usize = 50;

const API_VERSION: &str = "2010-04-01";
/// How long the runner waits for the hub on each request (the provider's own is about 15 s).
const HUB_TIMEOUT: Duration = Duration::from_secs(15);
