//! The send request: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form
//! encoded, HTTP basic auth with the account SID and auth token.
//!
//! Transport failures are split by whether the request can have reached the provider: a
//! connection that could not be opened is [`SmsSendError::Unreachable`] (safe to send again);
//! anything after the request was written (timeout, connection reset, unreadable 2xx answer)
//! is [`SmsSendError::Uncertain`] and must be reconciled from status callbacks.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::errors::provider_error;
use crate::sms::SmsSendError;

pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";
/// Per-request timeout unless [`HttpSmsClient::with_timeout`] sets another.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// One provider account.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpSmsConfig {
    /// Scheme and host of the API, without a path (default [`DEFAULT_BASE_URL`]).
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// Send through a messaging service (`MessagingServiceSid`) instead of a `From` number.
    pub messaging_service_sid: Option<String>,
}

impl HttpSmsConfig {
    /// An account on the default API host, sending from explicit numbers.
    pub fn new(account_sid: impl Into<String>, auth_token: impl Into<String>) -> Self {
        HttpSmsConfig {
            base_url: DEFAULT_BASE_URL.into(),
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            messaging_service_sid: None,
        }
    }

    /// The Messages resource of the account.
    pub fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.base_url.trim_end_matches('/'),
            self.account_sid
        )
    }
}

/// The auth token never appears in logs or panics.
impl std::fmt::Debug for HttpSmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSmsConfig")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("messaging_service_sid", &self.messaging_service_sid)
            .finish()
    }
}

/// The provider accepted the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSent {
    /// The message SID that status callbacks refer to (`MessageSid`).
    pub sid: String,
    /// `queued`, or `accepted`/`scheduled` through a messaging service.
    pub status: String,
}

/// The exact form of a send: `To`, then `From` or `MessagingServiceSid`, `Body`, and
/// `StatusCallback` when one is given. With a messaging service the service picks the sender,
/// so `From` is left out.
pub fn request_form(
    from: &str,
    to: &str,
    body: &str,
    status_callback: &str,
    messaging_service_sid: Option<&str>,
) -> Vec<(String, String)> {
    let mut form = vec![("To".to_string(), to.to_string())];
    match messaging_service_sid {
        Some(sid) if !sid.is_empty() => form.push(("MessagingServiceSid".into(), sid.into())),
        _ => form.push(("From".into(), from.into())),
    }
    form.push(("Body".into(), body.into()));
    if !status_callback.is_empty() {
        form.push(("StatusCallback".into(), status_callback.into()));
    }
    form
}

/// One client per channel; cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpSmsClient {
    config: HttpSmsConfig,
    http: reqwest::Client,
    timeout: Duration,
}

impl HttpSmsClient {
    pub fn new(config: HttpSmsConfig, http: reqwest::Client) -> Self {
        HttpSmsClient {
            config,
            http,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Per-request timeout (connect, send and read together).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn config(&self) -> &HttpSmsConfig {
        &self.config
    }

    /// Sends one message. The provider splits long bodies itself; `status_callback` is the
    /// signed URL it will post delivery progress to (empty: none).
    pub async fn send(
        &self,
        from: &str,
        to: &str,
        body: &str,
        status_callback: &str,
    ) -> Result<HttpSent, SmsSendError> {
        let form = request_form(
            from,
            to,
            body,
            status_callback,
            self.config.messaging_service_sid.as_deref(),
        );
        let response = self
            .http
            .post(self.config.messages_url())
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .form(&form)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let retry_after_ms = retry_after_ms(response.headers());
        if !status.is_success() {
            // A refusal whose body cannot be read is still a definite refusal.
            let bytes = response.bytes().await.unwrap_or_default();
            return Err(provider_error(status.as_u16(), &bytes, retry_after_ms));
        }
        // From here on the provider has taken something: nothing below is safe to resend.
        let bytes = response.bytes().await.map_err(transport_error)?;
        let answer: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| SmsSendError::Uncertain(format!("unreadable answer to an accepted send: {e}")))?;
        let sid = answer["sid"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| SmsSendError::Uncertain("the accepted send has no `sid`".into()))?;
        Ok(HttpSent {
            sid: sid.to_string(),
            status: answer["status"].as_str().unwrap_or("queued").to_string(),
        })
    }
}

/// A message as the account's Messages resource lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ListedMessage {
    pub sid: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub body: String,
    /// `queued`, `sent`, `delivered`, `undelivered`, … as in status callbacks.
    pub status: String,
    #[serde(default, deserialize_with = "code_as_text")]
    pub error_code: Option<String>,
    /// `outbound-api` for messages sent through the API.
    #[serde(default)]
    pub direction: String,
}

/// `error_code` is a number in the provider's answers and may be null.
fn code_as_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value: Option<serde_json::Value> = serde::Deserialize::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    })
}

#[derive(serde::Deserialize)]
struct MessagePage {
    #[serde(default)]
    messages: Vec<ListedMessage>,
}

impl HttpSmsClient {
    /// The messages sent through the API to `to` (from `from`, unless a
    /// messaging service picks the sender) on or after `day`, newest first,
    /// at most one page of 100: what the provider knows of a send whose answer
    /// was lost.
    pub async fn list_sent(
        &self,
        to: &str,
        from: &str,
        day: chrono::NaiveDate,
    ) -> Result<Vec<ListedMessage>, SmsSendError> {
        let day = day.format("%Y-%m-%d").to_string();
        let mut query = vec![("To", to), ("DateSent>", day.as_str()), ("PageSize", "100")];
        if self.config.messaging_service_sid.as_deref().is_none_or(str::is_empty) {
            query.push(("From", from));
        }
        let response = self
            .http
            .get(self.config.messages_url())
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .query(&query)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| SmsSendError::Unreachable(error_chain(&e.without_url())))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| SmsSendError::Unreachable(error_chain(&e.without_url())))?;
        if !status.is_success() {
            return Err(provider_error(status.as_u16(), &bytes, None));
        }
        let page: MessagePage = serde_json::from_slice(&bytes)
            .map_err(|e| SmsSendError::Unreachable(format!("unreadable list of messages: {e}")))?;
        Ok(page
            .messages
            .into_iter()
            .filter(|m| m.direction.is_empty() || m.direction.starts_with("outbound"))
            .collect())
    }
}

/// Connection-stage failures never reached the provider; everything later might have.
fn transport_error(e: reqwest::Error) -> SmsSendError {
    let e = e.without_url();
    if e.is_connect() || e.is_builder() {
        return SmsSendError::Unreachable(error_chain(&e));
    }
    SmsSendError::Uncertain(error_chain(&e))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `Retry-After` as delay-seconds or as an HTTP date, in milliseconds from now.
fn retry_after_ms(headers: &HeaderMap) -> Option<i64> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(seconds.max(0).saturating_mul(1000));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let ms = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
    Some(ms.max(0))
}

/// What the provider's list says of a send whose answer was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Exactly one listed message has the send's text and is not another
    /// send's: it is this one.
    Found(&'a ListedMessage),
    /// None has the text.
    Absent,
    /// Several could be it: the hub cannot tell which.
    Ambiguous,
}

/// Finds the send of `body` among `listed` (already filtered by number and
/// day), leaving out the messages whose SIDs `known` says belong to other sends.
pub fn find_send<'a>(listed: &'a [ListedMessage], body: &str, known: impl Fn(&str) -> bool) -> Lookup<'a> {
    let mut candidates = listed.iter().filter(|m| m.body == body && !known(&m.sid));
    match (candidates.next(), candidates.next()) {
        (Some(one), None) => Lookup::Found(one),
        (None, _) => Lookup::Absent,
        (Some(_), Some(_)) => Lookup::Ambiguous,
    }
}

#[cfg(test)]
mod lookup_tests {
    use super::*;

    fn listed(sid: &str, body: &str) -> ListedMessage {
        ListedMessage {
            sid: sid.into(),
            to: "+5511912345678".into(),
            from: Some("+15017122661".into()),
            body: body.into(),
            status: "delivered".into(),
            error_code: None,
            direction: "outbound-api".into(),
        }
    }

    #[test]
    fn the_one_listed_message_with_the_sends_text_is_the_send() {
        let list = [listed("SM1", "Pedido 1"), listed("SM2", "Pedido 2")];
        assert_eq!(find_send(&list, "Pedido 2", |_| false), Lookup::Found(&list[1]));
    }

    #[test]
    fn a_message_already_matched_to_another_send_is_not_this_one() {
        let list = [listed("SM1", "Oi"), listed("SM2", "Oi")];
        assert_eq!(find_send(&list, "Oi", |sid| sid == "SM1"), Lookup::Found(&list[1]));
    }

    #[test]
    fn two_unmatched_messages_with_the_same_text_leave_the_send_undecided() {
        let list = [listed("SM1", "Oi"), listed("SM2", "Oi")];
        assert_eq!(find_send(&list, "Oi", |_| false), Lookup::Ambiguous);
    }

    #[test]
    fn no_message_with_the_text_means_the_provider_has_none() {
        let list = [listed("SM1", "Oi")];
        assert_eq!(find_send(&list, "Tchau", |_| false), Lookup::Absent);
    }
}
