//! Settings → Keywords: the built-in consent keywords (read-only), the
//! workspace's own (added and removed here), and the confirmation replies:
//! the built-in text per language and the workspace's own texts, which
//! replace them in every language.

use super::{admin_form, admins_only, Admin, Notice, SettingsNav};
use crate::ui::page::{html, Chrome, UiResult};
use crate::ui::session::{urlencode, Posted};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::workspaces::{update_settings, SettingsChange};
use recado_app::AppState;
use recado_core::keywords::{builtin_keywords, default_confirmation, KeywordKind, CONFIRMATION_LANGUAGES};
use serde::Deserialize;

pub struct KeywordRow {
    pub word: String,
    pub kind: &'static str,
    pub language: String,
}

/// A language's confirmation replies: the built-in texts and the
/// workspace's own, if it set them.
pub struct Confirmation {
    pub language: String,
    pub opt_in: &'static str,
    pub opt_out: &'static str,
    pub own_opt_in: String,
    pub own_opt_out: String,
}

fn kind_label(kind: KeywordKind) -> &'static str {
    match kind {
        KeywordKind::OptIn => "opt-in",
        KeywordKind::OptOut => "opt-out",
    }
}

#[derive(Template)]
#[template(path = "settings_keywords.html")]
struct KeywordsPage {
    chrome: Chrome,
    nav: SettingsNav,
    notice: Notice,
    builtin: Vec<KeywordRow>,
    custom: Vec<KeywordRow>,
    confirmations: Vec<Confirmation>,
    opt_in_reply: String,
    opt_out_reply: String,
}

#[derive(Deserialize, Default)]
pub struct KeywordsQuery {
    error: Option<String>,
    done: Option<String>,
}

fn message(code: &str) -> String {
    match code {
        "added" => "Keyword added.".into(),
        "removed" => "Keyword removed.".into(),
        "replies" => "Confirmation replies saved.".into(),
        "invalid_language" => "The language is two or three letters, such as pt or es.".into(),
        "invalid_keyword" => "A keyword is one word of letters and digits.".into(),
        "keyword_exists" => "This workspace already has that keyword.".into(),
        "invalid_kind" => "A keyword is opt-in or opt-out.".into(),
        "invalid_reply" => "Replies are at most 1,024 characters.".into(),
        other => format!("Not possible ({other})."),
    }
}

/// `GET /settings/keywords`.
pub async fn page(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<KeywordsQuery>,
) -> UiResult<Response> {
    let ws = user.workspace_id();
    let builtin = builtin_keywords()
        .iter()
        .map(|k| KeywordRow {
            word: k.word.to_string(),
            kind: kind_label(k.kind),
            language: k.language.to_string(),
        })
        .collect();
    let custom = state
        .store
        .custom_keywords(ws)
        .await?
        .into_iter()
        .map(|k| KeywordRow {
            word: k.word,
            kind: kind_label(k.kind),
            language: k.language.unwrap_or_default(),
        })
        .collect();
    let own = state.store.language_replies(ws).await?;
    let mut languages: Vec<String> = CONFIRMATION_LANGUAGES.iter().map(|l| l.to_string()).collect();
    for (_, language, _) in &own {
        if !languages.contains(language) {
            languages.push(language.clone());
        }
    }
    let own_text = |kind: KeywordKind, language: &str| {
        own.iter()
            .find(|(k, l, _)| k == kind.as_str() && l == language)
            .map(|(_, _, t)| t.clone())
            .unwrap_or_default()
    };
    let confirmations = languages
        .into_iter()
        .map(|lang| Confirmation {
            opt_in: default_confirmation(KeywordKind::OptIn, Some(&lang)),
            opt_out: default_confirmation(KeywordKind::OptOut, Some(&lang)),
            own_opt_in: own_text(KeywordKind::OptIn, &lang),
            own_opt_out: own_text(KeywordKind::OptOut, &lang),
            language: lang,
        })
        .collect();
    let (opt_in, opt_out) = state.store.keyword_replies(ws).await?;
    let notice = match (q.error, q.done) {
        (Some(code), _) => Some((true, message(&code))),
        (None, Some(done)) => Some((false, message(&done))),
        _ => None,
    };
    html(KeywordsPage {
        chrome: Chrome::build(&state, &user, "Keywords", "").await?,
        nav: SettingsNav::new("keywords"),
        notice,
        builtin,
        custom,
        confirmations,
        opt_in_reply: opt_in.unwrap_or_default(),
        opt_out_reply: opt_out.unwrap_or_default(),
    })
}

fn back(query: &str) -> Response {
    Redirect::to(&format!("/settings/keywords?{query}")).into_response()
}

#[derive(Deserialize)]
pub struct KeywordForm {
    #[serde(default)]
    word: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    language: String,
    /// Set by the replies form instead of a keyword.
    #[serde(default)]
    opt_in_reply: Option<String>,
    #[serde(default)]
    opt_out_reply: Option<String>,
}

/// `POST /settings/keywords`: adds a keyword, or saves the replies.
pub async fn add(State(state): State<AppState>, posted: Posted<KeywordForm>) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    let ws = posted.user.workspace_id();
    let f = posted.form;
    if f.opt_in_reply.is_some() || f.opt_out_reply.is_some() {
        let change = SettingsChange {
            opt_in_reply: Some(f.opt_in_reply),
            opt_out_reply: Some(f.opt_out_reply),
            ..SettingsChange::default()
        };
        return match update_settings(&state.store, ws, change).await {
            Ok(_) => Ok(back("done=replies")),
            Err(e) if !e.is_internal() => Ok(back(&format!("error={}", e.code))),
            Err(e) => Err(e.into()),
        };
    }
    let Ok(kind) = f.kind.parse::<KeywordKind>() else {
        return Ok(back("error=invalid_kind"));
    };
    let language = Some(f.language.trim().to_string()).filter(|l| !l.is_empty());
    match recado_app::consent::keywords::add(&state, ws, &f.word, kind, language).await {
        Ok(_) => Ok(back("done=added")),
        Err(e) if !e.is_internal() => Ok(back(&format!("error={}", urlencode(e.code)))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    word: String,
}

/// `POST /settings/keywords/remove`.
pub async fn remove(State(state): State<AppState>, posted: Posted<RemoveForm>) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    recado_app::consent::keywords::remove(&state, posted.user.workspace_id(), &posted.form.word).await?;
    Ok(back("done=removed"))
}

#[derive(Deserialize)]
pub struct LanguageRepliesForm {
    #[serde(default)]
    language: String,
    #[serde(default)]
    opt_in_reply: String,
    #[serde(default)]
    opt_out_reply: String,
}

/// `POST /settings/keywords/replies`: the workspace's replies in one
/// language (empty fields fall back to the other texts).
pub async fn language_replies(
    State(state): State<AppState>,
    posted: Posted<LanguageRepliesForm>,
) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    let f = &posted.form;
    let outcome = recado_app::consent::keywords::set_language_replies(
        &state,
        posted.user.workspace_id(),
        &f.language,
        Some(f.opt_in_reply.as_str()),
        Some(f.opt_out_reply.as_str()),
    )
    .await;
    match outcome {
        Ok(()) => Ok(back("done=replies#replies")),
        Err(e) if !e.is_internal() => Ok(back(&format!("error={}#replies", e.code))),
        Err(e) => Err(e.into()),
    }
}
