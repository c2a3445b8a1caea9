//! The list envelope of the contract: `{"items": [...], "next_cursor": ...}`.

use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ListBody<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// Wraps one page of rows. A full page gets a cursor (the last row's id, as
/// ids sort by creation); a short page is the end.
pub fn page<R, T>(rows: Vec<R>, limit: i64, id_of: impl Fn(&R) -> &str, view: impl FnMut(R) -> T) -> ListBody<T> {
    let next_cursor = if rows.len() as i64 >= limit {
        rows.last().map(|r| recado_store::encode_cursor(id_of(r)))
    } else {
        None
    };
    ListBody {
        items: rows.into_iter().map(view).collect(),
        next_cursor,
    }
}
