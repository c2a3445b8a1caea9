//! Building the PDUs the ESME sends and reading the answers it gets, on `rusmpp`'s types.

use rusmpp::pdus::{BindTransceiver, DeliverSmResp, SubmitSm};
use rusmpp::types::{COctetString, OctetString};
use rusmpp::values::{DataCoding, EsmClass, InterfaceVersion, Npi, RegisteredDelivery, ServiceType, Ton};
use rusmpp::{Command, CommandStatus, Pdu};

use super::address::address_for;
use super::config::{SmppConfig, SmppVersion};
use super::parts::{SubmitPart, MAX_SHORT_MESSAGE};

/// `registered_delivery`: MC delivery receipt on success and on failure.
const RECEIPT_ALWAYS: u8 = 0x01;
/// `esm_class` bits an ESME may set on a `submit_sm`: messaging mode (1–0) and GSM features
/// (UDHI, reply path; 7–6). The message type bits (5–2) are the SMSC's.
const SUBMIT_ESM_MASK: u8 = 0b1100_0011;

pub(crate) fn bind_transceiver(config: &SmppConfig, sequence: u32) -> Result<Command, String> {
    let text = |name: &str, value: &str| format!("{name} `{value}` cannot go in a bind");
    let bind = BindTransceiver::builder()
        .system_id(
            COctetString::from_string(config.system_id.clone()).map_err(|_| text("system_id", &config.system_id))?,
        )
        .password(COctetString::from_string(config.password.clone()).map_err(|_| text("password", "…"))?)
        .system_type(
            COctetString::from_string(config.system_type.clone())
                .map_err(|_| text("system_type", &config.system_type))?,
        )
        .interface_version(match config.interface_version {
            SmppVersion::V34 => InterfaceVersion::Smpp3_4,
            SmppVersion::V50 => InterfaceVersion::Smpp5_0,
        })
        .addr_ton(Ton::Unknown)
        .addr_npi(Npi::Unknown)
        .address_range(COctetString::empty())
        .build();
    Ok(Command::new(CommandStatus::EsmeRok, sequence, bind))
}

/// A `submit_sm` for one part, asking for a delivery receipt. The sequence number is set by
/// the session when it writes the PDU.
pub(crate) fn submit_sm(from: &str, to: &str, part: &SubmitPart) -> Result<SubmitSm, String> {
    let source = address_for(from);
    let destination = address_for(to);
    if part.short_message.len() > MAX_SHORT_MESSAGE {
        return Err(format!(
            "a part has {} octets; short_message holds {MAX_SHORT_MESSAGE}",
            part.short_message.len()
        ));
    }
    let address = |value: &str| {
        COctetString::<1, 21>::from_string(value.to_string())
            .map_err(|_| format!("address `{value}` is not 1–20 ASCII characters"))
    };
    let short_message =
        OctetString::from_vec(part.short_message.clone()).map_err(|e| format!("short_message: {e:?}"))?;
    // esm_class is built from its octet: `EsmClass::default()` in rusmpp 0.4 encodes 0x08
    // (its ANSI-41 default), which would announce a delivery acknowledgement.
    Ok(SubmitSm::builder()
        .service_type(ServiceType::default())
        .source_addr_ton(Ton::from(source.ton))
        .source_addr_npi(Npi::from(source.npi))
        .source_addr(address(&source.value)?)
        .dest_addr_ton(Ton::from(destination.ton))
        .dest_addr_npi(Npi::from(destination.npi))
        .destination_addr(address(&destination.value)?)
        .esm_class(EsmClass::from(part.esm_class & SUBMIT_ESM_MASK))
        .registered_delivery(RegisteredDelivery::from(RECEIPT_ALWAYS))
        .data_coding(DataCoding::from(part.data_coding))
        .short_message(short_message)
        .build())
}

pub(crate) fn deliver_sm_resp(sequence: u32) -> Command {
    let resp = DeliverSmResp::builder().message_id(COctetString::empty()).build();
    Command::new(CommandStatus::EsmeRok, sequence, resp)
}

pub(crate) fn response(sequence: u32, pdu: Pdu) -> Command {
    Command::new(CommandStatus::EsmeRok, sequence, pdu)
}

pub(crate) fn generic_nack(sequence: u32, status: CommandStatus) -> Command {
    Command::new(status, sequence, Pdu::GenericNack)
}

/// The command status as its SMPP name where known (`ESME_RTHROTTLED`), else hex.
pub(crate) fn status_name(status: CommandStatus) -> String {
    let code = u32::from(status);
    let name = match code {
        0x00 => "ESME_ROK",
        0x01 => "ESME_RINVMSGLEN",
        0x02 => "ESME_RINVCMDLEN",
        0x03 => "ESME_RINVCMDID",
        0x04 => "ESME_RINVBNDSTS",
        0x05 => "ESME_RALYBND",
        0x08 => "ESME_RSYSERR",
        0x0A => "ESME_RINVSRCADR",
        0x0B => "ESME_RINVDSTADR",
        0x0C => "ESME_RINVMSGID",
        0x0D => "ESME_RBINDFAIL",
        0x0E => "ESME_RINVPASWD",
        0x0F => "ESME_RINVSYSID",
        0x14 => "ESME_RMSGQFUL",
        0x45 => "ESME_RSUBMITFAIL",
        0x48 => "ESME_RINVSRCTON",
        0x49 => "ESME_RINVSRCNPI",
        0x50 => "ESME_RINVDSTTON",
        0x51 => "ESME_RINVDSTNPI",
        0x58 => "ESME_RTHROTTLED",
        0x61 => "ESME_RINVSCHED",
        0x62 => "ESME_RINVEXPIRY",
        0x64 => "ESME_RX_T_APPN",
        0x65 => "ESME_RX_P_APPN",
        0x66 => "ESME_RX_R_APPN",
        0xFE => "ESME_RDELIVERYFAILURE",
        0xFF => "ESME_RUNKNOWNERR",
        _ => return format!("0x{code:08X}"),
    };
    name.to_string()
}

/// Statuses that mean "not now" rather than "never": throttling, a full queue, the SMSC's
/// temporary application error, and a system error (the SMSC's own trouble).
pub(crate) fn is_transient(status: CommandStatus) -> bool {
    matches!(u32::from(status), 0x58 | 0x14 | 0x64 | 0x08)
}
