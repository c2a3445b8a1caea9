//! Personalisation tokens (SPEC §5): `{{contact.firstname}}` in a message is
//! replaced by the contact's property.
//!
//! A token is `{{`, optional spaces, `contact.`, a property name
//! (`[a-z0-9_]{1,64}`), optional spaces, `}}`. Anything else, such as
//! `{{contact.}}`, `{{ other.x }}` or the single-brace `{UNSUB_URL}` that
//! later layers fill, is plain text and kept byte for byte.
//!
//! A token without a value (missing, empty or blank property) disappears
//! together with the white space it would leave stranded, so the message
//! reads as if written without it: no double spaces, no space before closing
//! punctuation, no space at the start or end of a line. Line breaks are kept.
//! Values are trimmed and inserted as they are, never scanned for tokens.

const OPEN: &str = "{{";
const CLOSE: &str = "}}";
const NAMESPACE: &str = "contact.";
const MAX_NAME_LEN: usize = 64;

/// Fills every token of `template`; `lookup` receives the property name.
pub fn fill_tokens(template: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    fill(template, &[Namespace::Contact], |_, name| lookup(name))
}

/// Where a token's value comes from: `{{contact.x}}` or, in workflow sends,
/// `{{trigger.data.x}}` (a field of the payload that enrolled the contact).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace {
    Contact,
    TriggerData,
}

impl Namespace {
    fn prefix(self) -> &'static str {
        match self {
            Namespace::Contact => NAMESPACE,
            Namespace::TriggerData => "trigger.data.",
        }
    }
}

/// Fills contact and trigger-data tokens with the same white-space rules as
/// [`fill_tokens`].
pub fn fill_workflow_tokens(template: &str, lookup: impl Fn(Namespace, &str) -> Option<String>) -> String {
    fill(template, &[Namespace::Contact, Namespace::TriggerData], lookup)
}

fn fill(template: &str, namespaces: &[Namespace], lookup: impl Fn(Namespace, &str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut gap: Option<Gap> = None;
    let mut rest = template;
    while let Some(token) = next_token(rest, namespaces) {
        push_text(&mut out, &mut gap, &rest[..token.start]);
        let value = lookup(token.namespace, token.name);
        let value = value.as_deref().map(str::trim).unwrap_or_default();
        match value.chars().next() {
            Some(first) => {
                if let Some(pending) = gap.take() {
                    pending.close_before(&mut out, first);
                }
                out.push_str(value);
            }
            None => match &mut gap {
                // A later empty token of the same run ends the first stretch of
                // white space after the tokens, if one was started.
                Some(open) => open.collecting &= open.space.is_empty(),
                None => gap = Some(Gap::open(&mut out)),
            },
        }
        rest = &rest[token.end..];
    }
    push_text(&mut out, &mut gap, rest);
    // A gap still open here ends the text: its white space would trail.
    out
}

/// The distinct property names the template's tokens use, in order of first
/// use.
pub fn tokens_in(template: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(token) = next_token(rest, &[Namespace::Contact]) {
        if !names.iter().any(|n| n == token.name) {
            names.push(token.name.to_string());
        }
        rest = &rest[token.end..];
    }
    names
}

/// A token found in a text: byte range and property name.
struct Token<'a> {
    start: usize,
    end: usize,
    namespace: Namespace,
    name: &'a str,
}

/// The first well-formed token of `text`.
fn next_token<'a>(text: &'a str, namespaces: &[Namespace]) -> Option<Token<'a>> {
    let mut from = 0;
    while let Some(offset) = text[from..].find(OPEN) {
        let start = from + offset;
        if let Some((namespace, name, len)) = parse_token(&text[start..], namespaces) {
            return Some(Token {
                start,
                end: start + len,
                namespace,
                name,
            });
        }
        // `{{{contact.x}}}` holds a token one brace further on.
        from = start + 1;
    }
    None
}

/// Parses the token `text` starts with; returns its name and byte length.
/// Tokens are ASCII, so byte offsets always fall on character boundaries.
fn parse_token<'a>(text: &'a str, namespaces: &[Namespace]) -> Option<(Namespace, &'a str, usize)> {
    let bytes = text.as_bytes();
    let skip_spaces = |mut i: usize| {
        while bytes.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    };
    let mut i = skip_spaces(OPEN.len());
    let namespace = *namespaces.iter().find(|n| text[i..].starts_with(n.prefix()))?;
    i += namespace.prefix().len();
    let name_start = i;
    while bytes.get(i).is_some_and(|b| is_name_byte(*b)) {
        i += 1;
    }
    let name = &text[name_start..i];
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return None;
    }
    let i = skip_spaces(i);
    text[i..]
        .starts_with(CLOSE)
        .then_some((namespace, name, i + CLOSE.len()))
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'
}

/// The place where one or more empty tokens were removed, while the text
/// after it is not yet known. What happens to the white space around it
/// depends on the next visible character.
struct Gap {
    /// White space to put back if the gap ends between two words: the run
    /// before the first token, or else the first run after it.
    space: String,
    /// Still gathering the first run of white space after the tokens.
    collecting: bool,
}

impl Gap {
    /// Opens a gap, taking back the white space already written before it.
    fn open(out: &mut String) -> Gap {
        let kept = out.trim_end_matches(is_inline_space).len();
        let space = out.split_off(kept);
        Gap {
            collecting: space.is_empty(),
            space,
        }
    }

    /// Closes the gap before the visible character `next`: one run of white
    /// space between two words, none at the start of a line or before closing
    /// punctuation.
    fn close_before(self, out: &mut String, next: char) {
        let line_start = out.is_empty() || out.ends_with(['\n', '\r']);
        if !line_start && !is_closing_punctuation(next) {
            out.push_str(&self.space);
        }
    }
}

/// Copies plain text, first resolving an open gap against it.
fn push_text(out: &mut String, gap: &mut Option<Gap>, text: &str) {
    let Some(pending) = gap else {
        out.push_str(text);
        return;
    };
    for (i, c) in text.char_indices() {
        if is_inline_space(c) {
            if pending.collecting {
                pending.space.push(c);
            }
            continue;
        }
        // A line break ends the gap with nothing: no space at the end of a line.
        if !c.is_whitespace() {
            if let Some(pending) = gap.take() {
                pending.close_before(out, c);
            }
        }
        *gap = None;
        out.push_str(&text[i..]);
        return;
    }
    // Only white space so far: the gap stays open; the first run after the
    // tokens is complete only when something else follows.
}

/// White space within a line (spaces, tabs, NBSP…), not line breaks.
fn is_inline_space(c: char) -> bool {
    c.is_whitespace()
        && !matches!(
            c,
            '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        )
}

/// Punctuation that is written against the preceding word.
fn is_closing_punctuation(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | ';'
            | ':'
            | '!'
            | '?'
            | ')'
            | ']'
            | '…'
            | '、'
            | '。'
            | '，'
            | '．'
            | '！'
            | '？'
            | '；'
            | '：'
            | '）'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn fill(template: &str, values: &[(&str, &str)]) -> String {
        let map: HashMap<&str, &str> = values.iter().copied().collect();
        fill_tokens(template, |name| map.get(name).map(|v| v.to_string()))
    }

    #[test]
    fn tokens_are_replaced_by_contact_properties() {
        assert_eq!(
            fill(
                "Hi {{contact.firstname}} {{contact.lastname}}!",
                &[("firstname", "Ana"), ("lastname", "Lima")]
            ),
            "Hi Ana Lima!"
        );
        assert_eq!(fill("Code {{contact.promo_2024}}", &[("promo_2024", "X9")]), "Code X9");
    }

    #[test]
    fn spaces_inside_the_braces_are_allowed() {
        assert_eq!(fill("Hi {{ contact.firstname }}.", &[("firstname", "Ana")]), "Hi Ana.");
        assert_eq!(fill("Hi {{   contact.firstname}}.", &[("firstname", "Ana")]), "Hi Ana.");
    }

    #[test]
    fn empty_token_before_punctuation_leaves_no_space() {
        assert_eq!(fill("Hi {{contact.firstname}}, your order", &[]), "Hi, your order");
        assert_eq!(fill("Thanks {{contact.firstname}}!", &[]), "Thanks!");
        assert_eq!(
            fill("Thanks {{contact.firstname}} !", &[]),
            "Thanks!",
            "the space after the token goes too"
        );
    }

    #[test]
    fn adjacent_empty_tokens_leave_one_space() {
        assert_eq!(
            fill("Dear {{contact.firstname}} {{contact.lastname}} welcome", &[]),
            "Dear welcome"
        );
        assert_eq!(
            fill(
                "Dear {{contact.firstname}} {{contact.lastname}} welcome",
                &[("lastname", "Lima")]
            ),
            "Dear Lima welcome"
        );
        assert_eq!(
            fill(
                "Dear {{contact.firstname}} {{contact.lastname}} welcome",
                &[("firstname", "Ana")]
            ),
            "Dear Ana welcome"
        );
    }

    #[test]
    fn empty_token_at_start_or_end_of_text_leaves_no_space() {
        assert_eq!(fill("{{contact.firstname}} hello", &[]), "hello");
        assert_eq!(fill("hello {{contact.firstname}}", &[]), "hello");
        assert_eq!(fill(" {{contact.firstname}} ", &[]), "");
        assert_eq!(fill("{{contact.firstname}}", &[]), "");
    }

    #[test]
    fn empty_token_at_start_or_end_of_a_line_leaves_no_space() {
        assert_eq!(
            fill("Hello {{contact.firstname}}\n{{contact.lastname}} see you\r\nBye", &[]),
            "Hello\nsee you\r\nBye"
        );
        assert_eq!(
            fill("Hi\n\n{{contact.firstname}} {{contact.city}}\nBye", &[]),
            "Hi\n\n\nBye"
        );
    }

    #[test]
    fn line_breaks_are_preserved() {
        assert_eq!(
            fill(
                "Hi {{contact.firstname}},\nyour order\n\nshipped",
                &[("firstname", "Ana")]
            ),
            "Hi Ana,\nyour order\n\nshipped"
        );
    }

    #[test]
    fn white_space_away_from_empty_tokens_is_untouched() {
        assert_eq!(
            fill("  Hi  there {{contact.firstname}}\t \n", &[("firstname", "Ana")]),
            "  Hi  there Ana\t \n"
        );
        assert_eq!(fill("a  b {{contact.x}} c", &[]), "a  b c");
    }

    #[test]
    fn missing_empty_and_blank_values_count_as_no_value() {
        let template = "Hi {{contact.firstname}}, bye";
        assert_eq!(fill(template, &[("firstname", "")]), "Hi, bye");
        assert_eq!(fill(template, &[("firstname", "  ")]), "Hi, bye");
        assert_eq!(fill(template, &[]), "Hi, bye");
    }

    #[test]
    fn values_are_trimmed_and_never_rescanned_for_tokens() {
        assert_eq!(
            fill(
                "Hi {{contact.firstname}}!",
                &[("firstname", " {{contact.secret}} "), ("secret", "leak")]
            ),
            "Hi {{contact.secret}}!"
        );
        assert_eq!(fill("Hi {{contact.a}}", &[("a", "{UNSUB_URL}")]), "Hi {UNSUB_URL}");
    }

    #[test]
    fn text_that_is_not_a_well_formed_token_is_kept_as_is() {
        for text in [
            "{{contact.}}",
            "{{ other.x }}",
            "{UNSUB_URL}",
            "{contact.firstname}",
            "{{contact.FirstName}}",
            "{{contact.first name}}",
            "{{contact.firstname}",
            "{{ contact .firstname}}",
            "{{contact.firstname\t}}",
            "{{contact.naïve}}",
            "{{",
            "}}",
            "{{{{",
        ] {
            assert_eq!(fill(text, &[("firstname", "Ana")]), text);
        }
        let long = format!("{{{{contact.{}}}}}", "a".repeat(65));
        assert_eq!(fill(&long, &[]), long);
        let longest = format!("{{{{contact.{}}}}}", "a".repeat(64));
        assert_eq!(fill(&longest, &[]), "");
    }

    #[test]
    fn malformed_tokens_do_not_hide_a_following_token() {
        assert_eq!(
            fill("{{{contact.firstname}}} {UNSUB_URL}", &[("firstname", "Ana")]),
            "{Ana} {UNSUB_URL}"
        );
        assert_eq!(fill("{{contact.}}{{contact.x}}", &[("x", "1")]), "{{contact.}}1");
    }

    #[test]
    fn empty_token_before_other_text_keeps_one_space() {
        assert_eq!(
            fill("Stop: {{contact.firstname}} {UNSUB_URL}", &[]),
            "Stop: {UNSUB_URL}"
        );
        assert_eq!(fill("Hi{{contact.firstname}} there", &[]), "Hi there");
        assert_eq!(fill("Hi{{contact.a}}{{contact.b}} there", &[]), "Hi there");
        assert_eq!(fill("Hi{{contact.a}}\t{{contact.b}} there", &[]), "Hi\tthere");
        assert_eq!(fill("a{{contact.x}}b", &[]), "ab");
    }

    #[test]
    fn non_ascii_text_around_tokens_is_kept() {
        assert_eq!(
            fill("Olá {{contact.firstname}}, tudo bem? 👋", &[("firstname", "João")]),
            "Olá João, tudo bem? 👋"
        );
        assert_eq!(fill("こんにちは {{contact.firstname}}。", &[]), "こんにちは。");
    }

    #[test]
    fn tokens_in_lists_distinct_names_in_order() {
        assert_eq!(
            tokens_in("{{contact.lastname}} {{ contact.firstname }} {{contact.lastname}} {{contact.}} {x}"),
            vec!["lastname".to_string(), "firstname".to_string()]
        );
        assert!(tokens_in("no tokens {UNSUB_URL}").is_empty());
    }

    /// Pieces of a message: words, separators, punctuation and tokens.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-zÀ-ÿ0-9]{1,6}",
            Just(" ".to_string()),
            Just("\n".to_string()),
            Just("\t".to_string()),
            "[,.!?:;()]",
            "[a-c]".prop_map(|n| format!("{{{{contact.{n}}}}}")),
            "[a-c]".prop_map(|n| format!("{{{{ contact.{n} }}}}")),
            Just("{UNSUB_URL}".to_string()),
        ]
    }

    /// Values without white space at their edges or doubled inside.
    fn value() -> impl Strategy<Value = Option<String>> {
        prop::option::of("[A-Za-z]{0,3}( [A-Za-z]{1,3})?")
    }

    proptest! {
        #[test]
        fn template_without_tokens_is_returned_unchanged(template in any::<String>()) {
            prop_assume!(tokens_in(&template).is_empty());
            prop_assert_eq!(fill_tokens(&template, |_| Some("X".into())), template);
        }

        #[test]
        fn brace_heavy_text_without_tokens_is_returned_unchanged(template in "[{}a-z. ]{0,40}") {
            prop_assume!(tokens_in(&template).is_empty());
            prop_assert_eq!(fill_tokens(&template, |_| Some("X".into())), template);
        }

        #[test]
        fn filling_never_creates_double_spaces(
            pieces in prop::collection::vec(piece(), 0..16),
            a in value(),
            b in value(),
            c in value(),
        ) {
            let template: String = pieces.concat();
            prop_assume!(!template.contains("  "));
            let out = fill_tokens(&template, |name| match name {
                "a" => a.clone(),
                "b" => b.clone(),
                _ => c.clone(),
            });
            prop_assert!(!out.contains("  "), "{:?} -> {:?}", template, out);
        }

        #[test]
        fn removing_tokens_never_glues_or_drops_words(
            pieces in prop::collection::vec(
                prop_oneof!["[a-z]{1,5}", "[a-c]".prop_map(|n| format!("{{{{contact.{n}}}}}"))],
                0..12,
            ),
            separators in prop::collection::vec("[ \t\n]?", 12),
        ) {
            let mut template = String::new();
            let mut without_tokens = String::new();
            for (piece, sep) in pieces.iter().zip(&separators) {
                template.push_str(piece);
                template.push_str(sep);
                if !piece.starts_with('{') {
                    without_tokens.push_str(piece);
                }
                without_tokens.push_str(sep);
            }
            // The words are those of the template with its tokens cut out:
            // white space around a removed token shrinks but never vanishes
            // from between two words.
            let out = fill_tokens(&template, |_| None);
            prop_assert_eq!(
                out.split_whitespace().collect::<Vec<_>>(),
                without_tokens.split_whitespace().collect::<Vec<_>>(),
                "{:?} -> {:?}", template, out
            );
        }

        #[test]
        fn removed_tokens_leave_no_space_at_line_edges(
            pieces in prop::collection::vec(piece(), 0..16),
        ) {
            let template: String = pieces.concat();
            let out = fill_tokens(&template, |_| None);
            // Lines of the template that had no edge spaces keep none.
            let clean = |line: &str| !line.starts_with([' ', '\t']) && !line.ends_with([' ', '\t']);
            if template.split('\n').all(clean) {
                prop_assert!(out.split('\n').all(clean), "{:?} -> {:?}", template, out);
            }
            prop_assert_eq!(out.matches('\n').count(), template.matches('\n').count());
        }
    }

    #[test]
    fn workflow_tokens_fill_trigger_data_beside_contact_properties() {
        let filled = fill_workflow_tokens(
            "Hi {{contact.firstname}}, order {{ trigger.data.order }} ships",
            |ns, name| match (ns, name) {
                (Namespace::Contact, "firstname") => Some("Ana".into()),
                (Namespace::TriggerData, "order") => Some("A-17".into()),
                _ => None,
            },
        );
        assert_eq!(filled, "Hi Ana, order A-17 ships");
    }

    #[test]
    fn trigger_data_tokens_are_plain_text_outside_workflows() {
        assert_eq!(
            fill_tokens("order {{trigger.data.order}}", |_| None),
            "order {{trigger.data.order}}"
        );
    }
}
