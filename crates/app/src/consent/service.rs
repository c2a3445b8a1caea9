//! Consent changes as the API, inbound keywords and automations make them.
//! Every path goes through `recado_core::consent::decide` inside one store
//! transaction, so the rules are the same whoever asks.

use crate::error::AppError;
use recado_core::consent::{
    decide, ChangeRequest, Channel, ConsentError, ConsentSource, ContactFacts, LegalBasis, SubscriptionStatus,
};
use recado_core::keywords::{CustomKeyword, KeywordKind, KeywordMatch, KeywordSet};
use recado_store::consent::{ChangeContext, ChangeError, ChangeOutcome};
use recado_store::contacts::Contact;
use recado_store::{Store, StoreError};

/// Whether a contact can be subscribed to WhatsApp: it needs a WhatsApp
/// number, or a mobile number to use as one.
pub fn facts_of(contact: &Contact) -> ContactFacts {
    ContactFacts {
        has_whatsapp_phone: contact.phones.contains_key("whatsapp_phone") || contact.phones.contains_key("mobilephone"),
    }
}

pub fn consent_error(e: ConsentError) -> AppError {
    let status = match e {
        ConsentError::ResubscribeNotAllowed => crate::ErrorKind::Conflict,
        _ => crate::ErrorKind::Invalid,
    };
    let field = match e {
        ConsentError::LegalBasisRequired => "legal_basis",
        ConsentError::NoWhatsappPhone => "whatsapp_phone",
        ConsentError::ResubscribeNotAllowed | ConsentError::InvalidStatus => "status",
    };
    AppError::new(status, e.code(), e.to_string()).with_field(field)
}

/// Applies one change for `contact`, returning what happened.
pub async fn change(
    store: &Store,
    contact: &Contact,
    request: &ChangeRequest,
    actor: &str,
    now: i64,
) -> Result<ChangeOutcome, AppError> {
    let ctx = ChangeContext {
        workspace_id: &contact.workspace_id,
        contact_id: &contact.id,
        channel: request.channel,
        source: request.source,
        actor,
        now,
    };
    let facts = facts_of(contact);
    store
        .change_subscription(ctx, |current| decide(current, request, facts))
        .await
        .map_err(|e| match e {
            ChangeError::Refused(rule) => consent_error(rule),
            ChangeError::Store(StoreError::NotFound) => AppError::not_found("contact"),
            ChangeError::Store(other) => other.into(),
        })
}

/// An inbound message from `contact` on `channel`: when its whole text is a
/// keyword, the subscription changes with source `keyword`. Returns the match
/// and the outcome so the caller can send the confirmation reply.
pub async fn apply_inbound_keyword(
    store: &Store,
    contact: &Contact,
    channel: Channel,
    text: &str,
    now: i64,
) -> Result<Option<(KeywordMatch, ChangeOutcome)>, AppError> {
    let custom: Vec<CustomKeyword> = store
        .custom_keywords(&contact.workspace_id)
        .await?
        .into_iter()
        .map(|k| CustomKeyword {
            word: k.word,
            kind: k.kind,
            language: k.language,
        })
        .collect();
    let Some(found) = KeywordSet::new(&custom).match_text(text) else {
        return Ok(None);
    };
    let status = match found.kind {
        KeywordKind::OptIn => SubscriptionStatus::Subscribed,
        KeywordKind::OptOut => SubscriptionStatus::Unsubscribed,
    };
    let request = ChangeRequest {
        channel,
        status,
        legal_basis: None,
        explanation: Some(format!(
            "{} keyword `{}` received",
            kind_label(found.kind),
            found.keyword
        )),
        source: ConsentSource::Keyword,
    };
    let outcome = change(store, contact, &request, "system", now).await?;
    Ok(Some((found, outcome)))
}

fn kind_label(kind: KeywordKind) -> &'static str {
    match kind {
        KeywordKind::OptIn => "opt-in",
        KeywordKind::OptOut => "opt-out",
    }
}

/// The short reply that confirms a keyword change: the workspace's own text
/// in the keyword's language, else its text for every language, else the
/// built-in text in the keyword's language.
pub async fn confirmation_text(store: &Store, workspace_id: &str, found: &KeywordMatch) -> Result<String, AppError> {
    if let Some(language) = found.language.as_deref().map(recado_core::keywords::primary_language) {
        if let Some(text) = store.language_reply(workspace_id, found.kind, &language).await? {
            return Ok(text);
        }
    }
    let (opt_in, opt_out) = store.keyword_replies(workspace_id).await?;
    let custom = match found.kind {
        KeywordKind::OptIn => opt_in,
        KeywordKind::OptOut => opt_out,
    };
    Ok(custom.unwrap_or_else(|| {
        recado_core::keywords::default_confirmation(found.kind, found.language.as_deref()).to_string()
    }))
}

/// The change a person asked for: `status` is `subscribed` or
/// `unsubscribed`; a legal basis, when given, must be one of the known ones.
pub fn request_of(
    channel: Channel,
    status: &str,
    legal_basis: Option<&str>,
    explanation: Option<String>,
    source: ConsentSource,
) -> Result<ChangeRequest, AppError> {
    let status: SubscriptionStatus = status.parse().map_err(|_| {
        AppError::invalid(
            "invalid_status",
            "status",
            "status must be `subscribed` or `unsubscribed`",
        )
    })?;
    if status == SubscriptionStatus::NotSpecified {
        return Err(consent_error(ConsentError::InvalidStatus));
    }
    let legal_basis = match legal_basis.map(str::trim).filter(|b| !b.is_empty()) {
        None => None,
        Some(b) => Some(b.parse::<LegalBasis>().map_err(|_| {
            AppError::invalid(
                "invalid_legal_basis",
                "legal_basis",
                format!("`{b}` is not a legal basis (consent, legitimate_interest_prospect, legitimate_interest_client, legitimate_interest_other, contract, not_applicable)"),
            )
        })?),
    };
    Ok(ChangeRequest {
        channel,
        status,
        legal_basis,
        explanation,
        source,
    })
}

/// The largest list one bulk change may carry.
pub const BULK_LIMIT: usize = 10_000;

/// What a bulk change did: how many contacts changed, and each contact it
/// could not change with the refusal's code.
#[derive(Debug, Default)]
pub struct BulkOutcome {
    pub updated: u64,
    pub failed: Vec<(String, &'static str)>,
}

/// Applies one change to many contacts of a workspace, each through the same
/// rule as a single change. The legal basis covers every contact, so a
/// subscription without one is refused once for the whole request.
pub async fn change_many(
    contacts: &crate::contacts::service::Contacts<'_>,
    store: &Store,
    ids: &[String],
    request: &ChangeRequest,
    actor: &str,
    now: i64,
) -> Result<BulkOutcome, AppError> {
    if ids.len() > BULK_LIMIT {
        return Err(AppError::invalid(
            "too_many_contacts",
            "contact_ids",
            format!("at most {BULK_LIMIT} contacts per request"),
        ));
    }
    let explained = request.explanation.as_deref().is_some_and(|e| !e.trim().is_empty());
    if request.status == SubscriptionStatus::Subscribed && (request.legal_basis.is_none() || !explained) {
        return Err(consent_error(ConsentError::LegalBasisRequired));
    }
    // The contacts are read in a few statements, not one per id: a list of
    // ten thousand unknown ids answers at once.
    let wanted: Vec<&str> = ids.iter().map(String::as_str).collect();
    let found: std::collections::HashMap<String, recado_store::contacts::Contact> = contacts
        .store
        .contacts_by_ids(contacts.workspace_id, &wanted)
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c))
        .collect();
    let mut outcome = BulkOutcome::default();
    for id in ids {
        let result = match found.get(id.as_str()) {
            Some(contact) => change(store, contact, request, actor, now).await.map(|_| ()),
            None => Err(AppError::not_found("contact")),
        };
        match result {
            Ok(()) => outcome.updated += 1,
            Err(e) if !e.is_internal() => outcome.failed.push((id.clone(), e.code)),
            Err(e) => return Err(e),
        }
    }
    Ok(outcome)
}
