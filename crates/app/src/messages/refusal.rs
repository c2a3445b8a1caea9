//! Why the hub refused a send (API.md "Messages"). Each refusal is stored as
//! a `not_sent` message with its code and a `*_NOT_SENT` timeline entry; the
//! API answers it through the one `AppError` mapping (409 for a rule of the
//! product, 422 for an unusable request).

use crate::error::{AppError, ErrorKind};
use recado_core::consent::Channel;
use recado_core::whatsapp::AdmissionRefusal;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendRefusal {
    /// Business-initiated messages go to subscribed contacts only.
    NotSubscribed { channel: Channel },
    /// WhatsApp free-form messages only within the 24-hour session.
    OutsideSessionWindow,
    /// The workspace's monthly conversation limit is used up.
    QuotaExhausted,
    /// The account's messaging tier allows no new recipient in the rolling 24 hours.
    MessagingLimitReached,
    /// The contact has no WhatsApp number.
    NoWhatsAppPhone,
    /// The contact has no phone number an SMS can go to.
    NoPhone,
    /// The template is unknown or not approved on the account.
    TemplateNotApproved { name: String, language: String },
    /// The template's parameters do not fill its variables.
    TemplateParameters { field: String, reason: String },
    /// The SMS text is empty once its tokens are filled.
    EmptyText,
    /// The SMS needs more parts than the channel allows.
    TooManySegments { segments: u32, max: u32 },
}

impl SendRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            SendRefusal::NotSubscribed { .. } => "not_subscribed",
            SendRefusal::OutsideSessionWindow => "outside_session_window",
            SendRefusal::QuotaExhausted => "quota_exhausted",
            SendRefusal::MessagingLimitReached => "messaging_limit_reached",
            SendRefusal::NoWhatsAppPhone => "no_whatsapp_phone",
            SendRefusal::NoPhone => "invalid_phone",
            SendRefusal::TemplateNotApproved { .. } => "template_not_approved",
            SendRefusal::TemplateParameters { .. } => "template_parameters",
            SendRefusal::EmptyText => "empty_text",
            SendRefusal::TooManySegments { .. } => "too_many_segments",
        }
    }

    /// A rule of the product refused it (`Conflict`), or the request cannot
    /// be sent as it is (`Invalid`).
    pub fn kind(&self) -> ErrorKind {
        match self {
            SendRefusal::NotSubscribed { .. }
            | SendRefusal::OutsideSessionWindow
            | SendRefusal::QuotaExhausted
            | SendRefusal::MessagingLimitReached => ErrorKind::Conflict,
            _ => ErrorKind::Invalid,
        }
    }

    /// The request field the refusal is about, when there is one.
    pub fn field(&self) -> Option<String> {
        match self {
            SendRefusal::NoWhatsAppPhone | SendRefusal::NoPhone => Some("contact_id".into()),
            SendRefusal::TemplateNotApproved { .. } => Some("template".into()),
            SendRefusal::TemplateParameters { field, .. } => Some(field.clone()),
            SendRefusal::EmptyText | SendRefusal::TooManySegments { .. } => Some("text".into()),
            _ => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            SendRefusal::NotSubscribed {
                channel: Channel::Whatsapp,
            } => "the contact is not subscribed to WhatsApp".into(),
            SendRefusal::NotSubscribed { channel: Channel::Sms } => "the contact is not subscribed to SMS".into(),
            SendRefusal::NotSubscribed {
                channel: Channel::Voice,
            } => "the contact is not subscribed to voice calls".into(),
            SendRefusal::OutsideSessionWindow => {
                "the 24-hour session is closed: only an approved template can be sent".into()
            }
            SendRefusal::QuotaExhausted => "the monthly WhatsApp conversation limit is reached".into(),
            SendRefusal::MessagingLimitReached => {
                "the account's messaging limit tier is reached for the rolling 24 hours".into()
            }
            SendRefusal::NoWhatsAppPhone => "the contact has no WhatsApp number".into(),
            SendRefusal::NoPhone => "the contact has no valid phone number".into(),
            SendRefusal::TemplateNotApproved { name, language } => {
                format!("template `{name}` ({language}) is not approved on this account")
            }
            SendRefusal::TemplateParameters { reason, .. } => reason.clone(),
            SendRefusal::EmptyText => "the text is empty once filled".into(),
            SendRefusal::TooManySegments { segments, max } => {
                format!("the text needs {segments} parts; at most {max} are allowed")
            }
        }
    }
}

impl From<AdmissionRefusal> for SendRefusal {
    fn from(r: AdmissionRefusal) -> Self {
        match r {
            AdmissionRefusal::QuotaExhausted => SendRefusal::QuotaExhausted,
            AdmissionRefusal::MessagingLimitReached => SendRefusal::MessagingLimitReached,
        }
    }
}

impl From<SendRefusal> for AppError {
    fn from(r: SendRefusal) -> Self {
        let error = AppError::new(r.kind(), r.code(), r.message());
        match r.field() {
            Some(field) => error.with_field(field),
            None => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_refusals_are_conflicts_and_unusable_requests_are_invalid() {
        assert_eq!(SendRefusal::OutsideSessionWindow.kind(), ErrorKind::Conflict);
        assert_eq!(SendRefusal::EmptyText.kind(), ErrorKind::Invalid);
        let e = AppError::from(SendRefusal::TooManySegments { segments: 9, max: 6 });
        assert_eq!((e.code, e.field.as_deref()), ("too_many_segments", Some("text")));
    }
}
