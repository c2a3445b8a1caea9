//! Parsing of WhatsApp webhook deliveries (`POST` from Meta or the BSP), after the signature
//! has been checked on the raw bytes.
//!
//! Routing follows Meta's structure: `entry[]` (one per WhatsApp Business Account), then
//! `changes[].field`, then which arrays the `value` carries (`messages`, `statuses`,
//! `errors`). Content the hub does not understand becomes [`InboundContent::Unsupported`] or
//! [`WebhookItem::Ignored`], never an error: an error answers 400 and makes Meta redeliver the
//! same body for days. Only a body that is not a WhatsApp notification at all, or that lacks
//! the ids needed to store anything, is a [`WebhookParseError`].
//!
//! [`InboundContent::Unsupported`]: crate::whatsapp::InboundContent::Unsupported

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::inbound::{self, InboundMessage};
use super::json;

/// One thing a delivery told the hub, in the order it appeared in the body.
// Items live only while one delivery is processed and are matched by value, so boxing the
// larger message variant would cost an allocation per message for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum WebhookItem {
    /// A message a contact sent (`value.messages[]`).
    Message(InboundMessage),
    /// A delivery status of a message the hub sent (`value.statuses[]`).
    Status(StatusUpdate),
    /// A template was approved, rejected, paused, disabled, … (`message_template_status_update`).
    TemplateStatus(TemplateStatusUpdate),
    /// Errors not tied to one message (`value.errors[]`), e.g. an account or app problem.
    Errors(AccountErrors),
    /// A contact stopped or resumed marketing messages in WhatsApp's own settings
    /// (`user_preferences`).
    UserPreference(UserPreferenceUpdate),
    /// A `changes[].field` the hub does not act on (quality updates, account updates, echoes,
    /// groups, …), or a status value it does not know.
    Ignored { field: String },
}

/// Delivery state reported by the provider for an outbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderStatus {
    Sent,
    Delivered,
    Read,
    Failed,
    /// A voice message was played by the recipient.
    Played,
}

impl ProviderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderStatus::Sent => "sent",
            ProviderStatus::Delivered => "delivered",
            ProviderStatus::Read => "read",
            ProviderStatus::Failed => "failed",
            ProviderStatus::Played => "played",
        }
    }

    /// Parses the webhook's `status` value; `None` for values this version does not know.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "sent" => ProviderStatus::Sent,
            "delivered" => ProviderStatus::Delivered,
            "read" => ProviderStatus::Read,
            "failed" => ProviderStatus::Failed,
            "played" => ProviderStatus::Played,
            _ => return None,
        })
    }
}

/// An error as WhatsApp reports it in webhooks (`errors[]` of a status, a message or a value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderError {
    pub code: i64,
    pub title: String,
    pub message: String,
    /// `error_data.details`, the most specific explanation Meta gives.
    pub details: Option<String>,
}

impl ProviderError {
    pub(crate) fn from_json(v: &Value) -> Self {
        let title = json::string(v, "title").unwrap_or_default();
        ProviderError {
            code: json::integer(v, "code").unwrap_or(0),
            message: json::string(v, "message").unwrap_or_else(|| title.clone()),
            title,
            details: v.get("error_data").and_then(|d| json::non_empty(d, "details")),
        }
    }

    pub(crate) fn list(v: &Value) -> Vec<ProviderError> {
        json::array(v, "errors").iter().map(ProviderError::from_json).collect()
    }
}

/// A status webhook for a message the hub sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusUpdate {
    pub phone_number_id: String,
    /// The wamid returned when the message was sent.
    pub message_id: String,
    pub status: ProviderStatus,
    /// Unix seconds.
    pub timestamp: i64,
    /// The recipient's WhatsApp id; when Meta withholds the phone number (business-scoped
    /// user ids), the `recipient_user_id` is given instead, and an empty string when neither is.
    pub recipient_id: String,
    /// Echo of what the send carried: the hub's own message id, which reconciles sends whose
    /// HTTP answer was lost.
    pub biz_opaque_callback_data: Option<String>,
    /// Present on `failed`.
    pub errors: Vec<ProviderError>,
    /// The status object as received (conversation and pricing details live here).
    pub raw: Value,
}

/// `message_template_status_update`: the review outcome or a later change of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateStatusUpdate {
    pub waba_id: String,
    pub template_id: String,
    pub name: String,
    pub language: String,
    /// `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`, `PENDING_DELETION`, `FLAGGED`, …
    pub event: String,
    /// Meta sends `"NONE"` when there is no reason; kept as sent.
    pub reason: Option<String>,
    pub category: Option<String>,
}

/// Errors delivered in `value.errors[]`, outside any message or status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountErrors {
    pub waba_id: String,
    pub phone_number_id: Option<String>,
    pub errors: Vec<ProviderError>,
}

/// `user_preferences`: the contact changed a messaging preference inside WhatsApp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserPreferenceUpdate {
    pub waba_id: String,
    pub phone_number_id: String,
    /// The contact's WhatsApp id (digits, no `+`).
    pub wa_id: String,
    /// `marketing_messages` for the marketing opt-out.
    pub category: String,
    /// `stop` or `resume`.
    pub value: String,
    pub detail: Option<String>,
    /// Unix seconds.
    pub timestamp: i64,
}

/// Why a body was refused: the server answers 400 and stores nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookParseError {
    #[error("the body is not valid JSON: {0}")]
    Json(String),
    #[error("not a WhatsApp Business Account notification: {0}")]
    Envelope(String),
    #[error("missing or invalid `{path}`")]
    Field { path: String },
}

fn missing(path: String) -> WebhookParseError {
    WebhookParseError::Field { path }
}

/// Parses a whole delivery into items, in body order.
pub fn parse_webhook(raw: &[u8]) -> Result<Vec<WebhookItem>, WebhookParseError> {
    let root: Value = serde_json::from_slice(raw).map_err(|e| WebhookParseError::Json(e.to_string()))?;
    let Some(obj) = root.as_object() else {
        return Err(WebhookParseError::Envelope("the body is not a JSON object".into()));
    };
    match obj.get("object") {
        Some(Value::String(s)) if s == "whatsapp_business_account" => {}
        Some(other) => {
            return Err(WebhookParseError::Envelope(format!(
                "`object` is {other}, expected \"whatsapp_business_account\""
            )))
        }
        None => return Err(WebhookParseError::Envelope("missing `object`".into())),
    }
    let Some(entries) = obj.get("entry").and_then(Value::as_array) else {
        return Err(WebhookParseError::Envelope("missing `entry` array".into()));
    };

    let mut items = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let waba_id = json::string(entry, "id").ok_or_else(|| missing(format!("entry[{i}].id")))?;
        let changes = entry
            .get("changes")
            .and_then(Value::as_array)
            .ok_or_else(|| missing(format!("entry[{i}].changes")))?;
        for (j, change) in changes.iter().enumerate() {
            let path = format!("entry[{i}].changes[{j}]");
            let field = change
                .get("field")
                .and_then(Value::as_str)
                .ok_or_else(|| missing(format!("{path}.field")))?;
            let value = change
                .get("value")
                .filter(|v| v.is_object())
                .ok_or_else(|| missing(format!("{path}.value")))?;
            let path = format!("{path}.value");
            match field {
                "messages" => parse_messages_value(&waba_id, value, &path, &mut items)?,
                "message_template_status_update" => items.push(WebhookItem::TemplateStatus(parse_template_status(
                    &waba_id, value, &path,
                )?)),
                "user_preferences" => parse_user_preferences(&waba_id, value, &path, &mut items)?,
                other => items.push(WebhookItem::Ignored {
                    field: other.to_string(),
                }),
            }
        }
    }
    Ok(items)
}

fn parse_messages_value(
    waba_id: &str,
    value: &Value,
    path: &str,
    items: &mut Vec<WebhookItem>,
) -> Result<(), WebhookParseError> {
    let metadata = value.get("metadata");
    let phone_number_id = metadata.and_then(|m| json::string(m, "phone_number_id"));
    let display_phone_number = metadata.and_then(|m| json::string(m, "display_phone_number"));
    let messages = json::array(value, "messages");
    let statuses = json::array(value, "statuses");
    let errors = json::array(value, "errors");

    if (!messages.is_empty() || !statuses.is_empty()) && phone_number_id.is_none() {
        return Err(missing(format!("{path}.metadata.phone_number_id")));
    }
    let number = phone_number_id.clone().unwrap_or_default();

    let ctx = inbound::Envelope {
        waba_id,
        phone_number_id: &number,
        display_phone_number: display_phone_number.as_deref(),
        contacts: json::array(value, "contacts"),
    };
    for (k, message) in messages.iter().enumerate() {
        let message = inbound::parse_message(&ctx, message, &format!("{path}.messages[{k}]"))?;
        items.push(WebhookItem::Message(message));
    }
    for (k, status) in statuses.iter().enumerate() {
        items.push(parse_status(&number, status, &format!("{path}.statuses[{k}]"))?);
    }
    if !errors.is_empty() {
        items.push(WebhookItem::Errors(AccountErrors {
            waba_id: waba_id.to_string(),
            phone_number_id,
            errors: errors.iter().map(ProviderError::from_json).collect(),
        }));
    }
    if messages.is_empty() && statuses.is_empty() && errors.is_empty() {
        items.push(WebhookItem::Ignored {
            field: "messages".into(),
        });
    }
    Ok(())
}

fn parse_status(phone_number_id: &str, status: &Value, path: &str) -> Result<WebhookItem, WebhookParseError> {
    let message_id = json::string(status, "id").ok_or_else(|| missing(format!("{path}.id")))?;
    let value = json::string(status, "status").ok_or_else(|| missing(format!("{path}.status")))?;
    let timestamp = json::integer(status, "timestamp").ok_or_else(|| missing(format!("{path}.timestamp")))?;
    let Some(parsed) = ProviderStatus::parse(&value) else {
        // A status value introduced after this code was written: storing it as one of the
        // known ones could move a message to a wrong state, so it is skipped.
        tracing::debug!(status = %value, message_id = %message_id, "unknown WhatsApp status ignored");
        return Ok(WebhookItem::Ignored {
            field: "messages".into(),
        });
    };
    Ok(WebhookItem::Status(StatusUpdate {
        phone_number_id: phone_number_id.to_string(),
        message_id,
        status: parsed,
        timestamp,
        recipient_id: json::string(status, "recipient_id")
            .or_else(|| json::string(status, "recipient_user_id"))
            .unwrap_or_default(),
        biz_opaque_callback_data: json::non_empty(status, "biz_opaque_callback_data"),
        errors: ProviderError::list(status),
        raw: status.clone(),
    }))
}

fn parse_template_status(waba_id: &str, value: &Value, path: &str) -> Result<TemplateStatusUpdate, WebhookParseError> {
    let req = |key: &str| json::string(value, key).ok_or_else(|| missing(format!("{path}.{key}")));
    Ok(TemplateStatusUpdate {
        waba_id: waba_id.to_string(),
        template_id: req("message_template_id")?,
        name: req("message_template_name")?,
        language: req("message_template_language")?,
        event: req("event")?,
        reason: json::non_empty(value, "reason"),
        category: json::non_empty(value, "message_template_category"),
    })
}

fn parse_user_preferences(
    waba_id: &str,
    value: &Value,
    path: &str,
    items: &mut Vec<WebhookItem>,
) -> Result<(), WebhookParseError> {
    let phone_number_id = value.get("metadata").and_then(|m| json::string(m, "phone_number_id"));
    for (k, pref) in json::array(value, "user_preferences").iter().enumerate() {
        let path = format!("{path}.user_preferences[{k}]");
        let req = |key: &str| json::non_empty(pref, key).ok_or_else(|| missing(format!("{path}.{key}")));
        items.push(WebhookItem::UserPreference(UserPreferenceUpdate {
            waba_id: waba_id.to_string(),
            phone_number_id: phone_number_id.clone().unwrap_or_default(),
            wa_id: req("wa_id")?,
            category: req("category")?,
            value: req("value")?,
            detail: json::non_empty(pref, "detail"),
            timestamp: json::integer(pref, "timestamp").ok_or_else(|| missing(format!("{path}.timestamp")))?,
        }));
    }
    Ok(())
}
