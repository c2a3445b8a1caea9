//! The text of an SMS as it will be sent: personalisation tokens filled, the
//! unsubscribe link inserted, URLs tagged with UTM parameters and optionally
//! shortened. Pure functions; the caller stores the short links.

use crate::tokens::fill_tokens;
use serde::Deserialize;
use std::collections::BTreeMap;

/// UTM parameters appended to every URL.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub term: Option<String>,
    pub content: Option<String>,
}

impl Utm {
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("utm_source", &self.source),
            ("utm_medium", &self.medium),
            ("utm_campaign", &self.campaign),
            ("utm_term", &self.term),
            ("utm_content", &self.content),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs().is_empty()
    }
}

/// The placeholder replaced by the contact's unsubscribe link.
pub const UNSUB_TOKEN: &str = "{UNSUB_URL}";

/// Byte ranges of `http://` and `https://` URLs in `text`. A URL ends at white
/// space; trailing punctuation that usually closes a sentence is left out.
pub fn find_urls(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let start = match (rest.find("http://"), rest.find("https://")) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => break,
        };
        let abs = i + start;
        // Only at a word start: `xhttp://` is not a link.
        if abs > 0 && text[..abs].chars().next_back().is_some_and(|c| c.is_alphanumeric()) {
            i = abs + 4;
            continue;
        }
        let mut end = text[abs..]
            .find(char::is_whitespace)
            .map(|e| abs + e)
            .unwrap_or(text.len());
        while end > abs && text[..end].ends_with(['.', ',', ';', ':', '!', '?', ')', ']', '"', '\'']) {
            end -= 1;
        }
        if end - abs > "https://".len() {
            out.push(abs..end);
        }
        i = end.max(abs + 1);
    }
    out
}

/// `url` with the UTM parameters added (existing ones of the same name are
/// replaced). A URL that does not parse is returned unchanged.
pub fn with_utm(url: &str, utm: &Utm) -> String {
    let pairs = utm.pairs();
    if pairs.is_empty() {
        return url.to_string();
    }
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(k, _)| !pairs.iter().any(|(p, _)| p == k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut q = parsed.query_pairs_mut();
        q.clear();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
    }
    parsed.to_string()
}

/// A URL of the text and what replaces it.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkPlan {
    /// The URL with UTM parameters: where the click goes.
    pub target: String,
    /// The short code, when the URL was shortened.
    pub code: Option<String>,
}

pub struct Composed {
    pub text: String,
    pub links: Vec<LinkPlan>,
}

/// Fills the text for one contact. `new_code` makes short codes; `unsub_url`
/// is the contact's signed unsubscribe link.
pub fn compose(
    template: &str,
    properties: &BTreeMap<String, String>,
    unsub_url: &str,
    utm: &Utm,
    shorten_base: Option<&str>,
    mut new_code: impl FnMut() -> String,
) -> Composed {
    let filled = fill_tokens(template, |name| properties.get(name).cloned());
    let mut out = String::with_capacity(filled.len());
    let mut links = Vec::new();
    let mut last = 0;
    for range in find_urls(&filled) {
        out.push_str(&filled[last..range.start]);
        let target = with_utm(&filled[range.clone()], utm);
        match shorten_base {
            Some(base) => {
                let code = new_code();
                out.push_str(&format!("{base}/s/{code}"));
                links.push(LinkPlan {
                    target,
                    code: Some(code),
                });
            }
            None => {
                out.push_str(&target);
                links.push(LinkPlan { target, code: None });
            }
        }
        last = range.end;
    }
    out.push_str(&filled[last..]);
    // The unsubscribe link goes in after URL handling: it is never shortened
    // or tagged.
    Composed {
        text: out.replace(UNSUB_TOKEN, unsub_url),
        links,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn urls_end_at_white_space_without_closing_punctuation() {
        let text = "Veja https://loja.example/p?id=1. E http://x.example/a!";
        let found: Vec<&str> = find_urls(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(found, vec!["https://loja.example/p?id=1", "http://x.example/a"]);
        assert!(find_urls("no links, not even xhttp://a.b or https://").is_empty());
    }

    #[test]
    fn utm_parameters_are_appended_and_replace_their_own_names() {
        let utm = Utm {
            source: Some("sms".into()),
            campaign: Some("black friday".into()),
            ..Default::default()
        };
        assert_eq!(
            with_utm("https://a.example/p?id=1&utm_source=old", &utm),
            "https://a.example/p?id=1&utm_source=sms&utm_campaign=black+friday"
        );
        assert_eq!(with_utm("https://a.example", &Utm::default()), "https://a.example");
    }

    #[test]
    fn tokens_links_and_the_unsubscribe_url_are_filled_per_contact() {
        let mut codes = vec!["AbC123xyz0".to_string()].into_iter();
        let c = compose(
            "Oi {{contact.firstname}}, veja https://loja.example/oferta. Sair: {UNSUB_URL}",
            &props(&[("firstname", "Ana")]),
            "https://hub.example/u/TOKEN",
            &Utm {
                source: Some("sms".into()),
                ..Default::default()
            },
            Some("https://hub.example"),
            || codes.next().unwrap(),
        );
        assert_eq!(
            c.text,
            "Oi Ana, veja https://hub.example/s/AbC123xyz0. Sair: https://hub.example/u/TOKEN"
        );
        assert_eq!(
            c.links,
            vec![LinkPlan {
                target: "https://loja.example/oferta?utm_source=sms".into(),
                code: Some("AbC123xyz0".into())
            }]
        );
    }

    #[test]
    fn a_missing_token_leaves_no_double_space_and_urls_stay_long_without_shortening() {
        let c = compose(
            "Oi {{contact.firstname}} veja https://a.example",
            &props(&[]),
            "",
            &Utm::default(),
            None,
            || unreachable!(),
        );
        assert_eq!(c.text, "Oi veja https://a.example");
    }
}
