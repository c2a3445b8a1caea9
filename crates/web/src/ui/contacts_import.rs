//! The CSV import page: paste or choose a file, see its first lines, map
//! each column to a property (or leave it out), import, and read the
//! report line by line (API.md "Contacts": created, updated, failed and
//! each failed line's reason).

use super::page::{html, Chrome, Opt, UiResult};
use super::session::{Posted, WebUser};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use recado_app::contacts::import::{import_csv, preview, remap, ImportReport};
use recado_app::contacts::service::contacts_for;
use recado_app::AppState;
use recado_core::properties::{is_valid_name, WELL_KNOWN};
use serde::Deserialize;

/// Lines shown in the preview.
const PREVIEW_LINES: usize = 5;

pub struct MappedColumn {
    pub index: usize,
    pub header: String,
    pub options: Vec<Opt>,
    /// The property name typed for a custom property.
    pub custom: String,
}

#[derive(Template)]
#[template(path = "contacts_import.html")]
struct ImportPage {
    chrome: Chrome,
    text: String,
    error: Option<String>,
    columns: Vec<MappedColumn>,
    rows: Vec<Vec<String>>,
    lines: usize,
    report: Option<ImportReport>,
}

fn empty(chrome: Chrome) -> ImportPage {
    ImportPage {
        chrome,
        text: String::new(),
        error: None,
        columns: Vec::new(),
        rows: Vec::new(),
        lines: 0,
        report: None,
    }
}

/// `GET /contacts/import`.
pub async fn page(State(state): State<AppState>, user: WebUser) -> UiResult<Response> {
    html(empty(Chrome::build(&state, &user, "Import contacts", "").await?))
}

/// What a header suggests: itself when it is a property name, a
/// well-known property it spells loosely (`Celular` → none, `E-mail` →
/// `email`), else left out.
fn suggested(header: &str) -> String {
    // Letters outside ASCII would be folded away into another name.
    if header.chars().any(|c| c.is_alphanumeric() && !c.is_ascii()) {
        return String::new();
    }
    let folded: String = header
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .trim_matches('_')
        .to_string();
    let squeezed = folded.replace('_', "");
    if let Some(known) = WELL_KNOWN.iter().find(|k| k.replace('_', "") == squeezed) {
        return known.to_string();
    }
    if is_valid_name(&folded) {
        return folded;
    }
    String::new()
}

fn mapping_columns(headers: &[String], chosen: Option<&[(String, String)]>) -> Vec<MappedColumn> {
    headers
        .iter()
        .enumerate()
        .map(|(index, header)| {
            let picked = chosen
                .and_then(|f| f.iter().find(|(k, _)| *k == format!("map_{index}")))
                .map(|(_, v)| v.clone());
            let custom = chosen
                .and_then(|f| f.iter().find(|(k, _)| *k == format!("custom_{index}")))
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let suggestion = suggested(header);
            let target = picked.unwrap_or_else(|| {
                if suggestion.is_empty() {
                    String::new()
                } else if WELL_KNOWN.contains(&suggestion.as_str()) {
                    suggestion.clone()
                } else {
                    "custom".into()
                }
            });
            let custom = if custom.is_empty() && target == "custom" {
                suggestion
            } else {
                custom
            };
            let mut options = vec![Opt {
                value: String::new(),
                label: "leave out".into(),
                selected: target.is_empty(),
            }];
            options.extend(WELL_KNOWN.iter().map(|k| Opt {
                value: k.to_string(),
                label: k.to_string(),
                selected: target == *k,
            }));
            options.push(Opt {
                value: "custom".into(),
                label: "another property…".into(),
                selected: target == "custom",
            });
            MappedColumn {
                index,
                header: header.clone(),
                options,
                custom,
            }
        })
        .collect()
}

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    step: String,
}

/// `POST /contacts/import`: `step=preview` shows the first lines and the
/// mapping; `step=import` imports with the mapping and shows the report.
pub async fn post(State(state): State<AppState>, posted: Posted<ImportForm>) -> UiResult<Response> {
    let text = posted.form.text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let mut page = empty(Chrome::build(&state, &posted.user, "Import contacts", "").await?);
    let p = match preview(&text, PREVIEW_LINES) {
        Ok(p) => p,
        Err(e) => {
            page.text = text;
            page.error = Some(e.message);
            return html(page);
        }
    };
    if posted.form.step == "import" {
        let mapping: Vec<Option<String>> = (0..p.headers.len())
            .map(|i| {
                let field = |k: String| {
                    posted
                        .fields
                        .iter()
                        .find(|(f, _)| *f == k)
                        .map(|(_, v)| v.trim().to_string())
                };
                match field(format!("map_{i}")).as_deref() {
                    None | Some("") => None,
                    Some("custom") => field(format!("custom_{i}")).filter(|c| !c.is_empty()),
                    Some(known) => Some(known.to_string()),
                }
            })
            .collect();
        let ws = state.store.workspace(posted.user.workspace_id()).await?;
        let outcome = match remap(&text, &mapping) {
            Ok(csv) => import_csv(&contacts_for(&state, &ws), &csv).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(report) => {
                page.report = Some(report);
                return html(page);
            }
            Err(e) if !e.is_internal() => page.error = Some(e.message),
            Err(e) => return Err(e.into()),
        }
        page.columns = mapping_columns(&p.headers, Some(&posted.fields));
    } else {
        page.columns = mapping_columns(&p.headers, None);
    }
    page.rows = p.rows;
    page.lines = p.lines;
    page.text = text;
    html(page)
}

#[cfg(test)]
mod tests {
    use super::suggested;

    #[test]
    fn headers_suggest_the_property_they_spell() {
        assert_eq!(suggested("E-mail"), "email");
        assert_eq!(suggested("First Name"), "firstname");
        assert_eq!(suggested("WhatsApp Phone"), "whatsapp_phone");
        assert_eq!(suggested("Cidade"), "cidade");
        assert_eq!(suggested("Ünïcode"), "");
    }
}
