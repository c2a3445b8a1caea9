//! CSV import: the header row names properties; each line creates a contact or
//! updates the one it matches (by e-mail, then by phone). A bad line is
//! reported with its line number and reason and never stops the good ones.
//! Reading and checking the lines is `recado_core::contact_csv`; this is the
//! store side.

use super::service::Contacts;
use crate::{AppError, AppResult};
use recado_core::contact_csv::{self, read_import, CheckedRow, CsvError, ImportLine};
use serde::Serialize;

pub use recado_core::contact_csv::Preview;

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
    let lines = read_import(text, contacts.default_country)?;
    let mut report = ImportReport::default();
    for ImportLine { line, row } in lines {
        let outcome = match row {
            Ok(row) => import_row(contacts, row).await,
            Err(message) => Err(message),
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

/// Ok(true) when created, Ok(false) when an existing contact was updated.
async fn import_row(contacts: &Contacts<'_>, row: CheckedRow) -> Result<bool, String> {
    let existing = contacts
        .find_match(row.email.as_deref(), &row.phones)
        .await
        .map_err(|e| e.message)?;
    match existing {
        Some(contact) => contacts
            .update(contact, row.changes)
            .await
            .map(|_| false)
            .map_err(|e| e.message),
        None => contacts.create(row.changes).await.map(|_| true).map_err(|e| e.message),
    }
}

/// Reads the header and the first `n` data lines (422 `invalid_csv` when
/// the header cannot be read).
pub fn preview(text: &str, n: usize) -> AppResult<Preview> {
    Ok(contact_csv::preview(text, n)?)
}

/// The CSV with its columns renamed to the properties they map to, in the
/// file's order: `mapping[i]` names column `i`'s property, `None` leaves the
/// column out. Each record is written on one line, so the import report's
/// line numbers are the file's as long as no value spans lines; a file
/// that cannot be read is refused whole (422 `invalid_csv`).
pub fn remap(text: &str, mapping: &[Option<String>]) -> AppResult<String> {
    contact_csv::remap(text, mapping).map_err(|e| match e {
        CsvError::Refused(refusal) => AppError::from(refusal),
        CsvError::Internal(cause) => AppError::internal(cause),
    })
}
