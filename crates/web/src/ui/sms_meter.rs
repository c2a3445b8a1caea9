//! The SMS composer's meter: as the agent types, what the reply will cost
//! once filled for this contact (tokens, unsubscribe link) under the
//! thread channel's policy: encoding, parts, characters left, and which
//! characters forced UCS-2 or were replaced.

use super::page::UiResult;
use super::session::Posted;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Json, Response};
use recado_app::contacts::service::contacts_for;
use recado_app::inbox::service;
use recado_app::sms::compose::Utm;
use recado_app::sms::send::composed_sample;
use recado_app::AppState;
use recado_sms::{analyze, Analysis, AnalyzeOptions, Encoding};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct MeterForm {
    #[serde(default)]
    text: String,
}

#[derive(Serialize, Debug, PartialEq)]
pub struct Meter {
    pub encoding: String,
    pub segments: u32,
    pub remaining_in_segment: u32,
    pub max_segments: u32,
    pub too_long: bool,
    /// One line for the composer.
    pub summary: String,
}

/// `POST /inbox/threads/{id}/sms-meter` (CSRF-checked like every form post).
pub async fn meter(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<MeterForm>,
) -> UiResult<Response> {
    let ws_id = posted.user.workspace_id().to_string();
    let thread = service::load_thread(&state, &ws_id, &id).await?;
    let channel = recado_app::channels::registry::load_sms(&state, &ws_id, &thread.channel_id).await?;
    let ws = state.store.workspace(&ws_id).await?;
    let contact = contacts_for(&state, &ws).get(&thread.contact_id).await?;
    let text = composed_sample(
        &state,
        &ws.id,
        Some(&contact),
        &posted.form.text,
        &Utm::default(),
        false,
    );
    Ok(Json(measure(&text, channel.sms.policy, channel.sms.max_segments)).into_response())
}

/// `POST /broadcasts/sms-meter`: the broadcast composer's meter, for the
/// workspace's SMS channel and a contact whose tokens are empty (each
/// recipient's own values change the count; the estimate counts them all).
pub async fn broadcast_meter(State(state): State<AppState>, posted: Posted<MeterForm>) -> UiResult<Response> {
    let ws = state.store.workspace(posted.user.workspace_id()).await?;
    let channel = recado_app::messages::request::pick_sms_channel(&state, &ws, None).await?;
    let text = composed_sample(&state, &ws.id, None, &posted.form.text, &Utm::default(), false);
    Ok(Json(measure(&text, channel.sms.policy, channel.sms.max_segments)).into_response())
}

pub fn measure(text: &str, policy: recado_sms::Policy, max_segments: u32) -> Meter {
    let options = AnalyzeOptions {
        policy,
        national_language: None,
        max_segments,
    };
    match analyze(text, &options) {
        Ok(a) => describe(&a, max_segments),
        Err(_) => Meter {
            encoding: "GSM-7".into(),
            segments: 0,
            remaining_in_segment: 160,
            max_segments,
            too_long: false,
            summary: String::new(),
        },
    }
}

/// The meter of an analysed text, in words.
pub fn describe(a: &Analysis, max_segments: u32) -> Meter {
    let encoding = match a.encoding {
        Encoding::Gsm7 => "GSM-7",
        Encoding::Ucs2 => "UCS-2",
    };
    let unit = if a.encoding == Encoding::Gsm7 {
        "characters"
    } else {
        "UCS-2 characters"
    };
    let mut summary = if a.exceeds_max_segments {
        format!("Too long: {} parts, at most {max_segments} are allowed", a.segments)
    } else {
        format!(
            "{encoding} · {} part{} · {} {unit} left",
            a.segments,
            if a.segments == 1 { "" } else { "s" },
            a.remaining_in_segment
        )
    };
    if !a.ucs2_chars.is_empty() {
        summary.push_str(&format!(" · UCS-2 because of {}", a.ucs2_chars.join(" ")));
    }
    if !a.replaced.is_empty() {
        let pairs: Vec<String> = a.replaced.iter().map(|r| format!("{}→{}", r.from, r.to)).collect();
        summary.push_str(&format!(" · replaced {}", pairs.join(" ")));
    }
    Meter {
        encoding: encoding.into(),
        segments: a.segments,
        remaining_in_segment: a.remaining_in_segment,
        max_segments,
        too_long: a.exceeds_max_segments,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recado_sms::Policy;

    fn meter_of(text: &str, policy: Policy) -> Meter {
        let options = AnalyzeOptions {
            policy,
            national_language: None,
            max_segments: 5,
        };
        describe(&analyze(text, &options).unwrap(), 5)
    }

    #[test]
    fn the_meter_shows_encoding_parts_and_characters_left() {
        let m = meter_of("Hello", Policy::Transliterate);
        assert_eq!(
            (m.encoding.as_str(), m.segments, m.remaining_in_segment),
            ("GSM-7", 1, 155)
        );
        assert_eq!(m.summary, "GSM-7 · 1 part · 155 characters left");
    }

    #[test]
    fn the_meter_names_the_characters_that_forced_ucs2_or_were_replaced() {
        let m = meter_of("Olá 😀", Policy::Auto);
        assert_eq!(m.encoding, "UCS-2");
        assert!(m.summary.contains("UCS-2 because of"), "{}", m.summary);
        let m = meter_of("Olá", Policy::Transliterate);
        assert_eq!(m.encoding, "GSM-7");
        assert!(m.summary.contains("replaced á→a"), "{}", m.summary);
    }

    #[test]
    fn the_meter_says_when_a_text_needs_more_parts_than_allowed() {
        let m = meter_of(&"x".repeat(153 * 5 + 1), Policy::Transliterate);
        assert!(m.too_long);
        assert_eq!(m.summary, "Too long: 6 parts, at most 5 are allowed");
    }
}
