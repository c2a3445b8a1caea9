//! CSV import: the header row names properties; each line creates a contact or
//! updates the one it matches (by e-mail, then by phone). A bad line is
//! reported with its line number and reason and never stops the good ones.

use super::routes::{contacts_for, workspace_of};
use super::service::{check_properties, merge, phones_of};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::read_body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::Json;
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

#[utoipa::path(post, path = "/api/v1/contacts/import", request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 422, body = crate::error::ErrorBody)))]
pub async fn import_csv(State(state): State<AppState>, caller: Caller, req: Request) -> ApiResult<Json<ImportReport>> {
    let is_csv = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("text/csv")
        });
    if !is_csv {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file as text/csv",
        ));
    }
    let body = read_body(req, &state).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::invalid("invalid_csv", "body", "the CSV file must be UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let ws = workspace_of(&state, &caller).await?;
    let contacts = contacts_for(&state, &ws);

    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::invalid("invalid_csv", "header", format!("the header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.to_string())
        .collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        return Err(ApiError::invalid(
            "invalid_csv",
            "header",
            "the first line must name the properties",
        ));
    }
    if let Some(bad) = headers.iter().find(|h| !recado_core::properties::is_valid_name(h)) {
        return Err(ApiError::invalid(
            "invalid_property",
            bad.clone(),
            format!("column `{bad}` is not a property name (a-z, 0-9, _)"),
        ));
    }

    let mut report = ImportReport::default();
    for record in reader.records() {
        let (line, outcome) = match record {
            Err(e) => (
                e.position().map(|p| p.line()).unwrap_or(0),
                Err(format!("the line cannot be read: {e}")),
            ),
            Ok(record) => {
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                let row: Map<String, Value> = headers
                    .iter()
                    .zip(record.iter())
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(h, v)| (h.clone(), Value::String(v.to_string())))
                    .collect();
                (line, import_row(&contacts, row).await)
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
    Ok(Json(report))
}

/// Ok(true) when created, Ok(false) when an existing contact was updated.
async fn import_row(contacts: &super::service::Contacts<'_>, row: Map<String, Value>) -> Result<bool, String> {
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
