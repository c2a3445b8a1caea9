//! Communication subscriptions (consent) and the rules for changing them
//! (SPEC §3). The ledger itself lives in the store; this module decides whether
//! a requested change is allowed and what history entry it produces.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A channel a contact can be subscribed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Whatsapp,
    Sms,
    Voice,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Whatsapp, Channel::Sms, Channel::Voice];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Whatsapp => "whatsapp",
            Channel::Sms => "sms",
            Channel::Voice => "voice",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Subscribed,
    Unsubscribed,
    NotSpecified,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    Consent,
    LegitimateInterestProspect,
    LegitimateInterestClient,
    LegitimateInterestOther,
    Contract,
    NotApplicable,
}

/// Where a change came from; recorded in every history entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    Keyword,
    Manual,
    Bulk,
    Workflow,
    Import,
    TemplateButton,
    UnsubscribeLink,
    IvrKey,
    Provider,
}

macro_rules! string_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }
        impl FromStr for $ty {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s { $($text => Ok(Self::$variant),)+ _ => Err(UnknownValue(s.to_string())) }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

/// A string that names none of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value `{0}`")]
pub struct UnknownValue(pub String);

impl TryFrom<String> for Channel {
    type Error = UnknownValue;
    fn try_from(s: String) -> Result<Self, UnknownValue> {
        s.parse()
    }
}

impl FromStr for Channel {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_string()))
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

string_enum!(SubscriptionStatus {
    Subscribed => "subscribed",
    Unsubscribed => "unsubscribed",
    NotSpecified => "not_specified",
});

string_enum!(LegalBasis {
    Consent => "consent",
    LegitimateInterestProspect => "legitimate_interest_prospect",
    LegitimateInterestClient => "legitimate_interest_client",
    LegitimateInterestOther => "legitimate_interest_other",
    Contract => "contract",
    NotApplicable => "not_applicable",
});

string_enum!(ConsentSource {
    Keyword => "keyword",
    Manual => "manual",
    Bulk => "bulk",
    Workflow => "workflow",
    Import => "import",
    TemplateButton => "template_button",
    UnsubscribeLink => "unsubscribe_link",
    IvrKey => "ivr_key",
    Provider => "provider",
});

/// The subscription of one contact to one channel as it stands now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionState {
    pub status: SubscriptionStatus,
    pub legal_basis: Option<LegalBasis>,
    pub explanation: Option<String>,
}

impl SubscriptionState {
    pub fn not_specified() -> Self {
        SubscriptionState {
            status: SubscriptionStatus::NotSpecified,
            legal_basis: None,
            explanation: None,
        }
    }
}

/// A change somebody (or something) asks for.
#[derive(Clone, Debug)]
pub struct ChangeRequest {
    pub channel: Channel,
    pub status: SubscriptionStatus,
    pub legal_basis: Option<LegalBasis>,
    pub explanation: Option<String>,
    pub source: ConsentSource,
}

/// Facts about the contact that the rules need.
#[derive(Clone, Copy, Debug)]
pub struct ContactFacts {
    /// Whether the contact has a WhatsApp-capable phone number (E.164).
    pub has_whatsapp_phone: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("subscribing requires a legal basis and an explanation")]
    LegalBasisRequired,
    #[error("subscribing to WhatsApp requires a valid WhatsApp phone number on the contact")]
    NoWhatsappPhone,
    #[error("a contact who opted out can only be subscribed again manually or by their own opt-in keyword")]
    ResubscribeNotAllowed,
    #[error("a subscription can only be set to subscribed or unsubscribed")]
    InvalidStatus,
}

impl ConsentError {
    /// The stable error code of the API contract.
    pub fn code(&self) -> &'static str {
        match self {
            ConsentError::LegalBasisRequired => "legal_basis_required",
            ConsentError::NoWhatsappPhone => "no_whatsapp_phone",
            ConsentError::ResubscribeNotAllowed => "resubscribe_not_allowed",
            ConsentError::InvalidStatus => "invalid_status",
        }
    }
}

/// What applying a request does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The subscription already says exactly this; no history entry is written.
    Unchanged,
    /// A new state, to be stored with a history entry.
    Change(SubscriptionState),
}

/// Decides whether `request` may change `current`.
///
/// * Only `subscribed` and `unsubscribed` can be set; `not_specified` is the start.
/// * A manual, bulk, workflow or import subscription needs a legal basis and an
///   explanation (keyword, template button and provider changes come from the
///   contact or their carrier, so the basis is the contact's own act).
/// * WhatsApp needs a WhatsApp number before anyone can subscribe it.
/// * After an opt-out, only a user acting manually or the contact's own opt-in
///   keyword may subscribe again: automation must never override an opt-out.
pub fn decide(
    current: &SubscriptionState,
    request: &ChangeRequest,
    facts: ContactFacts,
) -> Result<Decision, ConsentError> {
    if request.status == SubscriptionStatus::NotSpecified {
        return Err(ConsentError::InvalidStatus);
    }
    let explanation = request.explanation.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let mut legal_basis = request.legal_basis;
    if request.status == SubscriptionStatus::Subscribed {
        let needs_basis = matches!(
            request.source,
            ConsentSource::Manual | ConsentSource::Bulk | ConsentSource::Workflow | ConsentSource::Import
        );
        if needs_basis && (legal_basis.is_none() || explanation.is_none()) {
            return Err(ConsentError::LegalBasisRequired);
        }
        if request.channel == Channel::Whatsapp && !facts.has_whatsapp_phone {
            return Err(ConsentError::NoWhatsappPhone);
        }
        if current.status == SubscriptionStatus::Unsubscribed
            && !matches!(request.source, ConsentSource::Manual | ConsentSource::Keyword)
        {
            return Err(ConsentError::ResubscribeNotAllowed);
        }
        if legal_basis.is_none() {
            // The contact's own act (keyword, button) is consent.
            legal_basis = Some(LegalBasis::Consent);
        }
    }
    let next = SubscriptionState {
        status: request.status,
        legal_basis,
        explanation: explanation.map(str::to_string),
    };
    let same_status = current.status == next.status;
    let contact_driven = !matches!(request.source, ConsentSource::Manual | ConsentSource::Bulk);
    if same_status
        && (contact_driven || (current.legal_basis == next.legal_basis && current.explanation == next.explanation))
    {
        return Ok(Decision::Unchanged);
    }
    Ok(Decision::Change(next))
}

/// Why the hub sends a message, as far as consent is concerned (SPEC §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendPurpose {
    /// The business writes first (campaigns, workflows, API sends): only
    /// to contacts subscribed to the channel.
    BusinessInitiated,
    /// The contact asked for it during a call (an IVR key's SMS): sent
    /// unless the contact unsubscribed from the channel.
    RequestedInCall,
    /// The hub's own answer to the contact (a keyword confirmation).
    Reply,
}

/// Whether a message with `purpose` may go to a contact whose subscription
/// to its channel is `status` (`None`: never recorded, read as not specified).
pub fn may_send(status: Option<SubscriptionStatus>, purpose: SendPurpose) -> bool {
    let status = status.unwrap_or(SubscriptionStatus::NotSpecified);
    match purpose {
        SendPurpose::BusinessInitiated => status == SubscriptionStatus::Subscribed,
        SendPurpose::RequestedInCall => status != SubscriptionStatus::Unsubscribed,
        SendPurpose::Reply => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(channel: Channel, status: SubscriptionStatus, source: ConsentSource) -> ChangeRequest {
        ChangeRequest {
            channel,
            status,
            legal_basis: None,
            explanation: None,
            source,
        }
    }

    const WITH_PHONE: ContactFacts = ContactFacts {
        has_whatsapp_phone: true,
    };
    const NO_PHONE: ContactFacts = ContactFacts {
        has_whatsapp_phone: false,
    };

    fn subscribed() -> SubscriptionState {
        SubscriptionState {
            status: SubscriptionStatus::Subscribed,
            legal_basis: Some(LegalBasis::Consent),
            explanation: Some("form".into()),
        }
    }

    fn unsubscribed() -> SubscriptionState {
        SubscriptionState {
            status: SubscriptionStatus::Unsubscribed,
            legal_basis: None,
            explanation: None,
        }
    }

    #[test]
    fn manual_subscription_requires_legal_basis_and_explanation() {
        let mut r = req(Channel::Sms, SubscriptionStatus::Subscribed, ConsentSource::Manual);
        assert_eq!(
            decide(&SubscriptionState::not_specified(), &r, WITH_PHONE),
            Err(ConsentError::LegalBasisRequired)
        );
        r.legal_basis = Some(LegalBasis::Consent);
        assert_eq!(
            decide(&SubscriptionState::not_specified(), &r, WITH_PHONE),
            Err(ConsentError::LegalBasisRequired)
        );
        r.explanation = Some("   ".into());
        assert_eq!(
            decide(&SubscriptionState::not_specified(), &r, WITH_PHONE),
            Err(ConsentError::LegalBasisRequired)
        );
        r.explanation = Some("signed up at the shop".into());
        assert!(matches!(
            decide(&SubscriptionState::not_specified(), &r, WITH_PHONE),
            Ok(Decision::Change(_))
        ));
    }

    #[test]
    fn bulk_and_workflow_subscriptions_follow_the_same_legal_basis_rule() {
        for source in [ConsentSource::Bulk, ConsentSource::Workflow, ConsentSource::Import] {
            let r = req(Channel::Sms, SubscriptionStatus::Subscribed, source);
            assert_eq!(
                decide(&SubscriptionState::not_specified(), &r, WITH_PHONE),
                Err(ConsentError::LegalBasisRequired)
            );
        }
    }

    #[test]
    fn whatsapp_subscription_requires_a_whatsapp_number() {
        let mut r = req(Channel::Whatsapp, SubscriptionStatus::Subscribed, ConsentSource::Manual);
        r.legal_basis = Some(LegalBasis::Contract);
        r.explanation = Some("customer".into());
        assert_eq!(
            decide(&SubscriptionState::not_specified(), &r, NO_PHONE),
            Err(ConsentError::NoWhatsappPhone)
        );
        assert!(decide(&SubscriptionState::not_specified(), &r, WITH_PHONE).is_ok());
        // SMS has no such requirement.
        r.channel = Channel::Sms;
        assert!(decide(&SubscriptionState::not_specified(), &r, NO_PHONE).is_ok());
    }

    #[test]
    fn unsubscribing_needs_no_legal_basis() {
        let r = req(Channel::Sms, SubscriptionStatus::Unsubscribed, ConsentSource::Manual);
        assert!(
            matches!(decide(&subscribed(), &r, NO_PHONE), Ok(Decision::Change(s)) if s.status == SubscriptionStatus::Unsubscribed)
        );
    }

    #[test]
    fn only_manual_or_keyword_may_resubscribe_after_opt_out() {
        for source in [
            ConsentSource::Bulk,
            ConsentSource::Workflow,
            ConsentSource::Import,
            ConsentSource::TemplateButton,
        ] {
            let mut r = req(Channel::Sms, SubscriptionStatus::Subscribed, source);
            r.legal_basis = Some(LegalBasis::Consent);
            r.explanation = Some("x".into());
            assert_eq!(
                decide(&unsubscribed(), &r, WITH_PHONE),
                Err(ConsentError::ResubscribeNotAllowed),
                "{source:?}"
            );
        }
        let keyword = req(Channel::Sms, SubscriptionStatus::Subscribed, ConsentSource::Keyword);
        match decide(&unsubscribed(), &keyword, WITH_PHONE) {
            Ok(Decision::Change(s)) => assert_eq!(s.legal_basis, Some(LegalBasis::Consent)),
            other => panic!("keyword opt-in refused: {other:?}"),
        }
        let mut manual = req(Channel::Sms, SubscriptionStatus::Subscribed, ConsentSource::Manual);
        manual.legal_basis = Some(LegalBasis::Consent);
        manual.explanation = Some("asked us by phone".into());
        assert!(matches!(
            decide(&unsubscribed(), &manual, WITH_PHONE),
            Ok(Decision::Change(_))
        ));
    }

    #[test]
    fn not_specified_cannot_be_requested() {
        let r = req(Channel::Sms, SubscriptionStatus::NotSpecified, ConsentSource::Manual);
        assert_eq!(decide(&subscribed(), &r, WITH_PHONE), Err(ConsentError::InvalidStatus));
    }

    #[test]
    fn repeated_contact_driven_changes_write_no_history() {
        let r = req(Channel::Sms, SubscriptionStatus::Unsubscribed, ConsentSource::Keyword);
        assert_eq!(decide(&unsubscribed(), &r, WITH_PHONE), Ok(Decision::Unchanged));
        let r = req(Channel::Sms, SubscriptionStatus::Subscribed, ConsentSource::Keyword);
        assert_eq!(decide(&subscribed(), &r, WITH_PHONE), Ok(Decision::Unchanged));
    }

    #[test]
    fn manual_change_of_legal_basis_is_recorded() {
        let mut r = req(Channel::Sms, SubscriptionStatus::Subscribed, ConsentSource::Manual);
        r.legal_basis = Some(LegalBasis::Contract);
        r.explanation = Some("signed contract".into());
        assert!(matches!(decide(&subscribed(), &r, WITH_PHONE), Ok(Decision::Change(_))));
        r.legal_basis = Some(LegalBasis::Consent);
        r.explanation = Some("form".into());
        assert_eq!(decide(&subscribed(), &r, WITH_PHONE), Ok(Decision::Unchanged));
    }

    #[test]
    fn enum_strings_round_trip() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>().unwrap(), c);
        }
        assert_eq!(
            "legitimate_interest_client".parse::<LegalBasis>().unwrap(),
            LegalBasis::LegitimateInterestClient
        );
        assert_eq!(
            "unsubscribe_link".parse::<ConsentSource>().unwrap(),
            ConsentSource::UnsubscribeLink
        );
        assert!("fax".parse::<Channel>().is_err());
    }
}

#[cfg(test)]
mod send_purpose_tests {
    use super::*;

    #[test]
    fn business_initiated_messages_go_only_to_subscribed_contacts() {
        assert!(may_send(
            Some(SubscriptionStatus::Subscribed),
            SendPurpose::BusinessInitiated
        ));
        assert!(!may_send(
            Some(SubscriptionStatus::NotSpecified),
            SendPurpose::BusinessInitiated
        ));
        assert!(!may_send(None, SendPurpose::BusinessInitiated));
        assert!(!may_send(
            Some(SubscriptionStatus::Unsubscribed),
            SendPurpose::BusinessInitiated
        ));
    }

    #[test]
    fn what_a_contact_asks_for_in_a_call_is_refused_only_after_an_opt_out() {
        assert!(may_send(
            Some(SubscriptionStatus::Subscribed),
            SendPurpose::RequestedInCall
        ));
        assert!(may_send(
            Some(SubscriptionStatus::NotSpecified),
            SendPurpose::RequestedInCall
        ));
        assert!(may_send(None, SendPurpose::RequestedInCall));
        assert!(!may_send(
            Some(SubscriptionStatus::Unsubscribed),
            SendPurpose::RequestedInCall
        ));
    }
}
