//! Message templates: definitions as listed by the provider, the variables they declare, and
//! the `components` of a send filled from the hub's parameters.
//!
//! Variables are counted from the definition itself (`{{1}}` or `{{name}}` in the header and
//! body texts and in URL buttons, plus the one parameter a media header or a copy-code/OTP
//! button always needs), and [`build_components`] refuses any missing or extra parameter
//! before a request is made: Meta would answer 132000 after the fact.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

pub use super::opt_out::{is_marketing_opt_out, marketing_opt_out_button, OptOutButton};

/// A template as the provider lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// Meta's template id (a number in some payloads, a string in others).
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: String,
    pub name: String,
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    #[serde(default)]
    pub category: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, …
    #[serde(default)]
    pub status: String,
    /// The definition's components (`HEADER`, `BODY`, `FOOTER`, `BUTTONS`) as sent by Meta.
    #[serde(default)]
    pub components: Value,
}

impl Template {
    pub fn variables(&self) -> TemplateVariables {
        TemplateVariables::from_components(&self.components)
    }

    pub fn is_approved(&self) -> bool {
        self.status.eq_ignore_ascii_case("APPROVED")
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

/// How many parameters each part of a template takes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TemplateVariables {
    pub header: usize,
    pub body: usize,
    /// `(button index, parameter count)` for each button that takes parameters.
    pub buttons: Vec<(usize, usize)>,
    /// `TEXT`, `IMAGE`, `VIDEO`, `DOCUMENT` or `LOCATION` when the template has a header.
    #[serde(default)]
    pub header_format: Option<String>,
    /// Placeholder names in order for templates with named parameters (`{{first_name}}`);
    /// empty for positional ones.
    #[serde(default)]
    pub header_names: Vec<String>,
    #[serde(default)]
    pub body_names: Vec<String>,
    /// The send-time `sub_type` (`url`, `copy_code`, …) of each button that takes parameters.
    #[serde(default)]
    pub button_sub_types: BTreeMap<usize, String>,
}

impl TemplateVariables {
    /// Counts the variables of a definition's `components` array.
    pub fn from_components(components: &Value) -> Self {
        let mut vars = TemplateVariables::default();
        for component in components.as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let ty = upper(component, "type");
            let text = component.get("text").and_then(Value::as_str).unwrap_or("");
            match ty.as_str() {
                "HEADER" => {
                    let format = Some(upper(component, "format"))
                        .filter(|f| !f.is_empty())
                        .unwrap_or("TEXT".into());
                    if format == "TEXT" {
                        let p = placeholders(text);
                        (vars.header, vars.header_names) = (p.count, p.names);
                    } else {
                        vars.header = 1;
                    }
                    vars.header_format = Some(format);
                }
                "BODY" => {
                    let p = placeholders(text);
                    (vars.body, vars.body_names) = (p.count, p.names);
                }
                "BUTTONS" => {
                    for (index, button) in component["buttons"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or(&[])
                        .iter()
                        .enumerate()
                    {
                        let (count, sub_type) = match upper(button, "type").as_str() {
                            "URL" => (placeholders(button["url"].as_str().unwrap_or("")).count, "url"),
                            "COPY_CODE" => (1, "copy_code"),
                            // Authentication templates take the one-time code as a URL parameter.
                            "OTP" => (1, "url"),
                            _ => (0, ""),
                        };
                        if count > 0 {
                            vars.buttons.push((index, count));
                            vars.button_sub_types.insert(index, sub_type.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        vars
    }
}

fn upper(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_ascii_uppercase()
}

struct Placeholders {
    count: usize,
    names: Vec<String>,
}

/// Distinct `{{…}}` placeholders of a text: positional (`{{1}}`) or named (`{{first_name}}`).
fn placeholders(text: &str) -> Placeholders {
    let mut found: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let token = after[..end].trim();
        let valid = !token.is_empty() && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if valid && !found.iter().any(|f| f == token) {
            found.push(token.to_string());
        }
        rest = &after[end + 2..];
    }
    let positional = found.iter().all(|t| t.bytes().all(|b| b.is_ascii_digit()));
    Placeholders {
        count: found.len(),
        names: if positional { Vec::new() } else { found },
    }
}

/// Values for a template's variables, as the API takes them:
/// `{"header": [...], "body": [...], "buttons": {"0": [...]}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemplateParams {
    pub header: Vec<String>,
    pub body: Vec<String>,
    pub buttons: BTreeMap<usize, Vec<String>>,
}

/// Why parameters do not fit a template; `component` is `header`, `body` or `button N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateParamError {
    #[error("{component} takes {expected} parameter(s), {given} given")]
    Count {
        component: String,
        expected: usize,
        given: usize,
    },
    #[error("{component} parameter {position} is empty")]
    Empty { component: String, position: usize },
    #[error("{component} parameter {position} {reason}")]
    Format {
        component: String,
        position: usize,
        reason: &'static str,
    },
    #[error("header: a {format} header cannot be filled from text parameters")]
    UnsupportedHeader { format: String },
}

impl TemplateParamError {
    pub fn component(&self) -> &str {
        match self {
            TemplateParamError::Count { component, .. }
            | TemplateParamError::Empty { component, .. }
            | TemplateParamError::Format { component, .. } => component,
            TemplateParamError::UnsupportedHeader { .. } => "header",
        }
    }
}

/// Builds the `components` of a template send, checking every count exactly.
pub fn build_components(vars: &TemplateVariables, params: &TemplateParams) -> Result<Vec<Value>, TemplateParamError> {
    let mut components = Vec::new();

    check_count("header", vars.header, &params.header)?;
    if vars.header > 0 {
        let format = vars.header_format.as_deref().unwrap_or("TEXT");
        let parameters = match format {
            "TEXT" => text_parameters("header", &params.header, &vars.header_names)?,
            "IMAGE" | "VIDEO" | "DOCUMENT" => vec![media_parameter(&format.to_ascii_lowercase(), &params.header[0])?],
            other => {
                return Err(TemplateParamError::UnsupportedHeader {
                    format: other.to_string(),
                })
            }
        };
        components.push(json!({ "type": "header", "parameters": parameters }));
    }

    check_count("body", vars.body, &params.body)?;
    if vars.body > 0 {
        let parameters = text_parameters("body", &params.body, &vars.body_names)?;
        components.push(json!({ "type": "body", "parameters": parameters }));
    }

    if let Some(extra) = params
        .buttons
        .keys()
        .find(|i| !vars.buttons.iter().any(|(b, _)| b == *i))
    {
        let given = params.buttons[extra].len();
        return Err(TemplateParamError::Count {
            component: format!("button {extra}"),
            expected: 0,
            given,
        });
    }
    for &(index, expected) in &vars.buttons {
        let component = format!("button {index}");
        let values = params.buttons.get(&index).map(Vec::as_slice).unwrap_or(&[]);
        check_count(&component, expected, values)?;
        let sub_type = vars.button_sub_types.get(&index).map(String::as_str).unwrap_or("url");
        let mut parameters = Vec::new();
        for (i, v) in values.iter().enumerate() {
            not_empty(&component, i, v)?;
            parameters.push(match sub_type {
                "copy_code" => json!({ "type": "coupon_code", "coupon_code": v }),
                _ => json!({ "type": "text", "text": v }),
            });
        }
        components.push(json!({
            "type": "button", "sub_type": sub_type, "index": index.to_string(), "parameters": parameters
        }));
    }
    Ok(components)
}

fn check_count(component: &str, expected: usize, given: &[String]) -> Result<(), TemplateParamError> {
    if expected != given.len() {
        return Err(TemplateParamError::Count {
            component: component.to_string(),
            expected,
            given: given.len(),
        });
    }
    Ok(())
}

fn not_empty(component: &str, index: usize, value: &str) -> Result<(), TemplateParamError> {
    if value.trim().is_empty() {
        return Err(TemplateParamError::Empty {
            component: component.to_string(),
            position: index + 1,
        });
    }
    Ok(())
}

/// Text parameters, named when the template uses named placeholders. Meta refuses text
/// parameters with line breaks, tabs or more than four consecutive spaces.
fn text_parameters(component: &str, values: &[String], names: &[String]) -> Result<Vec<Value>, TemplateParamError> {
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        not_empty(component, i, v)?;
        let format = |reason| TemplateParamError::Format {
            component: component.to_string(),
            position: i + 1,
            reason,
        };
        if v.contains(['\n', '\r', '\t']) {
            return Err(format("contains a line break or tab"));
        }
        if v.contains("     ") {
            return Err(format("contains more than four consecutive spaces"));
        }
        let mut p = json!({ "type": "text", "text": v });
        if let Some(name) = names.get(i) {
            p["parameter_name"] = json!(name);
        }
        out.push(p);
    }
    Ok(out)
}

/// A media header parameter: an http(s) value is a link, anything else an uploaded media id.
fn media_parameter(kind: &str, value: &str) -> Result<Value, TemplateParamError> {
    not_empty("header", 0, value)?;
    let source = if value.starts_with("https://") || value.starts_with("http://") {
        json!({ "link": value })
    } else {
        json!({ "id": value })
    };
    Ok(json!({ "type": kind, kind: source }))
}
