//! Meta's documented limits on outbound messages, checked before sending.
//!
//! Lengths count Unicode scalar values (what a person sees as characters in most scripts).
//! A message refused here never reaches the provider, so the server can answer 422 naming
//! the field instead of learning about it from an error code after the fact.

use std::collections::HashSet;

use super::send::{Interactive, MediaKind, OutboundContent, Section, SendRequest};

pub const MAX_TEXT_BODY: usize = 4096;
pub const MAX_CAPTION: usize = 1024;
pub const MAX_INTERACTIVE_BODY: usize = 1024;
pub const MAX_HEADER: usize = 60;
pub const MAX_FOOTER: usize = 60;
pub const MAX_REPLY_BUTTONS: usize = 3;
pub const MAX_BUTTON_TITLE: usize = 20;
pub const MAX_BUTTON_ID: usize = 256;
pub const MAX_LIST_BUTTON: usize = 20;
pub const MAX_LIST_SECTIONS: usize = 10;
pub const MAX_LIST_ROWS: usize = 10;
pub const MAX_SECTION_TITLE: usize = 24;
pub const MAX_ROW_TITLE: usize = 24;
pub const MAX_ROW_ID: usize = 200;
pub const MAX_ROW_DESCRIPTION: usize = 72;
pub const MAX_BIZ_OPAQUE: usize = 512;

/// Why a message cannot be sent as it is; `field` names the offending part.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContentError {
    #[error("`{field}` must not be empty")]
    Empty { field: String },
    #[error("`{field}` has {actual} characters; WhatsApp allows at most {max}")]
    TooLong { field: String, max: usize, actual: usize },
    #[error("`{field}` has {actual} items; WhatsApp allows {min} to {max}")]
    Count {
        field: String,
        min: usize,
        max: usize,
        actual: usize,
    },
    #[error("{kind} media needs exactly one of `link` and `id`")]
    MediaSource { kind: MediaKind },
    #[error("`{field}` must be an http(s) URL")]
    InvalidLink { field: String },
    #[error("`{field}` is not allowed for {context}")]
    NotAllowed { field: String, context: &'static str },
    #[error("`{field}` repeats the id {id:?}; ids must be unique")]
    DuplicateId { field: String, id: String },
    #[error("`{field}` must be between {min} and {max}")]
    OutOfRange { field: String, min: f64, max: f64 },
    #[error("`to` must be a phone number in E.164 form, got {0:?}")]
    InvalidRecipient(String),
}

impl ContentError {
    /// The request field the error is about, for the API's `field`.
    pub fn field(&self) -> &str {
        match self {
            ContentError::Empty { field }
            | ContentError::TooLong { field, .. }
            | ContentError::Count { field, .. }
            | ContentError::InvalidLink { field }
            | ContentError::NotAllowed { field, .. }
            | ContentError::DuplicateId { field, .. }
            | ContentError::OutOfRange { field, .. } => field,
            ContentError::MediaSource { .. } => "link",
            ContentError::InvalidRecipient(_) => "to",
        }
    }
}

/// Checks a request against Meta's limits.
pub fn validate(req: &SendRequest) -> Result<(), ContentError> {
    let digits = req.to.strip_prefix('+').unwrap_or(&req.to);
    if !(6..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return Err(ContentError::InvalidRecipient(req.to.clone()));
    }
    if let Some(data) = &req.biz_opaque_callback_data {
        max_len("biz_opaque_callback_data", data, MAX_BIZ_OPAQUE)?;
    }
    if let Some(id) = &req.reply_to {
        required("reply_to", id)?;
    }
    match &req.content {
        OutboundContent::Text { body, .. } => text("text.body", body, MAX_TEXT_BODY),
        OutboundContent::Media {
            kind,
            link,
            id,
            caption,
            filename,
        } => {
            let kind = *kind;
            match (link, id) {
                (Some(link), None) => {
                    if !(link.starts_with("https://") || link.starts_with("http://")) {
                        return Err(ContentError::InvalidLink {
                            field: format!("{kind}.link"),
                        });
                    }
                }
                (None, Some(id)) => required(&format!("{kind}.id"), id)?,
                _ => return Err(ContentError::MediaSource { kind }),
            }
            if let Some(caption) = caption {
                if !kind.takes_caption() {
                    return Err(ContentError::NotAllowed {
                        field: format!("{kind}.caption"),
                        context: "this media type",
                    });
                }
                max_len(&format!("{kind}.caption"), caption, MAX_CAPTION)?;
            }
            if filename.is_some() && kind != MediaKind::Document {
                return Err(ContentError::NotAllowed {
                    field: format!("{kind}.filename"),
                    context: "this media type",
                });
            }
            Ok(())
        }
        OutboundContent::Interactive(interactive) => validate_interactive(interactive),
        OutboundContent::Template {
            name,
            language,
            components,
        } => {
            required("template.name", name)?;
            required("template.language", language)?;
            match components.iter().position(|c| !c.is_object()) {
                Some(i) => Err(ContentError::NotAllowed {
                    field: format!("template.components[{i}]"),
                    context: "a template (components are objects)",
                }),
                None => Ok(()),
            }
        }
        OutboundContent::Reaction { message_id, .. } => required("reaction.message_id", message_id),
        OutboundContent::Location {
            latitude, longitude, ..
        } => {
            range("location.latitude", *latitude, 90.0)?;
            range("location.longitude", *longitude, 180.0)
        }
    }
}

fn validate_interactive(interactive: &Interactive) -> Result<(), ContentError> {
    let (header, body, footer) = match interactive {
        Interactive::Buttons {
            header, body, footer, ..
        }
        | Interactive::List {
            header, body, footer, ..
        } => (header, body, footer),
    };
    text("interactive.body", body, MAX_INTERACTIVE_BODY)?;
    if let Some(header) = header {
        text("interactive.header", header, MAX_HEADER)?;
    }
    if let Some(footer) = footer {
        text("interactive.footer", footer, MAX_FOOTER)?;
    }
    match interactive {
        Interactive::Buttons { buttons, .. } => {
            count("interactive.buttons", buttons.len(), 1, MAX_REPLY_BUTTONS)?;
            let mut ids = HashSet::new();
            for (i, b) in buttons.iter().enumerate() {
                text(&format!("interactive.buttons[{i}].id"), &b.id, MAX_BUTTON_ID)?;
                text(&format!("interactive.buttons[{i}].title"), &b.title, MAX_BUTTON_TITLE)?;
                unique(&mut ids, &format!("interactive.buttons[{i}].id"), &b.id)?;
            }
            Ok(())
        }
        Interactive::List { button, sections, .. } => {
            text("interactive.button", button, MAX_LIST_BUTTON)?;
            validate_sections(sections)
        }
    }
}

fn validate_sections(sections: &[Section]) -> Result<(), ContentError> {
    count("interactive.sections", sections.len(), 1, MAX_LIST_SECTIONS)?;
    let total_rows = sections.iter().map(|s| s.rows.len()).sum();
    count("interactive.sections[].rows", total_rows, 1, MAX_LIST_ROWS)?;
    let mut ids = HashSet::new();
    for (i, section) in sections.iter().enumerate() {
        match &section.title {
            Some(title) => text(&format!("interactive.sections[{i}].title"), title, MAX_SECTION_TITLE)?,
            None if sections.len() > 1 => {
                return Err(ContentError::Empty {
                    field: format!("interactive.sections[{i}].title"),
                })
            }
            None => {}
        }
        for (j, row) in section.rows.iter().enumerate() {
            let field = format!("interactive.sections[{i}].rows[{j}]");
            text(&format!("{field}.id"), &row.id, MAX_ROW_ID)?;
            text(&format!("{field}.title"), &row.title, MAX_ROW_TITLE)?;
            if let Some(d) = &row.description {
                max_len(&format!("{field}.description"), d, MAX_ROW_DESCRIPTION)?;
            }
            unique(&mut ids, &format!("{field}.id"), &row.id)?;
        }
    }
    Ok(())
}

/// Non-empty (after trimming) and at most `max` characters.
fn text(field: &str, value: &str, max: usize) -> Result<(), ContentError> {
    required(field, value)?;
    max_len(field, value, max)
}

fn required(field: &str, value: &str) -> Result<(), ContentError> {
    if value.trim().is_empty() {
        return Err(ContentError::Empty {
            field: field.to_string(),
        });
    }
    Ok(())
}

fn max_len(field: &str, value: &str, max: usize) -> Result<(), ContentError> {
    let actual = value.chars().count();
    if actual > max {
        return Err(ContentError::TooLong {
            field: field.to_string(),
            max,
            actual,
        });
    }
    Ok(())
}

fn count(field: &str, actual: usize, min: usize, max: usize) -> Result<(), ContentError> {
    if actual < min || actual > max {
        return Err(ContentError::Count {
            field: field.to_string(),
            min,
            max,
            actual,
        });
    }
    Ok(())
}

fn unique(seen: &mut HashSet<String>, field: &str, id: &str) -> Result<(), ContentError> {
    if !seen.insert(id.to_string()) {
        return Err(ContentError::DuplicateId {
            field: field.to_string(),
            id: id.to_string(),
        });
    }
    Ok(())
}

fn range(field: &str, value: f64, bound: f64) -> Result<(), ContentError> {
    if !value.is_finite() || value < -bound || value > bound {
        return Err(ContentError::OutOfRange {
            field: field.to_string(),
            min: -bound,
            max: bound,
        });
    }
    Ok(())
}
