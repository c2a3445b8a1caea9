//! What went wrong talking to Asterisk, split by what the caller may safely
//! do next — above all whether an originate may be sent again.

/// Why an ARI request or the event stream failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AriError {
    /// Asterisk refused the request (a 4xx): sent again as it is, it will be
    /// refused again. `message` is ARI's own (`{"message": …}`), e.g.
    /// `Channel not found`, `Channel not in Stasis application`.
    #[error("refused by Asterisk ({status}): {message}")]
    Refused { status: u16, message: String },
    /// 409 to create a channel or bridge whose id exists: an earlier request
    /// with this id was carried out (and the channel still lives). Never
    /// dial again; the events of that channel tell how it goes.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// Asterisk was not reached (connection refused, name not found) or
    /// answered 5xx (e.g. `Asterisk not booted`): nothing was done, so the
    /// request may be sent again later.
    #[error("Asterisk unavailable: {0}")]
    Unavailable(String),
    /// The request was sent but no answer came (timeout, connection lost):
    /// Asterisk may have carried it out. For an originate, do not dial again
    /// — wait for the channel's events (or its 409 on a retry).
    #[error("no answer from Asterisk, the request may have been carried out: {0}")]
    Uncertain(String),
    /// An answer or an event that cannot be read as ARI's.
    #[error("unreadable ARI message: {0}")]
    Protocol(String),
    /// The channel's settings cannot work (an ARI URL that is not http(s)).
    #[error("invalid Asterisk settings: {0}")]
    Config(String),
}

impl AriError {
    /// Whether sending the same request again cannot do it twice.
    pub fn is_safe_to_retry(&self) -> bool {
        matches!(self, AriError::Unavailable(_))
    }
}

/// How a 409 is read: on creating a channel or bridge with a hub-chosen id
/// it means "exists"; elsewhere it is a plain refusal (e.g. playing on a
/// channel that is not in the application).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Conflict {
    Exists,
    Refusal,
}

/// The error of a non-2xx answer, from its status and body.
pub(crate) fn status_error(status: u16, body: &[u8], conflict: Conflict) -> AriError {
    let message = ari_message(body);
    match status {
        409 if conflict == Conflict::Exists => AriError::AlreadyExists(message),
        400..=499 => AriError::Refused { status, message },
        _ => AriError::Unavailable(format!("HTTP {status}: {message}")),
    }
}

/// ARI's error bodies are `{"message": "…"}`; anything else is shown as
/// text, cut short.
fn ari_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Message {
        message: String,
    }
    match serde_json::from_slice::<Message>(body) {
        Ok(m) => m.message,
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            match text.char_indices().nth(200) {
                Some((cut, _)) => format!("{}…", &text[..cut]),
                None => text.to_string(),
            }
        }
    }
}

/// A transport failure, by whether the request can have reached Asterisk.
pub(crate) fn transport_error(error: reqwest::Error) -> AriError {
    // Connect errors (refused, unresolvable, connect timeout) happen before
    // anything is written.
    let text = with_causes(&error);
    if error.is_connect() || error.is_builder() {
        AriError::Unavailable(text)
    } else {
        AriError::Uncertain(text)
    }
}

/// An error with its causes ("error sending request" says little without
/// "Connection refused").
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_409_on_create_means_the_id_exists() {
        let body = br#"{"message":"Channel with given unique ID already exists"}"#;
        assert_eq!(
            status_error(409, body, Conflict::Exists),
            AriError::AlreadyExists("Channel with given unique ID already exists".into())
        );
    }

    #[test]
    fn a_409_elsewhere_is_a_refusal() {
        let body = br#"{"message":"Channel not in Stasis application"}"#;
        assert_eq!(
            status_error(409, body, Conflict::Refusal),
            AriError::Refused {
                status: 409,
                message: "Channel not in Stasis application".into()
            }
        );
    }

    #[test]
    fn client_errors_are_refusals_with_aris_message() {
        let body = br#"{"message":"Channel not found"}"#;
        let error = status_error(404, body, Conflict::Refusal);
        assert_eq!(
            error,
            AriError::Refused {
                status: 404,
                message: "Channel not found".into()
            }
        );
        assert!(!error.is_safe_to_retry());
    }

    #[test]
    fn server_errors_are_worth_a_retry() {
        let error = status_error(503, br#"{"message":"Asterisk not booted"}"#, Conflict::Exists);
        assert_eq!(error, AriError::Unavailable("HTTP 503: Asterisk not booted".into()));
        assert!(error.is_safe_to_retry());
    }

    #[test]
    fn a_body_that_is_not_aris_json_is_kept_short() {
        let long = "x".repeat(500);
        let AriError::Refused { message, .. } = status_error(400, long.as_bytes(), Conflict::Refusal) else {
            panic!("not a refusal")
        };
        assert_eq!(message.chars().count(), 201);
    }
}
