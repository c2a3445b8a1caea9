//! HTTP client for Meta's Cloud API and for 360dialog, which exposes the same message format
//! under its own base URL and API-key header. The provider is configuration, not a fork: both
//! share the request bodies of [`send`](super::send) and the error handling below.
//!
//! Failures are split by what the caller may safely do next:
//! - [`SendError::Connect`]: the request never reached the provider, so sending again is safe;
//! - [`SendError::Timeout`]: it may have reached the provider (timeout, connection lost
//!   mid-request), so the send is uncertain and must be reconciled from status webhooks
//!   (`biz_opaque_callback_data`), never resent blindly;
//! - [`SendError::Provider`]: the provider answered with an error; see
//!   [`classify`];
//! - [`SendError::Decode`]: an answer that could not be read; after a 2xx on a send this is
//!   uncertain too, since the provider accepted something.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use super::errors::{classify, ErrorAction};
use super::send::{mark_read_body, message_body, SendRequest};
use super::templates::Template;

pub const DEFAULT_GRAPH_BASE_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_GRAPH_VERSION: &str = "v23.0";
pub const DEFAULT_360DIALOG_BASE_URL: &str = "https://waba-v2.360dialog.io";
/// Per-request timeout unless [`WhatsAppClient::with_timeout`] sets another.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// `code` of a [`SendError::Provider`] whose body carried no provider error code.
pub const NO_PROVIDER_CODE: i64 = -1;

/// Fields asked for when listing templates on the Graph API.
const TEMPLATE_FIELDS: &str = "id,name,language,status,category,components";
const GRAPH_PAGE_SIZE: &str = "100";
const DIALOG360_PAGE_SIZE: usize = 1000;
/// Stops a provider that keeps returning "more" from looping forever.
const MAX_PAGES: usize = 200;

/// Which API a channel talks to, with its credentials.
#[derive(Clone, PartialEq, Eq)]
pub enum Provider {
    Cloud {
        graph_base_url: String,
        graph_version: String,
        access_token: String,
    },
    Dialog360 {
        base_url: String,
        api_key: String,
    },
}

impl Provider {
    /// Meta's Cloud API at the default base URL and version.
    pub fn cloud(access_token: impl Into<String>) -> Self {
        Provider::Cloud {
            graph_base_url: DEFAULT_GRAPH_BASE_URL.into(),
            graph_version: DEFAULT_GRAPH_VERSION.into(),
            access_token: access_token.into(),
        }
    }

    /// 360dialog at its default base URL.
    pub fn dialog360(api_key: impl Into<String>) -> Self {
        Provider::Dialog360 {
            base_url: DEFAULT_360DIALOG_BASE_URL.into(),
            api_key: api_key.into(),
        }
    }
}

/// Credentials never appear in logs or panics.
impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Provider::Cloud {
                graph_base_url,
                graph_version,
                ..
            } => f
                .debug_struct("Cloud")
                .field("graph_base_url", graph_base_url)
                .field("graph_version", graph_version)
                .field("access_token", &"<redacted>")
                .finish(),
            Provider::Dialog360 { base_url, .. } => f
                .debug_struct("Dialog360")
                .field("base_url", base_url)
                .field("api_key", &"<redacted>")
                .finish(),
        }
    }
}

/// The provider accepted the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The wamid that status webhooks will refer to.
    pub id: String,
    /// The recipient's WhatsApp id as the provider resolved it (may differ from the number
    /// sent, e.g. Brazil's ninth digit).
    pub wa_id: Option<String>,
    /// `accepted`, `held_for_quality_assessment`, … when the provider reports one.
    pub message_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The provider answered with an error.
    #[error("provider error {code} (HTTP {http_status}): {message}")]
    Provider {
        http_status: u16,
        code: i64,
        message: String,
        details: Option<String>,
        /// From the `Retry-After` header, in milliseconds.
        retry_after_ms: Option<i64>,
    },
    /// The request may have reached the provider: the caller must treat the send as
    /// uncertain and reconcile it from status webhooks, never resend blindly.
    #[error("no answer from the provider in time; the request may have been received")]
    Timeout,
    /// The provider was never reached (connection refused, DNS, TLS): safe to retry.
    #[error("could not reach the provider: {0}")]
    Connect(String),
    /// The answer could not be read.
    #[error("unreadable answer from the provider: {0}")]
    Decode(String),
}

impl SendError {
    /// The action for a provider error; `None` for transport problems, which the caller
    /// handles by their own rule (Connect: retry; Timeout: uncertain).
    pub fn action(&self) -> Option<ErrorAction> {
        match self {
            SendError::Provider { code, http_status, .. } => Some(classify(*code, Some(*http_status))),
            _ => None,
        }
    }
}

/// One client per channel; cheap to clone.
#[derive(Clone, Debug)]
pub struct WhatsAppClient {
    provider: Provider,
    http: reqwest::Client,
    timeout: Duration,
}

impl WhatsAppClient {
    pub fn new(provider: Provider, http: reqwest::Client) -> Self {
        WhatsAppClient {
            provider,
            http,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Per-request timeout (connect, send and read together).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Sends one message. Call [`validate`](super::send::validate) first: this sends whatever
    /// [`message_body`] builds. `phone_number_id` is ignored by 360dialog, whose API key
    /// belongs to one number.
    pub async fn send(&self, phone_number_id: &str, req: &SendRequest) -> Result<SentMessage, SendError> {
        let answer = self.post_messages(phone_number_id, &message_body(req)).await?;
        let first = &answer["messages"][0];
        let id = first["id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| SendError::Decode("the answer has no messages[0].id".into()))?;
        Ok(SentMessage {
            id: id.to_string(),
            wa_id: answer["contacts"][0]["wa_id"].as_str().map(str::to_string),
            message_status: first["message_status"].as_str().map(str::to_string),
        })
    }

    /// Marks an inbound message (and the earlier ones) as read, showing blue ticks.
    pub async fn mark_read(&self, phone_number_id: &str, message_id: &str) -> Result<(), SendError> {
        self.post_messages(phone_number_id, &mark_read_body(message_id))
            .await
            .map(drop)
    }

    /// What the provider says of a phone number: the check behind a channel's
    /// "test" button, proving the credentials and the number belong together.
    ///
    /// Cloud API: `GET {base}/{version}/{phone_number_id}?fields=display_phone_number,
    /// verified_name,quality_rating`. 360dialog has no such resource for the key's number;
    /// its template list (first page) is read instead, which the key must be allowed to do.
    pub async fn phone_number(&self, phone_number_id: &str) -> Result<Value, SendError> {
        match &self.provider {
            Provider::Cloud {
                graph_base_url,
                graph_version,
                ..
            } => {
                let url = format!("{}/{graph_version}/{phone_number_id}", trim(graph_base_url));
                let request = self
                    .http
                    .get(url)
                    .query(&[("fields", "display_phone_number,verified_name,quality_rating")]);
                self.execute(request).await
            }
            Provider::Dialog360 { base_url, .. } => {
                let url = format!("{}/v1/configs/templates", trim(base_url));
                self.execute(self.http.get(url).query(&[("limit", "1")])).await
            }
        }
    }

    /// All templates of the account, every page.
    ///
    /// Cloud API: `GET {base}/{version}/{waba_id}/message_templates`, repeated with the
    /// `paging.cursors.after` cursor for as long as the answer has `paging.next`. The cursor
    /// is applied to the configured base URL rather than following `next` itself, which would
    /// carry the access token to whatever host it names. 360dialog: `GET
    /// {base}/v1/configs/templates?limit=&offset=` (the API key selects the account, so
    /// `waba_id` is unused), advancing `offset` until `offset + count` reaches `total` or a page
    /// comes back empty; its status values are lower-case and are upper-cased here.
    pub async fn list_templates(&self, waba_id: &str) -> Result<Vec<Template>, SendError> {
        match &self.provider {
            Provider::Cloud {
                graph_base_url,
                graph_version,
                ..
            } => {
                let url = format!("{}/{graph_version}/{waba_id}/message_templates", trim(graph_base_url));
                self.list_graph_templates(&url).await
            }
            Provider::Dialog360 { base_url, .. } => {
                self.list_360_templates(&format!("{}/v1/configs/templates", trim(base_url)))
                    .await
            }
        }
    }

    async fn list_graph_templates(&self, url: &str) -> Result<Vec<Template>, SendError> {
        let mut templates = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut request = self
                .http
                .get(url)
                .query(&[("fields", TEMPLATE_FIELDS), ("limit", GRAPH_PAGE_SIZE)]);
            if let Some(cursor) = &after {
                request = request.query(&[("after", cursor)]);
            }
            let page = self.execute(request).await?;
            for item in page["data"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                templates.push(template_from(item)?);
            }
            let next = page["paging"]["next"].as_str().is_some();
            let cursor = page["paging"]["cursors"]["after"].as_str().map(str::to_string);
            match cursor {
                Some(cursor) if next && after.as_deref() != Some(cursor.as_str()) => after = Some(cursor),
                _ => return Ok(templates),
            }
        }
        Ok(templates)
    }

    async fn list_360_templates(&self, url: &str) -> Result<Vec<Template>, SendError> {
        let mut templates = Vec::new();
        let mut offset = 0usize;
        for _ in 0..MAX_PAGES {
            let request = self
                .http
                .get(url)
                .query(&[("limit", DIALOG360_PAGE_SIZE), ("offset", offset)]);
            let page = self.execute(request).await?;
            let items = page["waba_templates"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            for item in items {
                let mut template = template_from(item)?;
                // 360dialog's own id differs from Meta's; `external_id` is Meta's when present.
                if let Some(external) = item["external_id"].as_str() {
                    template.id = external.to_string();
                }
                template.status = template.status.to_ascii_uppercase();
                template.category = template.category.to_ascii_uppercase();
                templates.push(template);
            }
            offset += items.len();
            let total = page["total"].as_u64().map(|t| t as usize);
            if items.is_empty() || total.is_none_or(|t| offset >= t) {
                return Ok(templates);
            }
        }
        Ok(templates)
    }

    async fn post_messages(&self, phone_number_id: &str, body: &Value) -> Result<Value, SendError> {
        let url = match &self.provider {
            Provider::Cloud {
                graph_base_url,
                graph_version,
                ..
            } => {
                format!("{}/{graph_version}/{phone_number_id}/messages", trim(graph_base_url))
            }
            Provider::Dialog360 { base_url, .. } => format!("{}/messages", trim(base_url)),
        };
        self.execute(self.http.post(url).json(body)).await
    }

    async fn execute(&self, request: RequestBuilder) -> Result<Value, SendError> {
        let request = match &self.provider {
            Provider::Cloud { access_token, .. } => request.bearer_auth(access_token),
            Provider::Dialog360 { api_key, .. } => request.header("D360-API-KEY", api_key),
        };
        let response = request.timeout(self.timeout).send().await.map_err(transport_error)?;
        let status = response.status();
        let retry_after_ms = retry_after_ms(response.headers());
        if status.is_success() {
            let bytes = response.bytes().await.map_err(transport_error)?;
            return serde_json::from_slice(&bytes).map_err(|e| SendError::Decode(e.to_string()));
        }
        // The provider refused: a body that cannot be read still leaves a definite refusal.
        let bytes = response.bytes().await.unwrap_or_default();
        Err(provider_error(status, &bytes, retry_after_ms))
    }
}

fn trim(base: &str) -> &str {
    base.trim_end_matches('/')
}

fn template_from(item: &Value) -> Result<Template, SendError> {
    serde_json::from_value(item.clone()).map_err(|e| SendError::Decode(format!("template: {e}")))
}

/// Connection-stage failures never reached the provider; everything later might have.
fn transport_error(e: reqwest::Error) -> SendError {
    let e = e.without_url();
    if e.is_connect() || e.is_builder() {
        return SendError::Connect(error_chain(&e));
    }
    SendError::Timeout
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

/// Reads Meta's Graph error envelope (`{"error": {code, message, error_data: {details}}}`),
/// or the `errors[]` list some BSP answers use, or falls back to the HTTP status.
fn provider_error(status: StatusCode, body: &[u8], retry_after_ms: Option<i64>) -> SendError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let (code, message, details) = if let Some(e) = v.get("error").filter(|e| e.is_object()) {
        let details = e["error_data"]["details"].as_str().or(e["error_user_msg"].as_str());
        (
            e["code"].as_i64(),
            e["message"].as_str().map(str::to_string),
            details.map(str::to_string),
        )
    } else if let Some(e) = v["errors"].as_array().and_then(|a| a.first()) {
        let message = e["title"].as_str().or(e["message"].as_str()).map(str::to_string);
        let details = e["details"]
            .as_str()
            .or(e["error_data"]["details"].as_str())
            .map(str::to_string);
        (e["code"].as_i64(), message, details)
    } else {
        (None, None, None)
    };
    let message = message.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let text: String = text.chars().take(200).collect();
        if text.trim().is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else {
            text
        }
    });
    SendError::Provider {
        http_status: status.as_u16(),
        code: code.unwrap_or(NO_PROVIDER_CODE),
        message,
        details,
        retry_after_ms,
    }
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
