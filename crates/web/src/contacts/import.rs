//! `POST /api/v1/contacts/import`: a `text/csv` body in UTF-8, imported by
//! the app's CSV importer, which reports each bad line.

use super::routes::workspace_of;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::read_body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::Json;
use recado_app::contacts::import::ImportReport;
use recado_app::contacts::service::contacts_for;
use recado_app::AppState;

#[utoipa::path(post, path = "/api/v1/contacts/import", request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "what was created, updated and refused, line by line", body = ImportReport),
        (status = 422, description = "`invalid_csv`: not UTF-8, or a header that names no properties", body = crate::error::ErrorBody)))]
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

    let report = recado_app::contacts::import::import_csv(&contacts, text).await?;
    Ok(Json(report))
}
