//! Request extractors that answer bad input with the error contract instead of
//! axum's plain-text rejections.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

/// A JSON body: 415 without a JSON content type, 413 when too large, 400 when
/// it does not parse, 422 (with the field) when a value has the wrong type.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        require_json_content_type(req.headers())?;
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// 415 unless the request says its body is JSON (`application/json` or a
/// `+json` type, parameters allowed), also for handlers that read the raw
/// body themselves.
pub fn require_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        });
    if is_json {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ))
    }
}

/// The raw body, with the size limit mapped to the contract.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            )
        } else {
            ApiError::bad_request("the request body could not be read")
        }
    })
}

/// Every request body of the API is a JSON object (a struct would otherwise
/// take an array positionally), in UTF-8. A number with a zero fraction
/// (`5.0`) is the integer it equals, as JSON Schema has it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::bad_request("the body must be JSON in UTF-8"));
    }
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            "the body must be a JSON object",
        ));
    }
    if let Some(path) = recado_core::text::json_nul_path(&value) {
        return Err(nul_refused(path.trim_start_matches('.')));
    }
    integral_numbers(&mut value);
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // A missing or unknown member is reported at its parent's path.
        let message = inner.to_string();
        let member = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|p| message.strip_prefix(p))
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), member) {
            (".", None) => None,
            (".", Some(m)) => Some(m.to_string()),
            (p, Some(m)) if p.rsplit('.').next() != Some(m) => Some(format!("{p}.{m}")),
            _ => Some(path),
        };
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_value",
            format!("invalid value: {inner}"),
        );
        if let Some(f) = field {
            e = e.with_field(f);
        }
        e
    })
}

/// Turns every number with a zero fraction that an integer can hold exactly
/// (`5.0`, `-2e3`) into that integer, so integer members take it.
fn integral_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    /// 2^53: every integer up to it is exact as a float.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) => {
            if let Some(f) = n
                .as_f64()
                .filter(|f| n.is_f64() && f.fract() == 0.0 && f.abs() <= EXACT)
            {
                *n = serde_json::Number::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(members) => members.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// The refusal of a NUL character in `field` (empty: the value itself).
pub fn nul_refused(field: &str) -> ApiError {
    let e = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
        "text may not contain the NUL character (U+0000)",
    );
    if field.is_empty() {
        e
    } else {
        e.with_field(field)
    }
}

/// 422 for query or form fields that hold a NUL character.
pub fn refuse_nul_in_fields<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<(), ApiError> {
    for (name, value) in fields {
        if recado_core::text::has_nul(name) || recado_core::text::has_nul(value) {
            return Err(nul_refused(&recado_core::text::without_nul(name)));
        }
    }
    Ok(())
}

/// Query parameters with contract errors (422 and the parameter's name).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(ApiQuery).map_err(|err| {
            let path = err.path().to_string();
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_query",
                format!("invalid query parameter: {}", err.into_inner()),
            )
            .with_field(path)
        })
    }
}

/// `?limit=&cursor=` of every list.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// Items per page: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl Page {
    pub fn limit(&self) -> i64 {
        recado_store::clamp_limit(self.limit)
    }
}

/// Middleware for every route: a `%00` in the path names nothing (404); in
/// the query it is a bad parameter (422 `invalid_query` naming it). Handlers
/// then never see a NUL character from the URL.
pub async fn refuse_nul_in_uri(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let uri = req.uri();
    if contains_encoded_nul(uri.path()) {
        return ApiError::not_found("route").into_response();
    }
    if let Some(query) = uri.query().filter(|q| contains_encoded_nul(q)) {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        if let Err(e) = refuse_nul_in_fields(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            return ApiError {
                code: "invalid_query",
                ..e
            }
            .into_response();
        }
    }
    next.run(req).await
}

fn contains_encoded_nul(s: &str) -> bool {
    s.as_bytes().windows(3).any(|w| w == b"%00")
}

/// An RFC 3339 time given in a request (a query parameter or a body
/// field), as milliseconds; 422 `invalid_time` naming the field otherwise.
pub fn time_param(value: Option<&str>, field: &'static str) -> Result<Option<i64>, recado_app::AppError> {
    value
        .map(|v| {
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.timestamp_millis())
                .map_err(|_| {
                    recado_app::AppError::invalid("invalid_time", field, format!("`{v}` is not an RFC 3339 time"))
                })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Input {
        count: u32,
        #[serde(default)]
        ratio: Option<f64>,
    }

    #[test]
    fn a_number_with_a_zero_fraction_is_an_integer() {
        let input: Input = parse_json(br#"{"count": 109.0, "ratio": 1.0}"#).unwrap();
        assert_eq!(input.count, 109);
        assert_eq!(input.ratio, Some(1.0));
        let e = parse_json::<Input>(br#"{"count": 1.5}"#).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code, e.field.as_deref()),
            (422, "invalid_value", Some("count"))
        );
    }

    #[test]
    fn bodies_that_are_not_json_objects_are_refused_with_the_contract_codes() {
        let e = parse_json::<Input>(b"{").unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (400, "bad_request"));
        let e = parse_json::<Input>(b"[1]").unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (422, "invalid_value"));
        let e = parse_json::<Input>(br#"{"count": 1} {}"#).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (400, "bad_request"));
        let e = parse_json::<Input>(br#"{"count": 1, "extra": true}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("invalid_value", Some("extra")));
        let e = parse_json::<Input>(br#"{}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("invalid_value", Some("count")));
        let e = parse_json::<Input>(b"{\"count\": 1, \"ratio\": \"\\u0000\"}").unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("invalid_value", Some("ratio")));
    }
}
