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

/// The first lines of a CSV as the import page previews them.
#[derive(Debug, PartialEq)]
pub struct Preview {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Data lines in the whole file.
    pub lines: usize,
}

/// Reads the header and the first `n` data lines (422 `invalid_csv` when
/// the header cannot be read).
pub fn preview(text: &str, n: usize) -> AppResult<Preview> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| AppError::invalid("invalid_csv", "header", format!("the header row cannot be read: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        return Err(AppError::invalid(
            "invalid_csv",
            "header",
            "the first line must name the columns",
        ));
    }
    let mut rows = Vec::new();
    let mut lines = 0;
    for record in reader.records() {
        lines += 1;
        if rows.len() < n {
            rows.push(
                record
                    .map(|r| r.iter().map(str::to_string).collect())
                    .unwrap_or_default(),
            );
        }
    }
    Ok(Preview { headers, rows, lines })
}

/// The CSV with its columns renamed to the properties they map to, in the
/// file's order: `mapping[i]` names column `i`'s property, `None` leaves the
/// column out. Each record is written on one line, so the import report's
/// line numbers are the file's as long as no value spans lines; a file
/// that cannot be read is refused whole (422 `invalid_csv`).
pub fn remap(text: &str, mapping: &[Option<String>]) -> AppResult<String> {
    let mut lines = text.split_inclusive('\n');
    if lines.next().is_none() {
        return Err(AppError::invalid("invalid_csv", "header", "the file is empty"));
    }
    let kept: Vec<usize> = (0..mapping.len()).filter(|i| mapping[*i].is_some()).collect();
    if kept.is_empty() {
        return Err(AppError::invalid(
            "invalid_mapping",
            "mapping",
            "map at least one column to a property",
        ));
    }
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    let header: Vec<&str> = kept.iter().filter_map(|i| mapping[*i].as_deref()).collect();
    out.write_record(&header).map_err(AppError::internal)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    for record in reader.records() {
        match record {
            Ok(r) => {
                let fields: Vec<&str> = kept.iter().map(|i| r.get(*i).unwrap_or("")).collect();
                out.write_record(&fields).map_err(AppError::internal)?;
            }
            Err(e) => {
                return Err(AppError::invalid(
                    "invalid_csv",
                    "file",
                    format!("the file cannot be read: {e}"),
                ))
            }
        }
    }
    String::from_utf8(out.into_inner().map_err(AppError::internal)?).map_err(AppError::internal)
}

#[cfg(test)]
mod mapping_tests {
    use super::*;

    #[test]
    fn a_preview_shows_the_header_and_the_first_lines() {
        let p = preview("Nome,Celular\nAna,+5511912345678\nBia,+5511912345679\nCaio,x\n", 2).unwrap();
        assert_eq!(p.headers, vec!["Nome", "Celular"]);
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.lines, 3);
    }

    #[test]
    fn remapped_columns_take_the_property_names_and_skipped_ones_go() {
        let out = remap(
            "Nome,Cidade,Celular\nAna,Recife,+5511912345678\n",
            &[Some("firstname".into()), None, Some("mobilephone".into())],
        )
        .unwrap();
        assert_eq!(out, "firstname,mobilephone\nAna,+5511912345678\n");
    }

    #[test]
    fn a_mapping_that_keeps_nothing_is_refused() {
        assert_eq!(remap("a\n1\n", &[None]).unwrap_err().code, "invalid_mapping");
    }
}
