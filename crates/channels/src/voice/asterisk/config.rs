//! Where the Asterisk is and who the hub is to it, and the URLs built from
//! that: every id goes into a URL as one percent-encoded path segment, so no
//! id can reach another resource.

use url::Url;

use super::AriError;

/// One Asterisk: the `voice_asterisk` channel's `ari_url`, `ari_user`,
/// `ari_password` and `app` (API "Voice").
#[derive(Clone, PartialEq, Eq)]
pub struct AsteriskConfig {
    /// The ARI root, e.g. `http://127.0.0.1:8088/ari` (`https` works too; the
    /// events then come over `wss`).
    pub ari_url: String,
    pub user: String,
    pub password: String,
    /// The Stasis application the calls enter and whose events the hub reads.
    pub app: String,
}

impl AsteriskConfig {
    pub fn new(
        ari_url: impl Into<String>,
        user: impl Into<String>,
        password: impl Into<String>,
        app: impl Into<String>,
    ) -> AsteriskConfig {
        AsteriskConfig {
            ari_url: ari_url.into(),
            user: user.into(),
            password: password.into(),
            app: app.into(),
        }
    }

    /// Whether these settings can work at all (checked when the channel is
    /// saved): an `http`/`https` URL with a host, and an application name.
    pub fn validate(&self) -> Result<(), String> {
        self.root().map_err(|e| e.to_string())?;
        if self.app.trim().is_empty() {
            return Err("the ARI application name is empty".into());
        }
        if self.user.is_empty() {
            return Err("the ARI user is empty".into());
        }
        Ok(())
    }

    /// The ARI root without a trailing slash, checked.
    fn root(&self) -> Result<Url, AriError> {
        let url = Url::parse(self.ari_url.trim())
            .map_err(|e| AriError::Config(format!("the ARI URL `{}` is not a URL: {e}", self.ari_url)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(AriError::Config(format!(
                "the ARI URL `{}` must be http:// or https:// with a host",
                self.ari_url
            )));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(AriError::Config(format!(
                "the ARI URL `{}` must not have a query or fragment",
                self.ari_url
            )));
        }
        Ok(url)
    }

    /// `{ari_url}/{segment}/…` with each segment percent-encoded as one path
    /// segment, and the query pairs form-encoded (Asterisk decodes `+` as a
    /// space, measured with a caller id).
    pub(crate) fn resource(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, AriError> {
        let mut url = self.root()?;
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| AriError::Config(format!("the ARI URL `{}` cannot have a path", self.ari_url)))?;
            path.pop_if_empty();
            path.extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// The event WebSocket: `ws(s)://…/ari/events?app={app}`. The
    /// credentials go in an `Authorization` header, not in the URL (ARI also
    /// takes `api_key=user:password`, which would put the password in every
    /// log that prints URLs).
    pub(crate) fn events_url(&self) -> Result<Url, AriError> {
        let mut url = self.resource(&["events"], &[("app", &self.app)])?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        url.set_scheme(scheme)
            .map_err(|()| AriError::Config(format!("no WebSocket URL for `{}`", self.ari_url)))?;
        Ok(url)
    }
}

/// The password never appears in logs or panics.
impl std::fmt::Debug for AsteriskConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsteriskConfig")
            .field("ari_url", &self.ari_url)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("app", &self.app)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> AsteriskConfig {
        AsteriskConfig::new(url, "recado", "secret", "recado")
    }

    #[test]
    fn resource_urls_keep_the_ari_root_with_or_without_a_trailing_slash() {
        for root in ["http://127.0.0.1:8088/ari", "http://127.0.0.1:8088/ari/"] {
            let url = config(root).resource(&["channels", "msg_1-1"], &[]).unwrap();
            assert_eq!(url.as_str(), "http://127.0.0.1:8088/ari/channels/msg_1-1");
        }
    }

    #[test]
    fn ids_are_single_percent_encoded_path_segments() {
        let url = config("http://h/ari")
            .resource(&["channels", "a/../b?c#d"], &[])
            .unwrap();
        assert_eq!(url.as_str(), "http://h/ari/channels/a%2F..%2Fb%3Fc%23d");
    }

    #[test]
    fn query_values_are_form_encoded() {
        let url = config("http://h/ari")
            .resource(&["channels"], &[("callerId", "Recado <+34910000000>"), ("x", "a&b=c")])
            .unwrap();
        assert_eq!(url.query(), Some("callerId=Recado+%3C%2B34910000000%3E&x=a%26b%3Dc"));
    }

    #[test]
    fn events_come_over_ws_or_wss_as_the_ari_url_says() {
        let plain = config("http://127.0.0.1:8088/ari").events_url().unwrap();
        assert_eq!(plain.as_str(), "ws://127.0.0.1:8088/ari/events?app=recado");
        let tls = config("https://pbx.example.com/ari").events_url().unwrap();
        assert_eq!(tls.as_str(), "wss://pbx.example.com/ari/events?app=recado");
    }

    #[test]
    fn the_events_url_never_carries_the_password() {
        let url = config("http://127.0.0.1:8088/ari").events_url().unwrap();
        assert!(!url.as_str().contains("secret"));
    }

    #[test]
    fn only_http_urls_with_a_host_are_valid() {
        assert!(config("http://127.0.0.1:8088/ari").validate().is_ok());
        assert!(config("https://pbx.example.com/ari").validate().is_ok());
        for bad in ["127.0.0.1:8088/ari", "ftp://h/ari", "http://", "http://h/ari?x=1", ""] {
            assert!(config(bad).validate().is_err(), "{bad}");
        }
        assert!(AsteriskConfig::new("http://h/ari", "u", "p", " ").validate().is_err());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let text = format!("{:?}", config("http://h/ari"));
        assert!(text.contains("<redacted>") && !text.contains("secret"));
    }
}
