//! Dialling an attempt through the node holding the channel's Asterisk
//! application ([`super::links`]). That node lets the channel's dials
//! through its gate one at a time: each counts the calls holding a line
//! (`max_concurrent`: the calls table's, and the dials past the gate whose
//! acceptance is not recorded yet; a count a moment old, with the dials
//! since added, serves while it stays under the cap), waits for the channel's next slot
//! (`max_cps`) having claimed its attempt; then, while the next one passes
//! the gate, it originates the attempt's channel (`{call id}-{attempt}`)
//! into the application and records the acceptance. Any other node hands
//! the job back to the queue. The attempt is claimed only when its slot is
//! at most a moment away, so a dial that must wait longer holds no claim,
//! and no run dials an attempt twice.

use super::links::{CallOf, Occupancy};
use crate::channels::registry::LoadedVoice;
use crate::channels::voice_config::AsteriskSettings;
use crate::voice::engine::{feed, read, settings_of};
use crate::voice::jobs::Dialled;
use crate::workers::JobError;
use crate::AppState;
use recado_channels::voice::asterisk::{AriError, ChannelRef, Originate};
use recado_core::voice::call::{Input, ProviderEvent};
use recado_store::calls::CallRecord;
use std::time::{Duration, Instant};

/// How soon a dial for a channel held by another node is offered again.
const ELSEWHERE_RETRY_MS: i64 = 200;
/// How soon a dial waits again while Asterisk is not connected, or every
/// line of the channel is in use.
const UNCONNECTED_RETRY_MS: i64 = 1_000;
const FULL_RETRY_MS: i64 = 500;
/// How long a dial waits in the job for a free line, and how often it looks.
const MAX_FULL_WAIT: Duration = Duration::from_secs(2);
const FULL_POLL: Duration = Duration::from_millis(20);
/// How long a count of the lines in use serves the dials that follow it
/// (with the dials since added) before the calls table is read again.
const RECOUNT_AFTER: Duration = Duration::from_millis(100);
/// A dial waits in the job for its slot up to this long; a longer wait goes
/// back to the queue.
const MAX_PACING_WAIT: Duration = Duration::from_secs(1);

/// The time between two dials of a channel.
fn interval(max_cps: u32) -> Duration {
    Duration::from_secs_f64(1.0 / f64::from(max_cps.max(1)))
}

/// A dial leaving this little after its slot (a timer's wake-up, a claim
/// that took a moment longer) keeps the channel's schedule.
const SLOT_SLACK: Duration = Duration::from_millis(3);

/// The slot after a dial due at `slot` that left at `left`: dials leave
/// `interval` apart, slot after slot, so the small delays of each wake-up
/// do not add up (at 100 calls/s a millisecond late each time was 91
/// calls/s); one later than the slack counts from when it left, never a
/// burst to catch up. Either way no second holds more than `max_cps`
/// slots.
fn next_slot(slot: Instant, left: Instant, interval: Duration) -> Instant {
    let slack = SLOT_SLACK.min(interval / 2);
    if left <= slot + slack {
        slot + interval
    } else {
        left + interval
    }
}

/// The dial string of a number.
pub(super) fn endpoint(settings: &AsteriskSettings, number: &str) -> String {
    settings.dial_template.replace("{number}", number)
}

/// What an originate's failure says about the attempt.
fn dialled(result: Result<(), AriError>, channel_id: &str) -> Dialled {
    match result {
        Ok(()) | Err(AriError::AlreadyExists(_)) => Dialled::Accepted {
            provider_call_id: Some(channel_id.to_string()),
        },
        Err(AriError::Uncertain(message)) | Err(AriError::Protocol(message)) => Dialled::Unknown { message },
        Err(AriError::Unavailable(message)) => Dialled::Retry {
            message,
            retry_after_ms: Some(UNCONNECTED_RETRY_MS),
        },
        Err(e @ (AriError::Refused { .. } | AriError::Config(_))) => Dialled::Refused { reason: e.to_string() },
    }
}

/// Places attempt `attempt` of `call`: claims it (see
/// `recado_store::calls::claim_dial`) when its slot is at most a moment
/// away, so a crash leaves an attempt claimed but not dialled only in that
/// moment. An acceptance is recorded here; what is left for the caller to
/// record is returned — `None` when nothing is (accepted, or an earlier run
/// claimed the attempt).
pub async fn dial(
    state: &AppState,
    call: &CallRecord,
    channel: &LoadedVoice,
    settings: &AsteriskSettings,
    attempt: u32,
) -> Result<Option<Dialled>, JobError> {
    let channel_id = &channel.record.id;
    let Some(link) = state.asterisk.serving(channel_id) else {
        return Err(JobError::Elsewhere {
            retry_after_ms: ELSEWHERE_RETRY_MS,
        });
    };
    let line = match link.line(channel_id) {
        Some(line) if link.is_connected() => line,
        _ => {
            return Err(JobError::Later {
                after_ms: UNCONNECTED_RETRY_MS,
            })
        }
    };
    let message = state.store.message(&call.workspace_id, &call.message_id).await?;
    let Some(number) = message.recipient.filter(|n| !n.is_empty()) else {
        return Ok(Some(Dialled::Refused {
            reason: "the call has no number to dial".into(),
        }));
    };
    let mut pacing = line.gate.lock().await;
    // Every line in use: wait here a moment for one to free (a read every
    // few milliseconds) rather than hand the job back at once, which would
    // cost the queue two writes per turn while a campaign waits.
    let full_since = Instant::now();
    let max_concurrent = i64::from(settings.max_concurrent);
    loop {
        let known = pacing
            .occupancy
            .filter(|o| o.counted_at.elapsed() < RECOUNT_AFTER && o.at_most() < max_concurrent);
        if known.is_some() {
            break;
        }
        let counted_at = Instant::now();
        let counted = state.store.count_calls_on_line(channel_id).await? + i64::from(line.dials_under_way());
        pacing.occupancy = Some(Occupancy {
            counted_at,
            counted,
            dialled_since: 0,
        });
        if counted < max_concurrent {
            break;
        }
        if full_since.elapsed() >= MAX_FULL_WAIT {
            return Err(JobError::Later {
                after_ms: FULL_RETRY_MS,
            });
        }
        tokio::time::sleep(FULL_POLL).await;
    }
    // The attempt is claimed while it waits for its slot, so the claim's
    // write never delays the originate past it; a wait longer than a moment
    // goes back to the queue unclaimed.
    let slot = pacing.next.map_or_else(Instant::now, |next| next.max(Instant::now()));
    let wait = slot.saturating_duration_since(Instant::now());
    if wait > MAX_PACING_WAIT {
        return Err(JobError::Later {
            after_ms: i64::try_from(wait.as_millis()).unwrap_or(i64::MAX),
        });
    }
    if !state
        .store
        .claim_dial(&call.message_id, i64::from(attempt), state.clock.now_ms())
        .await?
    {
        return Ok(None);
    }
    tokio::time::sleep_until(slot.into()).await;
    pacing.next = Some(next_slot(slot, Instant::now(), interval(settings.max_cps)));
    // The next dial may pass the gate now: this one holds a line from here
    // until its acceptance is in the calls table.
    let dialling = line.start_dial();
    if let Some(occupancy) = pacing.occupancy.as_mut() {
        occupancy.dialled_since += 1;
    }
    drop(pacing);

    let (_, content) = read(call)?;
    let ring_s = settings_of(&content).ring_timeout_ms / 1000;
    let contact = ChannelRef::main(call.message_id.clone(), attempt);
    let channel_name = contact.channel_id();
    link.remember(
        &call.message_id,
        CallOf {
            workspace_id: call.workspace_id.clone(),
            channel_id: channel_id.clone(),
        },
    );
    let originate = Originate {
        channel_id: channel_name.clone(),
        endpoint: endpoint(settings, &number),
        caller_id: message.sender,
        timeout_s: u32::try_from(ring_s).unwrap_or(30),
        app_args: vec![call.message_id.clone(), attempt.to_string()],
    };
    let answer = dialled(link.client.originate(&originate).await.map(drop), &channel_name);
    let now = state.clock.now_ms();
    match &answer {
        Dialled::Accepted { provider_call_id } => {
            // Recorded before this dial stops counting as under way.
            let accepted = Input::Provider {
                attempt,
                event: ProviderEvent::Accepted,
            };
            feed(
                state,
                &call.workspace_id,
                &call.message_id,
                accepted,
                provider_call_id.as_deref(),
            )
            .await?;
            state.health.sent(&call.workspace_id, channel_id, now);
        }
        Dialled::Refused { reason } => {
            state
                .health
                .failed(&call.workspace_id, channel_id, now, "refused", reason);
        }
        Dialled::Retry { message, .. } => {
            state
                .health
                .failed(&call.workspace_id, channel_id, now, "unavailable", message);
        }
        Dialled::Unknown { .. } => {}
    }
    drop(dialling);
    Ok((!matches!(answer, Dialled::Accepted { .. })).then_some(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_channel_is_an_accepted_attempt_never_a_second_dial() {
        let answer = dialled(Err(AriError::AlreadyExists("exists".into())), "msg_1-1");
        assert!(matches!(answer, Dialled::Accepted { provider_call_id: Some(id) } if id == "msg_1-1"));
    }

    #[test]
    fn only_an_asterisk_that_was_not_reached_is_dialled_again() {
        assert!(matches!(
            dialled(Err(AriError::Unavailable("refused".into())), "c-1"),
            Dialled::Retry { .. }
        ));
        assert!(matches!(
            dialled(Err(AriError::Uncertain("timeout".into())), "c-1"),
            Dialled::Unknown { .. }
        ));
        let refused = AriError::Refused {
            status: 400,
            message: "Invalid endpoint".into(),
        };
        assert!(matches!(dialled(Err(refused), "c-1"), Dialled::Refused { .. }));
    }

    #[test]
    fn a_dial_a_moment_late_keeps_the_channels_schedule() {
        let slot = Instant::now();
        let interval = Duration::from_millis(10);
        let left = slot + Duration::from_millis(1);
        assert_eq!(next_slot(slot, left, interval), slot + interval);
    }

    #[test]
    fn a_dial_later_than_the_slack_never_lets_the_next_catch_up() {
        let slot = Instant::now();
        let interval = Duration::from_millis(10);
        let left = slot + Duration::from_millis(7);
        assert_eq!(next_slot(slot, left, interval), left + interval);
        // At a high rate the slack shrinks to half an interval.
        let short = Duration::from_millis(2);
        let late = slot + Duration::from_millis(2);
        assert_eq!(next_slot(slot, late, short), late + short);
    }

    #[test]
    fn the_number_goes_into_the_dial_string() {
        let settings = AsteriskSettings {
            ari_url: "http://127.0.0.1:8088/ari".into(),
            ari_user: "recado".into(),
            ari_password: "secret".into(),
            app: "recado".into(),
            dial_template: "PJSIP/{number}@trunk".into(),
            max_cps: 4,
            max_concurrent: 50,
        };
        assert_eq!(endpoint(&settings, "+34600000001"), "PJSIP/+34600000001@trunk");
        assert_eq!(interval(4), Duration::from_millis(250));
        assert_eq!(interval(0), Duration::from_secs(1));
    }
}
