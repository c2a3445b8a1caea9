//! `X-Twilio-Signature`: base64 of HMAC-SHA1 keyed by the auth token over the full URL the
//! provider requested, followed by every POST parameter as `name + value`, sorted by name
//! (values of a repeated name sorted too), with no separators.
//!
//! The signature covers the URL exactly as the provider called it, so a server behind a proxy
//! must rebuild the public URL (scheme, host, path and query) before checking.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// Name of the header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// The header value the provider sends for a form post of `params` to `url`.
///
/// Parameters are sorted by name, then by value; a pair given twice counts once, as in the
/// provider's reference validator (it iterates over sets).
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(digest(auth_token, url, params))
}

/// True when `header` is the signature of `params` posted to `url`.
///
/// The provider is not consistent about the default port in the URL it signs, so the URL is
/// also tried with `:443`/`:80` added when absent and removed when present, as the reference
/// validator does. A missing header, bad base64 or an empty token are all `false`; the
/// comparison is constant-time (HMAC verification).
pub fn verify_signature(auth_token: &str, url: &str, params: &[(String, String)], header: Option<&str>) -> bool {
    let Some(header) = header else {
        return false;
    };
    if auth_token.is_empty() {
        // A channel whose token was never set must not accept anyone's callbacks.
        return false;
    }
    let Ok(expected) = STANDARD.decode(header.trim()) else {
        return false;
    };
    url_variants(url).iter().any(|candidate| {
        let mut mac = new_mac(auth_token);
        mac.update(&message(candidate, params));
        mac.verify_slice(&expected).is_ok()
    })
}

fn digest(auth_token: &str, url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut mac = new_mac(auth_token);
    mac.update(&message(url, params));
    mac.finalize().into_bytes().to_vec()
}

/// `url` followed by the sorted, de-duplicated `name + value` pairs.
fn message(url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    // Byte order of UTF-8 is code point order, which is how the reference sorts strings.
    pairs.sort_unstable();
    pairs.dedup();
    let mut out = Vec::with_capacity(url.len() + pairs.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>());
    out.extend_from_slice(url.as_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

/// The URL as given, plus the same URL with the scheme's default port toggled.
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_string()];
    let Some(scheme_end) = url.find("://") else {
        return variants;
    };
    let scheme = &url[..scheme_end];
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return variants,
    };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| authority_start + i);
    let authority = &url[authority_start..authority_end];
    // The port follows the last ':' unless that ':' is inside an IPv6 literal.
    let host_end = authority.rfind(']').map_or(0, |i| i + 1);
    let (host, port) = match authority[host_end..].rfind(':') {
        Some(i) => (&authority[..host_end + i], Some(&authority[host_end + i + 1..])),
        None => (authority, None),
    };
    let rebuilt = match port {
        Some(p) if p == default_port => format!("{}{host}{}", &url[..authority_start], &url[authority_end..]),
        Some(_) => return variants,
        None => format!(
            "{}{host}:{default_port}{}",
            &url[..authority_start],
            &url[authority_end..]
        ),
    };
    variants.push(rebuilt);
    variants
}

fn new_mac(key: &str) -> HmacSha1 {
    <HmacSha1 as Mac>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_port_is_added_or_removed() {
        assert_eq!(
            url_variants("https://a.example/x?y=1"),
            vec!["https://a.example/x?y=1", "https://a.example:443/x?y=1"]
        );
        assert_eq!(
            url_variants("http://a.example:80/x"),
            vec!["http://a.example:80/x", "http://a.example/x"]
        );
        assert_eq!(
            url_variants("https://a.example:8443/x"),
            vec!["https://a.example:8443/x"]
        );
        assert_eq!(url_variants("https://[::1]/x")[1], "https://[::1]:443/x");
        assert_eq!(url_variants("https://a.example")[1], "https://a.example:443");
    }
}
