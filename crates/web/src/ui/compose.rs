//! Form posts of the conversation page: a free-form reply, a template, and
//! ticket actions. Each answers with a redirect back to the conversation
//! (post/redirect/get), carrying the refusal code when the send was refused.

use super::page::UiResult;
use super::session::{urlencode, Posted};
use crate::error::ApiError;
use crate::inbox::api::content_of;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::inbox::service::{self, TicketPatch};
use recado_app::whatsapp::send::TemplateInput;
use recado_app::AppState;
use recado_channels::whatsapp::TemplateParams;
use serde::Deserialize;
use std::collections::BTreeMap;

fn back(thread: &str, query: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/inbox/threads/{thread}?{query}#{anchor}")).into_response()
}

fn refused(thread: &str, code: &str) -> Response {
    back(thread, &format!("error={}", urlencode(code)), "composer")
}

#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    text: String,
}

pub async fn reply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<ReplyForm>,
) -> UiResult<Response> {
    let thread = service::load_thread(&state, posted.user.workspace_id(), &id).await?;
    let outcome = match content_of(Some(posted.form.text), None) {
        Ok(content) => service::reply(&state, &thread, content)
            .await
            .map(|_| ())
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(back(&thread.id, "sent=1", "composer")),
        Err(e) if !e.is_internal() => Ok(refused(&thread.id, e.code)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    template: String,
}

/// Reads the picker's fields: `{key}.header.N`, `{key}.body.N` and
/// `{key}.button.I.N` for the chosen template `key` (`name|language`).
pub fn template_input(key: &str, fields: &[(String, String)]) -> Option<TemplateInput> {
    let (name, language) = key.split_once('|')?;
    let prefix = format!("{key}.");
    let mut header = BTreeMap::new();
    let mut body = BTreeMap::new();
    let mut buttons: BTreeMap<usize, BTreeMap<usize, String>> = BTreeMap::new();
    for (k, v) in fields {
        let Some(rest) = k.strip_prefix(&prefix) else { continue };
        let parts: Vec<&str> = rest.split('.').collect();
        let value = v.trim().to_string();
        match parts.as_slice() {
            ["header", n] => {
                header.insert(n.parse::<usize>().ok()?, value);
            }
            ["body", n] => {
                body.insert(n.parse::<usize>().ok()?, value);
            }
            ["button", i, n] => {
                buttons
                    .entry(i.parse::<usize>().ok()?)
                    .or_default()
                    .insert(n.parse::<usize>().ok()?, value);
            }
            _ => {}
        }
    }
    Some(TemplateInput {
        name: name.to_string(),
        language: language.to_string(),
        parameters: TemplateParams {
            header: header.into_values().collect(),
            body: body.into_values().collect(),
            buttons: buttons
                .into_iter()
                .map(|(i, ps)| (i, ps.into_values().collect()))
                .collect(),
        },
    })
}

pub async fn send_template(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<TemplateForm>,
) -> UiResult<Response> {
    let thread = service::load_thread(&state, posted.user.workspace_id(), &id).await?;
    let Some(input) = template_input(&posted.form.template, &posted.fields) else {
        return Ok(refused(&thread.id, "template_not_approved"));
    };
    match content_of(None, Some(input)) {
        Ok(content) => match service::reply(&state, &thread, content).await {
            Ok(_) => Ok(back(&thread.id, "sent=1", "composer")),
            Err(e) if !e.is_internal() => Ok(refused(&thread.id, e.code)),
            Err(e) => Err(e.into()),
        },
        Err(e) => Ok(refused(&thread.id, e.code)),
    }
}

#[derive(Deserialize)]
pub struct TicketForm {
    status: Option<String>,
    /// Empty unassigns; `me` is the user posting.
    owner_id: Option<String>,
    priority: Option<String>,
}

pub async fn ticket(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<TicketForm>,
) -> UiResult<Response> {
    let ws = posted.user.workspace_id().to_string();
    let thread = service::load_thread(&state, &ws, &id).await?;
    let f = posted.form;
    let owner_id = f.owner_id.map(|o| match o.trim() {
        "" => None,
        "me" => Some(posted.user.user_id().to_string()),
        other => Some(other.to_string()),
    });
    let patch = TicketPatch {
        status: f.status.filter(|s| !s.is_empty()),
        owner_id,
        priority: f.priority.filter(|p| !p.is_empty()),
    };
    match service::change_ticket(&state, &ws, &thread.id, patch).await {
        Ok(_) => Ok(back(&thread.id, "changed=1", "ticket")),
        Err(e) if !e.is_internal() => Ok(back(&thread.id, &format!("error={}", e.code), "ticket")),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picker_fields_of_the_chosen_template_become_its_parameters_in_order() {
        let fields: Vec<(String, String)> = [
            ("template", "order_update|pt_BR"),
            ("order_update|pt_BR.body.2", "4521"),
            ("order_update|pt_BR.body.1", " Ana "),
            ("promo|en_US.body.1", "other template"),
            ("order_update|pt_BR.button.0.1", "track/4521"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let input = template_input("order_update|pt_BR", &fields).unwrap();
        assert_eq!(
            (input.name.as_str(), input.language.as_str()),
            ("order_update", "pt_BR")
        );
        assert_eq!(input.parameters.body, ["Ana", "4521"]);
        assert_eq!(input.parameters.buttons[&0], ["track/4521"]);
        assert!(template_input("no-separator", &fields).is_none());
    }
}
