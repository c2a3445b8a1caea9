//! Contacts in CSV, the pure part of the import: the header row names
//! properties; each later line becomes a checked row or the reason it cannot
//! be imported, with its line number. The store side (matching by e-mail, then
//! by phone; create or update) is the caller's. Also the import page's preview
//! and the renaming of columns to properties.
//!
//! A file that cannot name properties is refused whole; a bad line never
//! stops the good ones.

use crate::properties::{check_properties, is_valid_name, merge, phones_of, PropertyChanges, Refusal};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A line whose properties passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRow {
    /// The properties the line sets (empty cells set nothing).
    pub changes: PropertyChanges,
    /// The e-mail the line carries, to match an existing contact by.
    pub email: Option<String>,
    /// The E.164 form of each phone property, to match by when the e-mail does not.
    pub phones: BTreeMap<String, String>,
}

/// One data line of the file: the row to import, or why it cannot be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLine {
    /// The line the record starts on (the header is line 1).
    pub line: u64,
    pub row: Result<CheckedRow, String>,
}

/// Reads `text` (UTF-8 CSV, without a byte-order mark) into checked rows, in
/// file order. A header that cannot name properties refuses the whole file
/// (`invalid_csv`, `invalid_property`); a bad line is an `Err` row with its
/// reason. `default_country` reads phone numbers without an international
/// prefix when the line has no `mobile_prefix` or `country`.
pub fn read_import(text: &str, default_country: Option<&str>) -> Result<Vec<ImportLine>, Refusal> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Refusal::new("invalid_csv", "header", format!("the header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.to_string())
        .collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        return Err(Refusal::new(
            "invalid_csv",
            "header",
            "the first line must name the properties",
        ));
    }
    if let Some(bad) = headers.iter().find(|h| !is_valid_name(h)) {
        return Err(Refusal::new(
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
        return Err(Refusal::new(
            "invalid_csv",
            dup.clone(),
            format!("column `{dup}` appears twice in the header"),
        ));
    }

    let mut out = Vec::new();
    let mut lines = LineCounter::new(text);
    for record in reader.records() {
        let (line, row) = match record {
            Err(e) => (lines.line_at(e.position()), Err(unreadable(&e))),
            Ok(record) => {
                let line = lines.line_at(record.position());
                let row: Map<String, Value> = headers
                    .iter()
                    .zip(record.iter())
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(h, v)| (h.clone(), Value::String(v.to_string())))
                    .collect();
                (line, check_row(row, default_country))
            }
        };
        out.push(ImportLine { line, row });
    }
    Ok(out)
}

/// The checks of one line, in the order a user fixes them.
fn check_row(row: Map<String, Value>, default_country: Option<&str>) -> Result<CheckedRow, String> {
    if row.is_empty() {
        return Err("the line is empty".into());
    }
    let changes = check_properties(&row).map_err(|e| e.message)?;
    let props = merge(BTreeMap::new(), changes.clone());
    let phones = phones_of(&props, default_country).map_err(|e| e.message)?;
    Ok(CheckedRow {
        email: props.get("email").cloned(),
        changes,
        phones,
    })
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

/// Why the preview or the remapping refused a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvError {
    /// The file or the mapping is at fault (422).
    Refused(Refusal),
    /// Writing the result failed: the hub's fault, not the file's.
    Internal(String),
}

/// The first lines of a CSV as the import page previews them.
#[derive(Debug, PartialEq)]
pub struct Preview {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Data lines in the whole file.
    pub lines: usize,
}

/// Reads the header and the first `n` data lines (`invalid_csv` when the
/// header cannot be read).
pub fn preview(text: &str, n: usize) -> Result<Preview, Refusal> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Refusal::new("invalid_csv", "header", format!("the header row cannot be read: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        return Err(Refusal::new(
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
/// that cannot be read is refused whole (`invalid_csv`).
pub fn remap(text: &str, mapping: &[Option<String>]) -> Result<String, CsvError> {
    let internal = |e: &dyn std::fmt::Display| CsvError::Internal(e.to_string());
    let mut lines = text.split_inclusive('\n');
    if lines.next().is_none() {
        return Err(CsvError::Refused(Refusal::new(
            "invalid_csv",
            "header",
            "the file is empty",
        )));
    }
    let kept: Vec<usize> = (0..mapping.len()).filter(|i| mapping[*i].is_some()).collect();
    if kept.is_empty() {
        return Err(CsvError::Refused(Refusal::new(
            "invalid_mapping",
            "mapping",
            "map at least one column to a property",
        )));
    }
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    let header: Vec<&str> = kept.iter().filter_map(|i| mapping[*i].as_deref()).collect();
    out.write_record(&header).map_err(|e| internal(&e))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    for record in reader.records() {
        match record {
            Ok(r) => {
                let fields: Vec<&str> = kept.iter().map(|i| r.get(*i).unwrap_or("")).collect();
                out.write_record(&fields).map_err(|e| internal(&e))?;
            }
            Err(e) => {
                return Err(CsvError::Refused(Refusal::new(
                    "invalid_csv",
                    "file",
                    format!("the file cannot be read: {e}"),
                )))
            }
        }
    }
    let bytes = out.into_inner().map_err(|e| internal(&e))?;
    String::from_utf8(bytes).map_err(|e| internal(&e))
}

#[cfg(test)]
mod tests {
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
        match remap("a\n1\n", &[None]) {
            Err(CsvError::Refused(r)) => assert_eq!(r.code, "invalid_mapping"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn each_line_is_checked_and_numbered() {
        let text = "email,phone\r\nana@example.com,+5511912345678\r\n\r\nbia,+5511912345679\n,\nx\n";
        let lines = read_import(text, None).unwrap();
        let numbers: Vec<u64> = lines.iter().map(|l| l.line).collect();
        assert_eq!(numbers, vec![2, 4, 5, 6]);
        let first = lines[0].row.as_ref().unwrap();
        assert_eq!(first.email.as_deref(), Some("ana@example.com"));
        assert_eq!(first.phones["phone"], "+5511912345678");
        assert!(lines[1].row.as_ref().unwrap_err().contains("email"));
        assert_eq!(lines[2].row, Err("the line is empty".into()));
        assert_eq!(lines[3].row, Err("the line has 1 fields but the header has 2".into()));
    }

    #[test]
    fn a_header_that_names_no_property_refuses_the_file() {
        assert_eq!(read_import("Nome\nAna\n", None).unwrap_err().code, "invalid_property");
        assert_eq!(read_import("a,a\n1,2\n", None).unwrap_err().code, "invalid_csv");
        assert_eq!(read_import("", None).unwrap_err().code, "invalid_csv");
    }
}
