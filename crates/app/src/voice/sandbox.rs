//! The offline voice provider (`voice_sandbox`): a simulated network whose
//! phones behave by the last two digits of the number called (API.md
//! "Voice"), so every branch of a call can be tried without a carrier.
//! Its reports go through the same call machine as a real provider's.
//!
//! | ends in | the phone |
//! |---|---|
//! | `01` | is busy |
//! | `02` | rings, nobody answers |
//! | `03` | cannot be reached (failed) |
//! | `1d` | answers and presses key `d` after the opening narration |
//! | `99` | answers and hangs up during the narration |
//! | other | answers, listens, hangs up |

use super::engine::{feed, Fed};
use crate::{AppError, AppResult, AppState};
use recado_core::jobs::Task;
use recado_core::voice::call::{AnsweredBy, Command, Failure, Input, ProviderEvent};
use recado_core::voice::ivr::Reaction;
use recado_core::voice::Key;
use recado_store::calls::CallRecord;
use recado_store::jobs::NewJob;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How the phone at a number behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phone {
    Busy,
    NoAnswer,
    Unreachable,
    PressesKey(Key),
    HangsUp,
    Listens,
}

impl Phone {
    pub fn of(number: &str) -> Phone {
        let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
        match digits.as_slice() {
            [.., '0', '1'] => Phone::Busy,
            [.., '0', '2'] => Phone::NoAnswer,
            [.., '0', '3'] => Phone::Unreachable,
            [.., '9', '9'] => Phone::HangsUp,
            [.., '1', d] => Key::new(*d).map_or(Phone::Listens, Phone::PressesKey),
            _ => Phone::Listens,
        }
    }

    /// What the network reports once the phone has rung.
    fn outcome(self) -> ProviderEvent {
        match self {
            Phone::Busy => ProviderEvent::Busy,
            Phone::NoAnswer => ProviderEvent::NoAnswer,
            Phone::Unreachable => ProviderEvent::Failed {
                failure: Failure::Unreachable,
            },
            Phone::PressesKey(_) | Phone::HangsUp | Phone::Listens => ProviderEvent::Answered {
                answered_by: AnsweredBy::Human,
            },
        }
    }
}

/// The sandbox's id of an attempt.
pub fn call_id(call: &CallRecord, attempt: u32) -> String {
    format!("sandbox-{}-{attempt}", call.message_id)
}

/// The sandbox network's own record of the calls it was handed: one JSON
/// line per attempt under the hub's data directory, written before the hub
/// hears the call was taken — what a carrier would know even if the hub died
/// the next instant. Crash tests count it; reconciliation reads it.
pub fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join("sandbox").join("calls.jsonl")
}

fn log_dial(data_dir: &Path, call: &CallRecord, attempt: u32, to: &str, at_ms: i64) -> std::io::Result<()> {
    let file = log_path(data_dir);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::json!({
        "at_ms": at_ms, "channel_id": call.channel_id, "message_id": call.message_id,
        "attempt": attempt, "to": to,
    })
    .to_string();
    line.push('\n');
    // One write on a file opened for appending: lines never interleave and a
    // killed process leaves only whole lines.
    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(file)?;
    out.write_all(line.as_bytes())
}

/// Whether the network was handed attempt `attempt` of the call.
fn was_dialled(data_dir: &Path, message_id: &str, attempt: u32) -> bool {
    let Ok(text) = std::fs::read_to_string(log_path(data_dir)) else {
        return false;
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .any(|v| v["message_id"] == message_id && v["attempt"] == attempt)
}

/// Dials: the network takes the call at once and reports its outcome after
/// the channel's ring time.
pub async fn dial(state: &AppState, call: &CallRecord, attempt: u32, ring_ms: u64) -> AppResult<()> {
    let to = recipient(state, call).await?;
    log_dial(&state.settings.data_dir, call, attempt, &to, state.clock.now_ms()).map_err(AppError::internal)?;
    report_dial(state, call, attempt, ring_ms, &to).await
}

/// An attempt claimed for dialling whose outcome a crash hid: the network's
/// record says whether it took the call. Taken: its reports are made again
/// (the machine ignores what it already knows). Not taken: the attempt is
/// given back and dialled.
pub async fn reconcile(state: &AppState, call: &CallRecord, ring_ms: u64) -> AppResult<()> {
    let attempt = u32::try_from(call.attempt).unwrap_or(0);
    if was_dialled(&state.settings.data_dir, &call.message_id, attempt) {
        let to = recipient(state, call).await?;
        return report_dial(state, call, attempt, ring_ms, &to).await;
    }
    state.store.release_dial(&call.message_id, call.attempt).await?;
    let now = state.clock.now_ms();
    let job = NewJob {
        task: Task::VoiceDial {
            workspace_id: call.workspace_id.clone(),
            message_id: call.message_id.clone(),
            attempt,
        },
        workspace_id: Some(&call.workspace_id),
        run_at: now,
        max_attempts: 8,
    };
    state.store.enqueue_job(&job, now).await?;
    Ok(())
}

async fn report_dial(state: &AppState, call: &CallRecord, attempt: u32, ring_ms: u64, to: &str) -> AppResult<()> {
    let phone = Phone::of(to);
    let provider_id = call_id(call, attempt);
    let ws = &call.workspace_id;
    let accepted = Input::Provider {
        attempt,
        event: ProviderEvent::Accepted,
    };
    feed(state, ws, &call.message_id, accepted, Some(&provider_id)).await?;
    let ringing = Input::Provider {
        attempt,
        event: ProviderEvent::Ringing,
    };
    feed(state, ws, &call.message_id, ringing, None).await?;
    let outcome = Task::VoiceInput {
        workspace_id: ws.clone(),
        message_id: call.message_id.clone(),
        input: Input::Provider {
            attempt,
            event: phone.outcome(),
        },
    };
    let now = state.clock.now_ms();
    let run_at = now.saturating_add(i64::try_from(ring_ms).unwrap_or(i64::MAX));
    let job = NewJob {
        task: outcome,
        workspace_id: Some(ws),
        run_at,
        max_attempts: 8,
    };
    state.store.enqueue_job(&job, now).await?;
    Ok(())
}

/// Carries out a command: the phone hears a narration and answers it the
/// way its number says.
pub async fn act(state: &AppState, call: &CallRecord, attempt: u32, command: Command) -> AppResult<()> {
    let phone = Phone::of(&recipient(state, call).await?);
    let report = |event| Input::Provider { attempt, event };
    let input = match command {
        Command::Ivr(Reaction::PlayMenu { play }) => match phone {
            Phone::PressesKey(key) if play == 1 => Some(report(ProviderEvent::Dtmf { key, seq: 1 })),
            _ => Some(report(ProviderEvent::HungUp)),
        },
        // After a wrong key or a silence the phone stays silent: the menu
        // plays again until its plays are spent.
        Command::Ivr(Reaction::WrongKey { again: true } | Reaction::NoInput { again: true }) => {
            let (state_now, _) = super::engine::read(call)?;
            let play = state_now.menu.map_or(1, |m| m.plays);
            Some(Input::NoInput { play })
        }
        Command::Ivr(Reaction::Run { .. }) => Some(Input::ActionDone),
        Command::Ivr(Reaction::Goodbye | Reaction::WrongKey { again: false } | Reaction::NoInput { again: false })
        | Command::HangUp { .. } => Some(report(ProviderEvent::HungUp)),
        Command::Ivr(Reaction::Ignored) | Command::Dial { .. } | Command::ArmTimer { .. } => None,
    };
    if let Some(input) = input {
        let fed: Option<Fed> = feed(state, &call.workspace_id, &call.message_id, input, None).await?;
        drop(fed);
    }
    Ok(())
}

async fn recipient(state: &AppState, call: &CallRecord) -> AppResult<String> {
    let message = state.store.message(&call.workspace_id, &call.message_id).await?;
    Ok(message.recipient.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_phones_behave_by_the_last_two_digits() {
        assert_eq!(Phone::of("+5511900000001"), Phone::Busy);
        assert_eq!(Phone::of("+5511900000002"), Phone::NoAnswer);
        assert_eq!(Phone::of("+5511900000003"), Phone::Unreachable);
        assert_eq!(Phone::of("+5511900000012"), Phone::PressesKey(Key::digit(2).unwrap()));
        assert_eq!(Phone::of("+5511900000099"), Phone::HangsUp);
        assert_eq!(Phone::of("+5511900000042"), Phone::Listens);
    }
}
