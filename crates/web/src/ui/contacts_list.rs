//! The contacts list: quick search, or filters by property, subscription
//! and segment; columns each user chooses (kept in a cookie); paging by id
//! so page 2,000 costs what page 1 does; and bulk actions on the contacts
//! ticked or on all that match — a subscription change (legal basis and
//! explanation required, SPEC §3), a CSV export, an erasure (admins, after
//! a confirmation page).

use super::page::{html, local_time, timezone, Chrome, Opt, UiError, UiResult};
use super::session::{cookie, set_cookie, urlencode, Posted, WebUser};
use super::settings::admins_only;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::consent::service::{change_many, request_of, BULK_LIMIT};
use recado_app::contacts::listing::{self, ListFilter, PropertyFilter};
use recado_app::contacts::service::contacts_for;
use recado_app::AppState;
use recado_core::consent::ConsentSource;
use recado_core::properties::WELL_KNOWN;
use recado_store::contacts::Contact;
use std::collections::{BTreeSet, HashMap};

/// Contacts per page.
const PAGE_SIZE: u32 = 50;
/// The cookie that keeps a user's chosen columns.
const COLUMNS_COOKIE: &str = "recado_contact_columns";
/// Columns shown before a user chooses.
const DEFAULT_COLUMNS: [&str; 4] = ["phones", "email", "sub:sms", "sub:whatsapp"];
const CHANNELS: [&str; 3] = ["sms", "whatsapp", "voice"];

/// The list's query string: filters, columns, paging.
#[derive(Clone, Debug, Default)]
pub struct ListParams {
    pub filter: ListFilter,
    pub columns: Option<Vec<String>>,
    pub before: Option<String>,
}

fn params_of(pairs: &[(String, String)]) -> ListParams {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let property = get("property").map(|name| PropertyFilter {
        name,
        op: get("op").unwrap_or_else(|| "eq".into()),
        value: get("value").unwrap_or_default(),
    });
    let subscription = match (get("sub_channel"), get("sub_status")) {
        (Some(c), Some(s)) => Some((c, s)),
        _ => None,
    };
    let columns: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "col")
        .map(|(_, v)| v.clone())
        .collect();
    ListParams {
        filter: ListFilter {
            text: get("q"),
            property,
            subscription,
            segment_id: get("segment"),
        },
        columns: (pairs.iter().any(|(k, _)| k == "cols")).then_some(columns),
        before: get("before"),
    }
}

/// The filters as a query string (for links and hidden fields).
fn filter_query(f: &ListFilter) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(t) = &f.text {
        q.push(("q", t.clone()));
    }
    if let Some(p) = &f.property {
        q.push(("property", p.name.clone()));
        q.push(("op", p.op.clone()));
        q.push(("value", p.value.clone()));
    }
    if let Some((c, s)) = &f.subscription {
        q.push(("sub_channel", c.clone()));
        q.push(("sub_status", s.clone()));
    }
    if let Some(s) = &f.segment_id {
        q.push(("segment", s.clone()));
    }
    q
}

fn encode(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub struct Column {
    pub key: String,
    pub label: String,
}

fn column_label(key: &str) -> String {
    match key {
        "phones" => "Phone numbers".into(),
        "created" => "Created".into(),
        k if k.starts_with("sub:") => format!("{} consent", &k[4..]),
        k => k.replace('_', " "),
    }
}

pub struct Cell {
    pub text: String,
    /// A subscription status, drawn as a pill.
    pub status: Option<String>,
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub cells: Vec<Cell>,
}

pub struct ColumnChoice {
    pub key: String,
    pub label: String,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    chrome: Chrome,
    q: String,
    property: String,
    value: String,
    ops: Vec<Opt>,
    sub_channel: Vec<Opt>,
    sub_status: Vec<Opt>,
    segments: Vec<Opt>,
    filtered: bool,
    matching: Option<u64>,
    /// Where the count of matches is fetched from.
    count_url: String,
    columns: Vec<Column>,
    choices: Vec<ColumnChoice>,
    rows: Vec<Row>,
    next: Option<String>,
    filter_fields: Vec<(&'static str, String)>,
    legal_bases: Vec<(&'static str, &'static str)>,
    notice: Option<(bool, String)>,
    error: Option<String>,
}

fn options(values: &[&str], chosen: &str, blank: &str) -> Vec<Opt> {
    std::iter::once(Opt {
        value: String::new(),
        label: blank.to_string(),
        selected: chosen.is_empty(),
    })
    .chain(values.iter().map(|v| Opt {
        value: v.to_string(),
        label: v.replace('_', " "),
        selected: *v == chosen,
    }))
    .collect()
}

async fn subscription_map(
    state: &AppState,
    workspace_id: &str,
    contacts: &[Contact],
) -> UiResult<HashMap<(String, String), String>> {
    let ids: Vec<&str> = contacts.iter().map(|c| c.id.as_str()).collect();
    Ok(state
        .store
        .subscriptions_of_contacts(workspace_id, &ids)
        .await?
        .into_iter()
        .map(|(contact, s)| ((contact, s.channel), s.status))
        .collect())
}

fn cell(key: &str, c: &Contact, subs: &HashMap<(String, String), String>, tz: &chrono_tz::Tz) -> Cell {
    let text = |t: String| Cell { text: t, status: None };
    match key {
        "phones" => text(c.phones.values().cloned().collect::<Vec<_>>().join(", ")),
        "created" => text(local_time(c.created_at, tz)),
        k if k.starts_with("sub:") => {
            let status = subs
                .get(&(c.id.to_string(), k[4..].to_string()))
                .cloned()
                .unwrap_or_else(|| "not_specified".into());
            Cell {
                text: status.replace('_', " "),
                status: Some(status),
            }
        }
        k => text(c.properties.get(k).cloned().unwrap_or_default()),
    }
}

/// `GET /contacts`.
pub async fn list(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> UiResult<Response> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let params = params_of(&pairs);
    let flash = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let notice = match (flash("error"), flash("done")) {
        (Some(e), _) => Some((true, e)),
        (None, Some(d)) => Some((false, d)),
        _ => None,
    };
    let ws = user.workspace_id().to_string();
    let tz = timezone(&state, &ws).await?;
    // Chosen columns: this request's choice (kept in the cookie), else the cookie's.
    let (columns, set_columns) = match &params.columns {
        Some(chosen) => (chosen.clone(), Some(chosen.join(","))),
        None => (
            cookie(&headers, COLUMNS_COOKIE)
                .map(|c| c.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
                .unwrap_or_else(|| DEFAULT_COLUMNS.iter().map(|s| s.to_string()).collect()),
            None,
        ),
    };
    let columns: Vec<String> = columns
        .into_iter()
        .filter(|c| {
            recado_core::properties::is_valid_name(c)
                || c == "phones"
                || c == "created"
                || c.strip_prefix("sub:").is_some_and(|ch| CHANNELS.contains(&ch))
        })
        .take(12)
        .collect();
    let (page, error) = match listing::page(&state, &ws, &params.filter, params.before.as_deref(), PAGE_SIZE).await {
        Ok(page) => (page, None),
        Err(e) if !e.is_internal() => (
            listing::ListPage {
                contacts: Vec::new(),
                next: None,
            },
            Some(e.message),
        ),
        Err(e) => return Err(e.into()),
    };
    // Counting every match visits every contact the filter could hold, which
    // a page of 50 does not: the page shows at once and the count follows
    // (fetched by the script, or on request with `count=1`).
    let counted = pairs.iter().any(|(k, v)| k == "count" && v == "1");
    let matching = if error.is_none() && counted {
        listing::count(&state, &ws, &params.filter).await?
    } else {
        None
    };
    let subs = subscription_map(&state, &ws, &page.contacts).await?;
    let rows = page
        .contacts
        .iter()
        .map(|c| Row {
            id: c.id.to_string(),
            name: super::contact_page::display_name(c),
            cells: columns.iter().map(|k| cell(k, c, &subs, &tz)).collect(),
        })
        .collect();
    // Columns to choose from: the well-known properties, those of this page's
    // contacts, the subscriptions and the creation time.
    let mut keys: BTreeSet<String> = WELL_KNOWN.iter().map(|s| s.to_string()).collect();
    keys.extend(page.contacts.iter().flat_map(|c| c.properties.keys().cloned()));
    let mut available: Vec<String> = vec!["phones".into()];
    available.extend(keys);
    available.extend(CHANNELS.iter().map(|c| format!("sub:{c}")));
    available.push("created".into());
    let choices = available
        .into_iter()
        .map(|key| ColumnChoice {
            label: column_label(&key),
            chosen: columns.contains(&key),
            key,
        })
        .collect();
    let segments = state.store.segments(&ws, None, 500).await?;
    let chosen_segment = params.filter.segment_id.clone().unwrap_or_default();
    let segment_opts = std::iter::once(Opt {
        value: String::new(),
        label: "any segment".into(),
        selected: chosen_segment.is_empty(),
    })
    .chain(segments.into_iter().map(|s| Opt {
        selected: s.id == chosen_segment,
        value: s.id,
        label: s.name,
    }))
    .collect();
    let (sub_c, sub_s) = params.filter.subscription.clone().unwrap_or_default();
    let prop = params.filter.property.clone().unwrap_or_default();
    let page = ContactsPage {
        chrome: Chrome::build(&state, &user, "Contacts", "").await?,
        q: if params.filter.is_structured() {
            String::new()
        } else {
            params.filter.text.clone().unwrap_or_default()
        },
        ops: ["eq", "neq", "contains", "is_known", "is_unknown", "gt", "lt"]
            .iter()
            .map(|o| Opt {
                value: o.to_string(),
                label: o.replace('_', " "),
                selected: *o == prop.op.as_str() || (prop.op.is_empty() && *o == "eq"),
            })
            .collect(),
        property: prop.name,
        value: prop.value,
        sub_channel: options(&CHANNELS, &sub_c, "any channel"),
        sub_status: options(&["subscribed", "unsubscribed", "not_specified"], &sub_s, "any status"),
        segments: segment_opts,
        filtered: params.filter.is_structured(),
        matching,
        count_url: format!("/contacts/count?{}", encode(&filter_query(&params.filter))),
        columns: columns
            .iter()
            .map(|k| Column {
                key: k.clone(),
                label: column_label(k),
            })
            .collect(),
        choices,
        rows,
        next: page.next,
        filter_fields: filter_query(&params.filter),
        legal_bases: super::contact_panel::LEGAL_BASES.to_vec(),
        notice,
        error,
    };
    let mut response = html(page)?;
    if let Some(value) = set_columns {
        let c = set_cookie(&state, COLUMNS_COOKIE, &value, "/contacts", 365 * 24 * 3600);
        if let Ok(v) = c.parse() {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

/// The contacts a bulk form names: the ticked ones, or all that match the
/// filters it carries.
async fn chosen_ids(state: &AppState, workspace_id: &str, fields: &[(String, String)]) -> UiResult<Vec<String>> {
    let all = fields.iter().any(|(k, v)| k == "scope" && v == "matching");
    if all {
        let params = params_of(fields);
        return Ok(listing::all_ids(state, workspace_id, &params.filter).await?);
    }
    Ok(fields
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.clone())
        .collect())
}

fn back_to_list(fields: &[(String, String)], key: &str, text: &str) -> Response {
    let params = params_of(fields);
    let mut q = filter_query(&params.filter);
    q.push((if key == "error" { "error" } else { "done" }, text.to_string()));
    Redirect::to(&format!("/contacts?{}", encode(&q))).into_response()
}

#[derive(serde::Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    explanation: String,
    #[serde(default)]
    confirm: String,
}

#[derive(Template)]
#[template(path = "contacts_erase.html")]
struct ErasePage {
    chrome: Chrome,
    count: usize,
    fields: Vec<(String, String)>,
}

/// `POST /contacts/bulk`: a subscription change, an export or an erasure of
/// the chosen contacts.
pub async fn bulk(State(state): State<AppState>, posted: Posted<BulkForm>) -> UiResult<Response> {
    let ws = state.store.workspace(posted.user.workspace_id()).await?;
    let fields = &posted.fields;
    let ids = match chosen_ids(&state, &ws.id, fields).await {
        Ok(ids) => ids,
        Err(UiError(e)) if !e.status.is_server_error() => return Ok(back_to_list(fields, "error", &e.message)),
        Err(e) => return Err(e),
    };
    if ids.is_empty() {
        return Ok(back_to_list(
            fields,
            "error",
            "Tick at least one contact, or choose all that match.",
        ));
    }
    let f = &posted.form;
    match f.action.as_str() {
        "subscription" => {
            let channel = match f.channel.parse() {
                Ok(c) => c,
                Err(_) => {
                    return Ok(back_to_list(
                        fields,
                        "error",
                        "Choose the channel whose consent changes.",
                    ))
                }
            };
            let explanation = Some(f.explanation.trim().to_string()).filter(|e| !e.is_empty());
            let request = match request_of(
                channel,
                &f.status,
                Some(&f.legal_basis),
                explanation,
                ConsentSource::Bulk,
            ) {
                Ok(r) => r,
                Err(e) => return Ok(back_to_list(fields, "error", &e.message)),
            };
            let contacts = contacts_for(&state, &ws);
            let (mut updated, mut failed) = (0u64, Vec::new());
            for chunk in ids.chunks(BULK_LIMIT) {
                match change_many(
                    &contacts,
                    &state.store,
                    chunk,
                    &request,
                    posted.user.user_id(),
                    state.clock.now_ms(),
                )
                .await
                {
                    Ok(outcome) => {
                        updated += outcome.updated;
                        failed.extend(outcome.failed);
                    }
                    Err(e) if !e.is_internal() => return Ok(back_to_list(fields, "error", &e.message)),
                    Err(e) => return Err(e.into()),
                }
            }
            let mut text = format!("Consent changed for {updated} contact(s).");
            if !failed.is_empty() {
                let mut codes: Vec<&str> = failed.iter().map(|(_, c)| *c).collect();
                codes.sort_unstable();
                codes.dedup();
                text.push_str(&format!(" {} refused ({}).", failed.len(), codes.join(", ")));
            }
            Ok(back_to_list(fields, "done", &text))
        }
        "export" => export(&state, &ws.id, ids).await,
        "erase" => {
            if !posted.user.is_admin() {
                return Ok(admins_only());
            }
            if f.confirm != "yes" {
                let kept: Vec<(String, String)> = fields
                    .iter()
                    .filter(|(k, _)| k != "csrf" && k != "action")
                    .cloned()
                    .collect();
                return html(ErasePage {
                    chrome: Chrome::build(&state, &posted.user, "Erase contacts", "").await?,
                    count: ids.len(),
                    fields: kept,
                });
            }
            let now = state.clock.now_ms();
            let mut erased = 0usize;
            for id in &ids {
                match state.store.erase_contact(&ws.id, id, now).await {
                    Ok(()) => erased += 1,
                    Err(recado_store::StoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(back_to_list(fields, "done", &format!("{erased} contact(s) erased.")))
        }
        _ => Ok(back_to_list(fields, "error", "Choose what to do with the contacts.")),
    }
}

/// The columns of an export: id, the well-known properties, the other
/// properties the contacts have, each channel's consent, creation time.
async fn export(state: &AppState, workspace_id: &str, ids: Vec<String>) -> UiResult<Response> {
    let mut contacts = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        contacts.extend(state.store.contacts_by_ids(workspace_id, &refs).await?);
    }
    let mut extra: BTreeSet<String> = contacts.iter().flat_map(|c| c.properties.keys().cloned()).collect();
    for k in WELL_KNOWN {
        extra.remove(k);
    }
    let mut subs = HashMap::new();
    for chunk in contacts.chunks(500) {
        subs.extend(subscription_map(state, workspace_id, chunk).await?);
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["id".into()];
    header.extend(WELL_KNOWN.iter().map(|s| s.to_string()));
    header.extend(extra.iter().cloned());
    header.extend(CHANNELS.iter().map(|c| format!("{c}_consent")));
    header.push("created_at".into());
    out.write_record(&header).map_err(ApiError::internal)?;
    for c in &contacts {
        let mut row: Vec<String> = vec![c.id.to_string()];
        let keys = WELL_KNOWN.iter().copied().chain(extra.iter().map(String::as_str));
        row.extend(keys.map(|k| c.properties.get(k).cloned().unwrap_or_default()));
        row.extend(CHANNELS.iter().map(|ch| {
            subs.get(&(c.id.to_string(), ch.to_string()))
                .cloned()
                .unwrap_or_else(|| "not_specified".into())
        }));
        row.push(recado_core::clock::to_rfc3339(c.created_at));
        out.write_record(&row).map_err(ApiError::internal)?;
    }
    let body = out.into_inner().map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"contacts.csv\""),
        ],
        body,
    )
        .into_response())
}

/// `GET /contacts/count?…`: how many contacts the filters match, as text
/// (the list's script fills it in after the page has shown).
pub async fn count(State(state): State<AppState>, user: WebUser, RawQuery(raw): RawQuery) -> UiResult<Response> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let params = params_of(&pairs);
    let n = listing::count(&state, user.workspace_id(), &params.filter).await?;
    Ok(n.map(|n| n.to_string()).unwrap_or_default().into_response())
}
