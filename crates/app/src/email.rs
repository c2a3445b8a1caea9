//! Notification e-mails to a workspace's admins (SPEC §4: each WhatsApp
//! usage threshold, where mail is configured). The notification and its
//! `email.notify` job are written together, so a crash never loses the
//! e-mail; the job retries while the SMTP server refuses or is away.

use crate::workers::JobError;
use crate::AppState;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;

/// An e-mail about a notification: its subject and plain-text body.
#[derive(Debug, PartialEq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

/// The e-mail of a usage threshold notification.
pub fn usage_threshold_mail(workspace: &str, details: &Value, settings_url: &str) -> Mail {
    let percent = details["percent"].as_u64().unwrap_or_default();
    let used = details["used"].as_u64().unwrap_or_default();
    let limit = details["limit"].as_u64().unwrap_or_default();
    let subject = format!("{workspace}: WhatsApp usage at {percent} %");
    let next = if percent >= 100 {
        "No further business-initiated conversation is sent until the period resets or packs are added. Inbound messages keep arriving."
    } else {
        "At 100 % no further business-initiated conversation is sent until the period resets or packs are added."
    };
    let body = format!(
        "The workspace {workspace} has used {used} of its {limit} WhatsApp conversations this period ({percent} %).\n\n{next}\n\nUsage, limit and packs: {settings_url}\n"
    );
    Mail { subject, body }
}

/// The `email.notify` job: e-mails every admin of the workspace about the
/// notification (nothing when mail is not configured or no admin has an
/// address that reads as one).
pub async fn notify_job(state: AppState, workspace_id: String, notification_id: String) -> Result<(), JobError> {
    let Some(smtp) = state.settings.smtp.clone() else {
        return Ok(());
    };
    let Some(notification) = state.store.notification(&workspace_id, &notification_id).await? else {
        return Ok(());
    };
    let workspace = state.store.workspace(&workspace_id).await?;
    let details: Value = serde_json::from_str(&notification.details).unwrap_or(Value::Null);
    let settings_url = format!("{}/settings/usage", state.settings.public_url);
    let mail = usage_threshold_mail(&workspace.name, &details, &settings_url);
    let admins: Vec<Mailbox> = state
        .store
        .list_users(&workspace_id, None, 500)
        .await?
        .into_iter()
        .filter(|u| u.role == "admin")
        .filter_map(|u| {
            format!("{} <{}>", u.name, u.email)
                .parse()
                .ok()
                .or_else(|| u.email.parse().ok())
        })
        .collect();
    if admins.is_empty() {
        return Ok(());
    }
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| JobError::Permanent(format!("the SMTP from address cannot be used: {e}")))?;
    let mut builder = Message::builder().from(from).subject(mail.subject);
    for admin in admins {
        builder = builder.to(admin);
    }
    let message = builder
        .body(mail.body)
        .map_err(|e| JobError::Permanent(format!("the e-mail cannot be built: {e}")))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp.url.expose())
        .map_err(|e| JobError::Permanent(format!("the SMTP URL cannot be used: {e}")))?
        .build();
    transport.send(message).await.map_err(|e| JobError::Retry {
        message: format!("the SMTP server did not take the e-mail: {e}"),
        retry_after_ms: None,
    })?;
    tracing::info!(workspace = %workspace_id, notification = %notification_id, "notification e-mailed to the admins");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_threshold_mail_names_the_share_the_counts_and_the_settings_page() {
        let mail = usage_threshold_mail(
            "Loja",
            &json!({"percent": 80, "used": 800, "limit": 1000}),
            "http://hub/settings/usage",
        );
        assert_eq!(mail.subject, "Loja: WhatsApp usage at 80 %");
        assert!(mail.body.contains("800 of its 1000"));
        assert!(mail.body.contains("http://hub/settings/usage"));
    }
}
