//! SMPP 3.4 / 5.0 as an ESME, on the `rusmpp` PDU types and framing.
//!
//! [`start`] spawns one session task per channel. It binds as a transceiver, keeps the bind
//! alive with `enquire_link`, answers the SMSC's `enquire_link` and `deliver_sm`, and after a
//! drop reconnects with exponential back-off and jitter. [`SmppHandle::submit`] sends the
//! parts of one message through it, within the submit window and the throughput limit.
//! Everything the SMSC reports (binds, drops, receipts, MO messages) arrives as [`SmppEvent`]s.
//!
//! - [`config`]: the account settings, [`SmppConfig`].
//! - [`parts`]: SMS engine parts as `submit_sm` fields (GSM-7 goes unpacked, see there).
//! - [`address`]: TON/NPI of source and destination addresses.
//! - [`receipt`]: delivery receipts, TLV and `id:… stat:…` text forms.
//! - [`inbound`]: MO messages and the re-assembly of concatenated ones.
//! - [`frame`]: cutting the byte stream into PDUs by `command_length`.
//! - [`handle`]: the public handle; the connection task behind it lives in `session` and `link`.

pub mod address;
pub mod config;
pub mod frame;
pub mod handle;
pub mod inbound;
pub mod parts;
pub mod receipt;

mod link;
mod pdu;
mod session;

pub use address::{address_for, Address};
pub use config::{SmppConfig, SmppVersion};
pub use frame::SmppCodec;
pub use handle::{start, SmppHandle};
pub use inbound::handle_deliver_sm;
pub use parts::{parts_from_plan, SubmitPart};
pub use receipt::{parse_receipt_text, state_from_stat, ReceiptText};

use crate::sms::DeliveryState;

/// What the session reports, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmppEvent {
    /// The bind succeeded; submits flow again.
    Bound,
    /// The connection or the bind failed or ended; the session reconnects by itself.
    Disconnected { reason: String },
    /// A delivery receipt for one submitted part (`message_id` as the SMSC returned it in
    /// `submit_sm_resp`). It can arrive before `submit` has returned that id.
    Receipt {
        message_id: String,
        state: DeliveryState,
        error: Option<String>,
    },
    /// A message from a handset; concatenated parts arrive re-joined as one event.
    Inbound {
        from: String,
        to: String,
        text: String,
        data_coding: u8,
    },
}
