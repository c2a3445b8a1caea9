//! Settings → Templates: the WhatsApp templates of each account as last
//! synced (status, category, language, the body with its variables marked)
//! and a button that syncs them now.

use super::{admin_form, admins_only, Admin, Notice, SettingsNav};
use crate::ui::page::{html, local_time, timezone, Chrome, UiResult};
use crate::ui::session::Posted;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::channels::registry::decode;
use recado_app::whatsapp::templates::sync_channel;
use recado_app::AppState;
use serde::Deserialize;
use serde_json::Value;

/// A piece of a template body: text, or a variable (`{{1}}`, `{{name}}`).
pub struct Piece {
    pub text: String,
    pub variable: bool,
}

/// Splits a body into text and its `{{…}}` variables.
pub fn pieces(body: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else { break };
        if start > 0 {
            out.push(Piece {
                text: rest[..start].to_string(),
                variable: false,
            });
        }
        out.push(Piece {
            text: rest[start..start + len + 2].to_string(),
            variable: true,
        });
        rest = &rest[start + len + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece {
            text: rest.to_string(),
            variable: false,
        });
    }
    out
}

fn body_of(components: &str) -> String {
    serde_json::from_str::<Value>(components)
        .ok()
        .and_then(|c| {
            c.as_array()?
                .iter()
                .find(|x| x["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("BODY")))
                .and_then(|b| b["text"].as_str().map(str::to_string))
        })
        .unwrap_or_default()
}

pub struct TemplateRow {
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub body: Vec<Piece>,
}

pub struct AccountTemplates {
    pub channel_id: String,
    pub channel: String,
    pub last_sync: String,
    pub rows: Vec<TemplateRow>,
}

#[derive(Template)]
#[template(path = "settings_templates.html")]
struct TemplatesPage {
    chrome: Chrome,
    nav: SettingsNav,
    notice: Notice,
    accounts: Vec<AccountTemplates>,
}

#[derive(Deserialize, Default)]
pub struct TemplatesQuery {
    synced: Option<usize>,
    error: Option<String>,
}

/// `GET /settings/templates`.
pub async fn page(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<TemplatesQuery>,
) -> UiResult<Response> {
    let ws = user.workspace_id();
    let tz = timezone(&state, ws).await?;
    let all = state.store.templates(ws, None).await?;
    let accounts = state
        .store
        .channels(ws, Some("whatsapp"))
        .await?
        .into_iter()
        .map(|c| {
            let mine: Vec<_> = all.iter().filter(|t| t.channel_id == c.id).collect();
            let last = mine.iter().map(|t| t.updated_at).max();
            AccountTemplates {
                channel_id: c.id.clone(),
                channel: c.name.clone(),
                last_sync: last.map_or_else(|| "never".into(), |t| local_time(t, &tz)),
                rows: mine
                    .into_iter()
                    .map(|t| TemplateRow {
                        name: t.name.clone(),
                        language: t.language.clone(),
                        category: t.category.clone(),
                        status: t.status.as_str().to_string(),
                        body: pieces(&body_of(&t.components)),
                    })
                    .collect(),
            }
        })
        .collect();
    let notice = match (q.synced, q.error) {
        (_, Some(e)) => Some((true, format!("The sync did not finish: {e}"))),
        (Some(n), None) => Some((false, format!("Synced {n} template(s)."))),
        _ => None,
    };
    html(TemplatesPage {
        chrome: Chrome::build(&state, &user, "Templates", "").await?,
        nav: SettingsNav::new("templates"),
        notice,
        accounts,
    })
}

#[derive(Deserialize)]
pub struct SyncForm {}

/// `POST /settings/templates/sync`: syncs every WhatsApp account now.
pub async fn sync(State(state): State<AppState>, posted: Posted<SyncForm>) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    let ws = posted.user.workspace_id();
    let mut total = 0;
    for record in state.store.channels(ws, Some("whatsapp")).await? {
        let channel = decode(&state, record)?;
        match sync_channel(&state, &channel).await {
            Ok(n) => total += n,
            Err(e) if !e.is_internal() => {
                let to = format!(
                    "/settings/templates?error={}",
                    crate::ui::session::urlencode(&e.message)
                );
                return Ok(Redirect::to(&to).into_response());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Redirect::to(&format!("/settings/templates?synced={total}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::pieces;

    #[test]
    fn a_body_is_split_into_text_and_its_variables() {
        let p = pieces("Hi {{1}}, order {{order_id}} ships.");
        let shown: Vec<(&str, bool)> = p.iter().map(|x| (x.text.as_str(), x.variable)).collect();
        assert_eq!(
            shown,
            vec![
                ("Hi ", false),
                ("{{1}}", true),
                (", order ", false),
                ("{{order_id}}", true),
                (" ships.", false)
            ]
        );
    }

    #[test]
    fn an_unclosed_brace_stays_text() {
        let p = pieces("50% {{off");
        assert_eq!(p.len(), 1);
        assert!(!p[0].variable);
    }
}
