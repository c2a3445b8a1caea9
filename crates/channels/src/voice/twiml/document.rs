//! TwiML documents: the answer to every request the provider makes while a call is up.
//!
//! A [`Response`] is a list of [`Verb`]s the provider carries out in order: `<Play>` an audio
//! URL, `<Say>` a text, `<Pause>`, `<Gather>` a key while prompts play, `<Dial>` another
//! number (a transfer), `<Redirect>` to another document, `<Hangup/>`. The hub plays its own
//! rendered narrations with `<Play>` (the speech is rendered on the box, so what a user hears
//! in the preview is what the contact hears), and audio-URL narrations with `<Play>` as well;
//! `<Say>` is there for completeness.
//!
//! Writing escapes every text and attribute value (`&`, `<`, `>`, `"`, `'`, and in attributes
//! tab, line feed and carriage return as character references, so they survive attribute
//! normalisation), and drops the characters XML 1.0 cannot carry at all (C0 controls other than
//! tab, line feed and carriage return; U+FFFE, U+FFFF). Texts are trimmed: leading and trailing
//! white space is neither spoken nor part of a URL.
//!
//! [`Response::parse`] reads a document back (for the test provider and round trips); it
//! knows exactly the verbs and attributes written here, and refuses anything else, so a
//! misspelt attribute fails a test instead of being ignored by a provider.

use std::fmt::Write as _;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// `Content-Type` of a document.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// How the provider requests an action or redirect URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }

    fn parse(value: &str) -> Option<Method> {
        match value.trim().to_ascii_uppercase().as_str() {
            "GET" => Some(Method::Get),
            "POST" => Some(Method::Post),
            _ => None,
        }
    }
}

/// `<Say>`: a text spoken by the provider's own speech engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Say {
    pub text: String,
    /// A language tag the provider knows (`pt-BR`, `es-ES`, …).
    pub language: Option<String>,
    /// A voice of the provider (`alice`, `Polly.Camila`, …).
    pub voice: Option<String>,
}

impl Say {
    pub fn new(text: impl Into<String>) -> Say {
        Say {
            text: text.into(),
            language: None,
            voice: None,
        }
    }

    pub fn language(mut self, language: impl Into<String>) -> Say {
        self.language = Some(language.into());
        self
    }

    pub fn voice(mut self, voice: impl Into<String>) -> Say {
        self.voice = Some(voice.into());
        self
    }
}

/// What a `<Gather>` may play while it listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    Play { url: String },
    Say(Say),
    Pause { length_s: u32 },
}

/// `<Gather>`: plays its prompts and listens for keys; on input (or, with
/// `actionOnEmptyResult="true"`, on the timeout) the provider posts `Digits` to `action` and
/// plays the document it answers with. Without an action result the provider goes on with
/// the verb after the `<Gather>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gather {
    /// `dtmf` for keys.
    pub input: String,
    pub num_digits: Option<u32>,
    /// Seconds of silence after the prompts before giving up.
    pub timeout_s: Option<u32>,
    /// `Some("")` disables the finish key, so `#` arrives as a key of its own.
    pub finish_on_key: Option<String>,
    pub action_on_empty_result: Option<bool>,
    /// Defaults, at the provider, to the current document's URL.
    pub action: Option<String>,
    pub method: Option<Method>,
    pub prompts: Vec<Prompt>,
}

impl Gather {
    /// The hub's menu: one key (`input="dtmf" numDigits="1"`), `timeout_s` of silence,
    /// no finish key, and the action posted on silence too (`Digits` empty), to `action` by
    /// POST.
    pub fn one_key(action: impl Into<String>, timeout_s: u32) -> Gather {
        Gather {
            input: "dtmf".into(),
            num_digits: Some(1),
            timeout_s: Some(timeout_s),
            finish_on_key: Some(String::new()),
            action_on_empty_result: Some(true),
            action: Some(action.into()),
            method: Some(Method::Post),
            prompts: Vec::new(),
        }
    }

    pub fn play(mut self, url: impl Into<String>) -> Gather {
        self.prompts.push(Prompt::Play { url: url.into() });
        self
    }

    pub fn say(mut self, say: Say) -> Gather {
        self.prompts.push(Prompt::Say(say));
        self
    }

    pub fn pause(mut self, length_s: u32) -> Gather {
        self.prompts.push(Prompt::Pause { length_s });
        self
    }
}

/// `<Dial>`: bridges the call to `number`; with an `action`, the provider posts the
/// transfer's outcome (`DialCallStatus`) there when the transferred leg ends and plays the
/// document it answers with, otherwise it goes on with the next verb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    /// E.164.
    pub number: String,
    /// The caller id the transferred leg shows.
    pub caller_id: Option<String>,
    pub action: Option<String>,
    pub method: Option<Method>,
    /// Ring time of the transferred leg, in seconds.
    pub timeout_s: Option<u32>,
}

impl Dial {
    pub fn new(number: impl Into<String>) -> Dial {
        Dial {
            number: number.into(),
            caller_id: None,
            action: None,
            method: None,
            timeout_s: None,
        }
    }

    pub fn caller_id(mut self, caller_id: impl Into<String>) -> Dial {
        self.caller_id = Some(caller_id.into());
        self
    }

    /// The action URL, requested by POST.
    pub fn action(mut self, url: impl Into<String>) -> Dial {
        self.action = Some(url.into());
        self.method = Some(Method::Post);
        self
    }

    pub fn timeout(mut self, timeout_s: u32) -> Dial {
        self.timeout_s = Some(timeout_s);
        self
    }
}

/// `<Redirect>`: the rest of the call comes from the document at `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub url: String,
    pub method: Option<Method>,
}

/// One instruction of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    Play { url: String },
    Say(Say),
    Pause { length_s: u32 },
    Gather(Gather),
    Dial(Dial),
    Redirect(Redirect),
    Hangup,
}

impl From<Prompt> for Verb {
    fn from(prompt: Prompt) -> Verb {
        match prompt {
            Prompt::Play { url } => Verb::Play { url },
            Prompt::Say(say) => Verb::Say(say),
            Prompt::Pause { length_s } => Verb::Pause { length_s },
        }
    }
}

/// A document: `<Response>` and its verbs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    pub verbs: Vec<Verb>,
}

/// Why a document cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("the root element is `{0}`, not `Response`")]
    Root(String),
    #[error("unknown verb `{0}`")]
    UnknownVerb(String),
    #[error("`{verb}` cannot be nested in `{parent}`")]
    Nesting { verb: String, parent: String },
    #[error("unknown attribute `{attribute}` on `{verb}`")]
    UnknownAttribute { verb: String, attribute: String },
    #[error("bad value `{value}` of `{attribute}` on `{verb}`")]
    BadValue {
        verb: String,
        attribute: String,
        value: String,
    },
    #[error("`{0}` needs a text")]
    Empty(String),
}

impl Response {
    pub fn new() -> Response {
        Response::default()
    }

    pub fn play(mut self, url: impl Into<String>) -> Response {
        self.verbs.push(Verb::Play { url: url.into() });
        self
    }

    pub fn say(mut self, say: Say) -> Response {
        self.verbs.push(Verb::Say(say));
        self
    }

    pub fn pause(mut self, length_s: u32) -> Response {
        self.verbs.push(Verb::Pause { length_s });
        self
    }

    pub fn gather(mut self, gather: Gather) -> Response {
        self.verbs.push(Verb::Gather(gather));
        self
    }

    pub fn dial(mut self, dial: Dial) -> Response {
        self.verbs.push(Verb::Dial(dial));
        self
    }

    /// A redirect requested by POST.
    pub fn redirect(mut self, url: impl Into<String>) -> Response {
        self.verbs.push(Verb::Redirect(Redirect {
            url: url.into(),
            method: Some(Method::Post),
        }));
        self
    }

    pub fn hangup(mut self) -> Response {
        self.verbs.push(Verb::Hangup);
        self
    }

    /// The document as UTF-8 XML with its declaration, on one line.
    pub fn to_xml(&self) -> String {
        let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        if self.verbs.is_empty() {
            out.push_str("<Response/>");
            return out;
        }
        out.push_str("<Response>");
        for verb in &self.verbs {
            write_verb(&mut out, verb);
        }
        out.push_str("</Response>");
        out
    }

    /// Reads a document (see the module's header for what is accepted).
    pub fn parse(xml: &str) -> Result<Response, DocumentError> {
        let root = read_tree(xml)?;
        if root.name != "Response" {
            return Err(DocumentError::Root(root.name));
        }
        no_attributes(&root)?;
        let verbs = root.children.iter().map(verb_of).collect::<Result<_, _>>()?;
        Ok(Response { verbs })
    }
}

impl std::fmt::Display for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_xml())
    }
}

// ---- writing ----

fn write_verb(out: &mut String, verb: &Verb) {
    match verb {
        Verb::Play { url } => element(out, "Play", &[], url),
        Verb::Say(say) => write_say(out, say),
        Verb::Pause { length_s } => empty(out, "Pause", &[("length", Some(length_s.to_string()))]),
        Verb::Gather(gather) => {
            let attributes = [
                ("input", Some(gather.input.clone())),
                ("numDigits", gather.num_digits.map(|n| n.to_string())),
                ("timeout", gather.timeout_s.map(|n| n.to_string())),
                ("finishOnKey", gather.finish_on_key.clone()),
                (
                    "actionOnEmptyResult",
                    gather.action_on_empty_result.map(|b| b.to_string()),
                ),
                ("action", gather.action.clone()),
                ("method", gather.method.map(|m| m.as_str().to_string())),
            ];
            if gather.prompts.is_empty() {
                empty(out, "Gather", &attributes);
                return;
            }
            open(out, "Gather", &attributes);
            for prompt in &gather.prompts {
                write_verb(out, &prompt.clone().into());
            }
            out.push_str("</Gather>");
        }
        Verb::Dial(dial) => element(
            out,
            "Dial",
            &[
                ("callerId", dial.caller_id.clone()),
                ("action", dial.action.clone()),
                ("method", dial.method.map(|m| m.as_str().to_string())),
                ("timeout", dial.timeout_s.map(|n| n.to_string())),
            ],
            &dial.number,
        ),
        Verb::Redirect(redirect) => element(
            out,
            "Redirect",
            &[("method", redirect.method.map(|m| m.as_str().to_string()))],
            &redirect.url,
        ),
        Verb::Hangup => out.push_str("<Hangup/>"),
    }
}

fn write_say(out: &mut String, say: &Say) {
    element(
        out,
        "Say",
        &[("language", say.language.clone()), ("voice", say.voice.clone())],
        &say.text,
    );
}

fn open(out: &mut String, name: &str, attributes: &[(&str, Option<String>)]) {
    out.push('<');
    out.push_str(name);
    for (attribute, value) in attributes {
        if let Some(value) = value {
            let _ = write!(out, r#" {attribute}="{}""#, escape(value, true));
        }
    }
    out.push('>');
}

fn empty(out: &mut String, name: &str, attributes: &[(&str, Option<String>)]) {
    open(out, name, attributes);
    out.pop();
    out.push_str("/>");
}

fn element(out: &mut String, name: &str, attributes: &[(&str, Option<String>)], text: &str) {
    open(out, name, attributes);
    out.push_str(&escape(text.trim(), false));
    let _ = write!(out, "</{name}>");
}

/// Escapes `value` for a text (`attribute == false`) or a double-quoted attribute value, and
/// drops what XML 1.0 cannot carry.
fn escape(value: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A raw carriage return is normalised away by every reader.
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

// ---- reading ----

/// An element with its attributes (unescaped) and either children or text.
#[derive(Debug)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
    text: String,
}

fn read_tree(xml: &str) -> Result<Node, DocumentError> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let bad = |e: &dyn std::fmt::Display| DocumentError::Xml(e.to_string());
    loop {
        let event = reader.read_event().map_err(|e| bad(&e))?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                return Err(DocumentError::Xml(format!(
                    "element `{}` after the root",
                    String::from_utf8_lossy(start.name().as_ref())
                )))
            }
            Event::Start(start) => stack.push(node(&start)?),
            Event::Empty(start) => {
                let node = node(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let done = stack
                    .pop()
                    .ok_or_else(|| DocumentError::Xml("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => {
                let text = text.xml10_content().map_err(|e| bad(&e))?;
                match stack.last_mut() {
                    Some(parent) => parent.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(DocumentError::Xml("text outside the root element".into())),
                }
            }
            Event::CData(data) => {
                let text = data.decode().map_err(|e| bad(&e))?;
                if let Some(parent) = stack.last_mut() {
                    parent.text.push_str(&text);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|e| bad(&e))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = reference.decode().map_err(|e| bad(&e))?;
                        quick_xml::escape::resolve_xml_entity(&name)
                            .ok_or_else(|| DocumentError::Xml(format!("unknown entity `&{name};`")))?
                            .to_string()
                    }
                };
                if let Some(parent) = stack.last_mut() {
                    parent.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(DocumentError::Xml("unclosed element".into()));
    }
    root.ok_or_else(|| DocumentError::Xml("no root element".into()))
}

fn node(start: &BytesStart<'_>) -> Result<Node, DocumentError> {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| DocumentError::Xml(e.to_string()))?;
        let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| DocumentError::Xml(e.to_string()))?
            .into_owned();
        attributes.push((key, value));
    }
    Ok(Node {
        name,
        attributes,
        children: Vec::new(),
        text: String::new(),
    })
}

fn no_attributes(node: &Node) -> Result<(), DocumentError> {
    attributes(node, &[]).map(|_| ())
}

/// The node's attributes, each of `known` or refused.
fn attributes<'a>(node: &'a Node, known: &[&str]) -> Result<Vec<(&'a str, &'a str)>, DocumentError> {
    node.attributes
        .iter()
        .map(|(k, v)| {
            if known.contains(&k.as_str()) {
                Ok((k.as_str(), v.as_str()))
            } else {
                Err(DocumentError::UnknownAttribute {
                    verb: node.name.clone(),
                    attribute: k.clone(),
                })
            }
        })
        .collect()
}

fn leaf_text(node: &Node) -> Result<String, DocumentError> {
    if let Some(child) = node.children.first() {
        return Err(DocumentError::Nesting {
            verb: child.name.clone(),
            parent: node.name.clone(),
        });
    }
    Ok(node.text.trim().to_string())
}

fn no_text(node: &Node) -> Result<(), DocumentError> {
    if node.text.trim().is_empty() {
        Ok(())
    } else {
        Err(DocumentError::Xml(format!("text inside `{}`", node.name)))
    }
}

fn bad_value(node: &Node, attribute: &str, value: &str) -> DocumentError {
    DocumentError::BadValue {
        verb: node.name.clone(),
        attribute: attribute.to_string(),
        value: value.to_string(),
    }
}

fn number(node: &Node, attribute: &str, value: &str) -> Result<u32, DocumentError> {
    value.trim().parse().map_err(|_| bad_value(node, attribute, value))
}

fn method(node: &Node, attribute: &str, value: &str) -> Result<Method, DocumentError> {
    Method::parse(value).ok_or_else(|| bad_value(node, attribute, value))
}

fn verb_of(node: &Node) -> Result<Verb, DocumentError> {
    match node.name.as_str() {
        "Play" | "Say" | "Pause" => Ok(prompt_of(node)?.into()),
        "Gather" => {
            no_text(node)?;
            let mut gather = Gather {
                input: "dtmf".into(),
                num_digits: None,
                timeout_s: None,
                finish_on_key: None,
                action_on_empty_result: None,
                action: None,
                method: None,
                prompts: Vec::new(),
            };
            let known = [
                "input",
                "numDigits",
                "timeout",
                "finishOnKey",
                "actionOnEmptyResult",
                "action",
                "method",
            ];
            for (k, v) in attributes(node, &known)? {
                match k {
                    "input" => gather.input = v.to_string(),
                    "numDigits" => gather.num_digits = Some(number(node, k, v)?),
                    "timeout" => gather.timeout_s = Some(number(node, k, v)?),
                    "finishOnKey" => gather.finish_on_key = Some(v.to_string()),
                    "actionOnEmptyResult" => {
                        gather.action_on_empty_result = Some(match v.trim() {
                            "true" => true,
                            "false" => false,
                            _ => return Err(bad_value(node, k, v)),
                        })
                    }
                    "action" => gather.action = Some(v.to_string()),
                    _ => gather.method = Some(method(node, k, v)?),
                }
            }
            for child in &node.children {
                gather.prompts.push(prompt_of(child).map_err(|e| match e {
                    DocumentError::UnknownVerb(verb) => DocumentError::Nesting {
                        verb,
                        parent: "Gather".into(),
                    },
                    e => e,
                })?);
            }
            Ok(Verb::Gather(gather))
        }
        "Dial" => {
            let mut dial = Dial::new("");
            for (k, v) in attributes(node, &["callerId", "action", "method", "timeout"])? {
                match k {
                    "callerId" => dial.caller_id = Some(v.to_string()),
                    "action" => dial.action = Some(v.to_string()),
                    "method" => dial.method = Some(method(node, k, v)?),
                    _ => dial.timeout_s = Some(number(node, k, v)?),
                }
            }
            dial.number = match node.children.as_slice() {
                [] => node.text.trim().to_string(),
                [number] if number.name == "Number" => {
                    no_text(node)?;
                    no_attributes(number)?;
                    leaf_text(number)?
                }
                [other, ..] => {
                    return Err(DocumentError::Nesting {
                        verb: other.name.clone(),
                        parent: "Dial".into(),
                    })
                }
            };
            if dial.number.is_empty() {
                return Err(DocumentError::Empty("Dial".into()));
            }
            Ok(Verb::Dial(dial))
        }
        "Redirect" => {
            let mut redirect = Redirect {
                url: leaf_text(node)?,
                method: None,
            };
            for (k, v) in attributes(node, &["method"])? {
                redirect.method = Some(method(node, k, v)?);
            }
            if redirect.url.is_empty() {
                return Err(DocumentError::Empty("Redirect".into()));
            }
            Ok(Verb::Redirect(redirect))
        }
        "Hangup" => {
            no_attributes(node)?;
            leaf_text(node)?;
            no_text(node)?;
            Ok(Verb::Hangup)
        }
        other => Err(DocumentError::UnknownVerb(other.to_string())),
    }
}

fn prompt_of(node: &Node) -> Result<Prompt, DocumentError> {
    match node.name.as_str() {
        "Play" => {
            no_attributes(node)?;
            let url = leaf_text(node)?;
            if url.is_empty() {
                return Err(DocumentError::Empty("Play".into()));
            }
            Ok(Prompt::Play { url })
        }
        "Say" => {
            let mut say = Say::new(leaf_text(node)?);
            for (k, v) in attributes(node, &["language", "voice"])? {
                match k {
                    "language" => say.language = Some(v.to_string()),
                    _ => say.voice = Some(v.to_string()),
                }
            }
            Ok(Prompt::Say(say))
        }
        "Pause" => {
            leaf_text(node)?;
            no_text(node)?;
            let mut length_s = 1;
            for (k, v) in attributes(node, &["length"])? {
                length_s = number(node, k, v)?;
            }
            Ok(Prompt::Pause { length_s })
        }
        other => Err(DocumentError::UnknownVerb(other.to_string())),
    }
}
