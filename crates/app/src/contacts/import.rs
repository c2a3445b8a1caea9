//! CSV import: the header row names properties; each line creates a contact or
//! updates the one it matches (by e-mail, then by phone). A bad line is
//! reported with its line number and reason and never stops the good ones.

use super::service::{check_properties, merge, phones_of, Contacts};
use crate::{AppError, AppResult};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Serialize, utoipa::ToSchema, Debug, Default)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub failed: u64,
    pub errors: Vec<LineError>,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

/// Imports `text` (UTF-8 CSV, without a byte-order mark) into `contacts`.
/// A header that cannot name properties refuses the whole file; a bad line
/// is reported and skipped.
pub async fn import_csv(contacts: &Contacts<'_>, text: &str) -> AppResult<ImportReport> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| AppError::invalid("invalid_csv", "header", format!("the header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.to_string())
        .collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        return Err(AppError::invalid(
            "invalid_csv",
            "header",
            "the first line must name the properties",
        ));
    }
    if let Some(bad) = headers.iter().find(|h| !recado_core::properties::is_valid_name(h)) {
        return Err(AppError::invalid(
            "invalid_property",
            bad.clone(),
            format!("column `{bad}` is not a property name (a-z, 0-9, _)"),
        ));
    }
    if let Some(dup) = headers
        .iter()
        .enumerate()
        .find_map(|(i, h)| headers[..i].contains(h).then_some(h))
    {
        return Err(AppError::invalid(
            "invalid_csv",
            dup.clone(),
            format!("column `{dup}` appears twice in the header"),
        ));
    }

    let mut report = ImportReport::default();
    let mut lines = LineCounter::new(text);
    for record in reader.records() {
        let (line, outcome) = match record {
            Err(e) => (lines.line_at(e.position()), Err(unreadable(&e))),
            Ok(record) => {
                let line = lines.line_at(record.position());
                let row: Map<String, Value> = headers
                    .iter()
                    .zip(record.iter())
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(h, v)| (h.clone(), Value::String(v.to_string())))
                    .collect();
                (line, import_row(contacts, row).await)
            }
        };
        match outcome {
            Ok(true) => report.created += 1,
            Ok(false) => report.updated += 1,
            Err(message) => {
                report.failed += 1;
                report.errors.push(LineError { line, message });
            }
        }
    }
    Ok(report)
}

/// Why a line could not be read, without the reader's own position (which
/// may disagree with the reported line).
fn unreadable(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the line has {len} fields but the header has {expected_len}")
        }
        _ => format!("the line cannot be read: {e}"),
    }
}

/// The line a record starts on (the header is line 1). The CSV reader's own
/// line count can point at the line breaks before a record (after CRLF line
/// ends or blank lines), so lines are counted from the record's byte offset,
/// past those breaks. Records come in file order, so counting goes forward only.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            bytes: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else {
            return 0;
        };
        let mut start = (position.byte() as usize).clamp(self.offset, self.bytes.len());
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        for (i, &b) in self.bytes[self.offset..start].iter().enumerate() {
            let at = self.offset + i;
            // `\n`, `\r\n` and a lone `\r` each end one line.
            if b == b'\n' || (b == b'\r' && self.bytes.get(at + 1) != Some(&b'\n')) {
                self.line += 1;
            }
        }
        self.offset = start;
        self.line
    }
}

/// Ok(true) when created, Ok(false) when an existing contact was updated.
async fn import_row(contacts: &Contacts<'_>, row: Map<String, Value>) -> Result<bool, String> {
    if row.is_empty() {
        return Err("the line is empty".into());
    }
    let changes = check_properties(&row).map_err(|e| e.message)?;
    let props = merge(BTreeMap::new(), changes.clone());
    let phones = phones_of(&props, contacts.default_country).map_err(|e| e.message)?;
    let existing = contacts
        .find_match(props.get("email").map(String::as_str), &phones)
        .await
        .map_err(|e| e.message)?;
    match existing {
        Some(contact) => contacts
            .update(contact, changes)
            .await
            .map(|_| false)
            .map_err(|e| e.message),
        None => contacts.create(changes).await.map(|_| true).map_err(|e| e.message),
    }
}
