use super::*;
use crate::voice::ivr::Then;
use proptest::prelude::*;

fn key(c: char) -> Key {
    Key::new(c).unwrap()
}

fn ivr_settings() -> Settings {
    Settings {
        menu: Some(Menu::new([
            (key('1'), KeyAction::Transfer),
            (key('3'), KeyAction::Play { then: Then::Menu }),
            (key('9'), KeyAction::Unsubscribe),
        ])),
        ..Settings::default()
    }
}

fn retrying() -> Settings {
    Settings {
        max_attempts: 3,
        retry_delays: vec![(Retryable::Busy, 600_000), (Retryable::NoAnswer, 3_600_000)],
        ..Settings::default()
    }
}

fn p(attempt: u32, event: ProviderEvent) -> Input {
    Input::Provider { attempt, event }
}

/// Feeds inputs at successive milliseconds; returns the call and every
/// event recorded, in order.
fn run(settings: &Settings, inputs: &[Input]) -> (Call, Vec<VoiceEvent>, Vec<Command>) {
    let mut call = Call::new();
    let mut events = Vec::new();
    let mut commands = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let (next, out) = apply(settings, &call, *input, i as Millis);
        call = next;
        events.extend(out.events);
        commands.extend(out.commands);
    }
    (call, events, commands)
}

fn kinds(events: &[VoiceEvent]) -> Vec<&'static str> {
    events.iter().map(VoiceEvent::kind).collect()
}

fn dials(commands: &[Command]) -> Vec<u32> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Dial { attempt } => Some(*attempt),
            _ => None,
        })
        .collect()
}

#[test]
fn an_answered_call_records_sent_then_delivered_with_who_answered() {
    let (call, events, commands) = run(
        &Settings::default(),
        &[
            Input::Dial,
            p(1, ProviderEvent::Accepted),
            p(1, ProviderEvent::Ringing),
            p(
                1,
                ProviderEvent::Answered {
                    answered_by: AnsweredBy::Human,
                },
            ),
            p(1, ProviderEvent::HungUp),
        ],
    );
    assert_eq!(
        events,
        vec![
            VoiceEvent::Sent,
            VoiceEvent::Delivered {
                answered_by: AnsweredBy::Human
            }
        ]
    );
    assert_eq!(dials(&commands), vec![1]);
    assert!(call.is_ended());
}

#[test]
fn a_report_that_proves_the_call_was_placed_records_sent_first() {
    // The answer arrives before the provider's acceptance (another HTTP
    // request, another order).
    let (_, events, _) = run(
        &Settings::default(),
        &[
            Input::Dial,
            p(
                1,
                ProviderEvent::Answered {
                    answered_by: AnsweredBy::Unknown,
                },
            ),
            p(1, ProviderEvent::Accepted),
        ],
    );
    assert_eq!(kinds(&events), vec!["VOICE_SENT", "VOICE_DELIVERED"]);
    let (_, events, _) = run(&Settings::default(), &[Input::Dial, p(1, ProviderEvent::Busy)]);
    assert_eq!(kinds(&events), vec!["VOICE_SENT", "VOICE_NOT_DELIVERED"]);
}

#[test]
fn busy_no_answer_failed_and_rejected_are_not_delivered_with_the_reason() {
    for (event, reason) in [
        (ProviderEvent::Busy, "busy"),
        (ProviderEvent::NoAnswer, "no_answer"),
        (ProviderEvent::Rejected, "rejected"),
        (
            ProviderEvent::Failed {
                failure: Failure::Unreachable,
            },
            "failed",
        ),
    ] {
        let (call, events, _) = run(
            &Settings::default(),
            &[Input::Dial, p(1, ProviderEvent::Accepted), p(1, event)],
        );
        assert_eq!(kinds(&events), vec!["VOICE_SENT", "VOICE_NOT_DELIVERED"], "{event:?}");
        assert_eq!(events[1].details()["reason"], reason);
        assert_eq!(events[1].details()["attempts"], 1);
        assert!(call.is_ended());
    }
}

#[test]
fn an_answering_machine_is_delivered_with_answered_by_machine() {
    let (_, events, _) = run(
        &Settings::default(),
        &[
            Input::Dial,
            p(
                1,
                ProviderEvent::Answered {
                    answered_by: AnsweredBy::Machine,
                },
            ),
        ],
    );
    assert_eq!(events[1].details(), serde_json::json!({"answered_by": "machine"}));
}

#[test]
fn an_answering_machine_can_count_as_not_delivered_and_is_hung_up() {
    let settings = Settings {
        machine_is_delivered: false,
        ..Settings::default()
    };
    let (_, events, commands) = run(
        &settings,
        &[
            Input::Dial,
            p(
                1,
                ProviderEvent::Answered {
                    answered_by: AnsweredBy::Machine,
                },
            ),
        ],
    );
    assert_eq!(events[1].details()["reason"], "machine");
    assert!(commands.contains(&Command::HangUp { attempt: 1 }));
}

#[test]
fn a_key_is_recorded_only_after_delivered() {
    let (_, events, _) = run(
        &ivr_settings(),
        &[
            Input::Dial,
            p(1, ProviderEvent::Accepted),
            p(
                1,
                ProviderEvent::Answered {
                    answered_by: AnsweredBy::Human,
                },
            ),
            p(1, ProviderEvent::Dtmf { key: key('1'), seq: 1 }),
        ],
    );
    assert_eq!(
        kinds(&events),
        vec!["VOICE_SENT", "VOICE_DELIVERED", "VOICE_KEY_PRESSED"]
    );
    assert_eq!(events[2].details(), serde_json::json!({"key": "1"}));
}

#[test]
fn a_key_before_the_answer_proves_a_person_answered() {
    let (_, events, _) = run(
        &ivr_settings(),
        &[Input::Dial, p(1, ProviderEvent::Dtmf { key: key('3'), seq: 1 })],
    );
    assert_eq!(
        events,
        vec![
            VoiceEvent::Sent,
            VoiceEvent::Delivered {
                answered_by: AnsweredBy::Human
            },
            VoiceEvent::KeyPressed { key: key('3') }
        ]
    );
}

#[test]
fn a_repeated_key_report_counts_once() {
    let answered = [
        Input::Dial,
        p(
            1,
            ProviderEvent::Answered {
                answered_by: AnsweredBy::Human,
            },
        ),
    ];
    let mut inputs = answered.to_vec();
    inputs.push(p(1, ProviderEvent::Dtmf { key: key('3'), seq: 1 }));
    inputs.push(p(1, ProviderEvent::Dtmf { key: key('3'), seq: 1 }));
    let (_, events, _) = run(&Settings::default(), &inputs);
    assert_eq!(kinds(&events).iter().filter(|k| **k == "VOICE_KEY_PRESSED").count(), 1);
}

#[test]
fn unsubscribed_follows_its_key_once() {
    let (call, events, commands) = run(
        &ivr_settings(),
        &[
            Input::Dial,
            p(
                1,
                ProviderEvent::Answered {
                    answered_by: AnsweredBy::Human,
                },
            ),
            p(1, ProviderEvent::Dtmf { key: key('9'), seq: 1 }),
            p(1, ProviderEvent::Dtmf { key: key('9'), seq: 2 }),
            Input::ActionDone,
        ],
    );
    assert_eq!(
        kinds(&events),
        vec![
            "VOICE_SENT",
            "VOICE_DELIVERED",
            "VOICE_KEY_PRESSED",
            "VOICE_UNSUBSCRIBED"
        ]
    );
    assert!(call.unsubscribed);
    assert_eq!(commands.last(), Some(&Command::Ivr(Reaction::Goodbye)));
}

#[test]
fn a_wrong_key_plays_the_menu_again_and_is_not_a_key_press() {
    let (_, events, commands) = run(
        &ivr_settings(),
        &[
            Input::Dial,
            p(
                1,
                ProviderEvent::Answered {
                    answered_by: AnsweredBy::Human,
                },
            ),
            p(1, ProviderEvent::Dtmf { key: key('5'), seq: 1 }),
        ],
    );
    assert_eq!(kinds(&events), vec!["VOICE_SENT", "VOICE_DELIVERED"]);
    assert_eq!(commands.last(), Some(&Command::Ivr(Reaction::WrongKey { again: true })));
}

#[test]
fn the_menu_plays_when_the_call_is_answered_and_replays_on_silence() {
    let (call, _, commands) = run(
        &ivr_settings(),
        &[
            Input::Dial,
            p(
                1,
                ProviderEvent::Answered {
                    answered_by: AnsweredBy::Human,
                },
            ),
            Input::NoInput { play: 1 },
            Input::NoInput { play: 1 },
        ],
    );
    let ivr: Vec<_> = commands
        .iter()
        .filter_map(|c| match c {
            Command::Ivr(r) => Some(*r),
            _ => None,
        })
        .collect();
    assert_eq!(
        ivr,
        vec![Reaction::PlayMenu { play: 1 }, Reaction::NoInput { again: true }]
    );
    assert_eq!(call.menu.map(|m| m.plays), Some(2));
}

#[test]
fn a_call_is_dialled_once_however_often_it_is_started() {
    let (_, _, commands) = run(
        &Settings::default(),
        &[Input::Dial, Input::Dial, p(1, ProviderEvent::Accepted), Input::Dial],
    );
    assert_eq!(dials(&commands), vec![1]);
}

#[test]
fn a_refused_call_is_not_sent_and_never_dialled() {
    let (call, events, commands) = run(
        &Settings::default(),
        &[
            Input::Refuse {
                reason: NotSentReason::NotSubscribed,
            },
            Input::Dial,
        ],
    );
    assert_eq!(events[0].details(), serde_json::json!({"reason": "not_subscribed"}));
    assert_eq!(events.len(), 1);
    assert!(dials(&commands).is_empty());
    assert!(call.is_ended());
}

#[test]
fn a_provider_refusal_is_not_sent() {
    let (_, events, _) = run(&Settings::default(), &[Input::Dial, p(1, ProviderEvent::Refused)]);
    assert_eq!(
        events,
        vec![VoiceEvent::NotSent {
            reason: NotSentReason::ProviderRefused
        }]
    );
}

#[test]
fn busy_is_retried_after_its_delay_and_reported_once_attempts_are_spent() {
    let s = retrying();
    let mut call = Call::new();
    let mut events = Vec::new();
    let mut dialled = Vec::new();
    let mut now = 0;
    let mut feed = |call: &mut Call, input, now| {
        let (next, out) = apply(&s, call, input, now);
        *call = next;
        events.extend(out.events);
        dialled.extend(dials(&out.commands));
    };
    feed(&mut call, Input::Dial, now);
    for attempt in 1..=3 {
        feed(&mut call, p(attempt, ProviderEvent::Busy), now);
        if attempt < 3 {
            assert_eq!(call.phase, Phase::RetryWaiting);
            // Too early: nothing.
            feed(&mut call, Input::TimerExpired, now + 1);
            assert_eq!(call.attempt, attempt);
            now += 600_000;
            feed(&mut call, Input::TimerExpired, now);
        }
    }
    assert_eq!(dialled, vec![1, 2, 3]);
    assert_eq!(kinds(&events), vec!["VOICE_SENT", "VOICE_NOT_DELIVERED"]);
    assert_eq!(events[1].details()["attempts"], 3);
}

#[test]
fn rejected_is_never_retried() {
    let (call, events, commands) = run(&retrying(), &[Input::Dial, p(1, ProviderEvent::Rejected)]);
    assert!(call.is_ended());
    assert_eq!(dials(&commands), vec![1]);
    assert_eq!(events[1].details()["reason"], "rejected");
}

#[test]
fn a_report_about_an_earlier_attempt_changes_nothing() {
    let s = retrying();
    let (call, _, _) = run(&s, &[Input::Dial, p(1, ProviderEvent::Busy)]);
    let (call, _) = apply(&s, &call, Input::TimerExpired, call.deadline.unwrap());
    assert_eq!(call.attempt, 2);
    let (late, out) = apply(
        &s,
        &call,
        p(
            1,
            ProviderEvent::Answered {
                answered_by: AnsweredBy::Human,
            },
        ),
        call.deadline.unwrap(),
    );
    assert_eq!(late, call);
    assert_eq!(out, Emitted::default());
}

#[test]
fn an_attempt_waiting_for_its_turn_to_dial_is_not_closed_by_its_timer() {
    let s = Settings::default();
    let (call, _) = apply(&s, &Call::new(), Input::Dial, 0);
    let first = call.deadline.unwrap();
    // The pacing still holds the attempt back when the timer fires: its
    // time starts again, nothing is recorded, nothing hung up.
    let (call, out) = apply(&s, &call, Input::TimerBeforeDial, first + 5);
    assert_eq!(call.phase, Phase::Dialing);
    assert!(out.events.is_empty());
    let again = first + 5 + s.ring_timeout_ms + s.grace_ms;
    assert_eq!(out.commands, vec![Command::ArmTimer { at: again }]);
    // Dialled at last, then no report ever: the renewed timer closes it.
    let (call, out) = apply(&s, &call, Input::TimerExpired, again);
    assert!(call.is_ended());
    assert_eq!(out.events[0].details()["reason"], "unconfirmed");
}

#[test]
fn a_dial_the_hub_gave_up_on_ends_the_call_not_sent_or_not_delivered() {
    let s = retrying();
    let (call, _) = apply(&s, &Call::new(), Input::Dial, 0);
    let (ended, out) = apply(&s, &call, Input::DialAbandoned { attempt: 1 }, 10);
    assert!(ended.is_ended());
    assert_eq!(
        out.events,
        vec![VoiceEvent::NotSent {
            reason: NotSentReason::ProviderUnreachable
        }]
    );
    // A retry the hub could not hand over: the call was sent once, so it is
    // not delivered, and no further attempt is made.
    let (call, _, _) = run(&s, &[Input::Dial, p(1, ProviderEvent::Busy)]);
    let (call, _) = apply(&s, &call, Input::TimerExpired, call.deadline.unwrap());
    assert_eq!((call.phase, call.attempt), (Phase::Dialing, 2));
    let (stale, out) = apply(&s, &call, Input::DialAbandoned { attempt: 1 }, 1_000_000);
    assert_eq!((stale, out), (call.clone(), Emitted::default()));
    let (ended, out) = apply(&s, &call, Input::DialAbandoned { attempt: 2 }, 1_000_000);
    assert!(ended.is_ended());
    assert_eq!(out.events[0].kind(), "VOICE_NOT_DELIVERED");
}

#[test]
fn a_timer_before_dial_outside_dialling_is_the_timer_it_is() {
    let s = Settings::default();
    let (call, _, _) = run(&s, &[Input::Dial, p(1, ProviderEvent::Ringing)]);
    // An early one changes nothing; at the deadline a placed call ends.
    let (same, out) = apply(&s, &call, Input::TimerBeforeDial, call.deadline.unwrap() - 1);
    assert_eq!((same, out), (call.clone(), Emitted::default()));
    let (ended, out) = apply(&s, &call, Input::TimerBeforeDial, call.deadline.unwrap());
    assert!(ended.is_ended());
    assert_eq!(out.events[0].details()["reason"], "no_answer");
}

#[test]
fn the_timer_closes_a_call_whose_reports_were_lost() {
    let s = Settings::default();
    // Never confirmed by the provider: not sent, unconfirmed, and hung up.
    let (call, out) = apply(&s, &Call::new(), Input::Dial, 0);
    let deadline = call.deadline.unwrap();
    assert_eq!(deadline, s.ring_timeout_ms + s.grace_ms);
    let (call, out2) = apply(&s, &call, Input::TimerExpired, deadline);
    assert!(out.commands.contains(&Command::ArmTimer { at: deadline }));
    assert_eq!(
        out2.events,
        vec![VoiceEvent::NotSent {
            reason: NotSentReason::Unconfirmed
        }]
    );
    assert!(out2.commands.contains(&Command::HangUp { attempt: 1 }));
    assert!(call.is_ended());

    // Rang, then nothing: no answer.
    let (call, _, _) = run(&s, &[Input::Dial, p(1, ProviderEvent::Ringing)]);
    let (call, out) = apply(&s, &call, Input::TimerExpired, call.deadline.unwrap());
    assert_eq!(out.events[0].details()["reason"], "no_answer");
    assert!(call.is_ended());

    // Answered, then no hang-up report: the call ends after its longest time.
    let (call, _, _) = run(
        &s,
        &[
            Input::Dial,
            p(
                1,
                ProviderEvent::Answered {
                    answered_by: AnsweredBy::Human,
                },
            ),
        ],
    );
    let (call, out) = apply(&s, &call, Input::TimerExpired, call.deadline.unwrap());
    assert!(out.events.is_empty());
    assert!(out.commands.contains(&Command::HangUp { attempt: 1 }));
    assert!(call.is_ended());
}

#[test]
fn an_early_or_stale_timer_changes_nothing() {
    let s = Settings::default();
    let (call, _, _) = run(&s, &[Input::Dial, p(1, ProviderEvent::Accepted)]);
    let (same, out) = apply(&s, &call, Input::TimerExpired, call.deadline.unwrap() - 1);
    assert_eq!(same, call);
    assert_eq!(out, Emitted::default());
}

#[test]
fn a_failure_after_the_answer_changes_nothing() {
    let (_, events, _) = run(
        &Settings::default(),
        &[
            Input::Dial,
            p(
                1,
                ProviderEvent::Answered {
                    answered_by: AnsweredBy::Human,
                },
            ),
            p(1, ProviderEvent::Busy),
            p(1, ProviderEvent::NoAnswer),
        ],
    );
    assert_eq!(kinds(&events), vec!["VOICE_SENT", "VOICE_DELIVERED"]);
}

#[test]
fn nothing_changes_after_the_end() {
    let s = ivr_settings();
    let (call, _, _) = run(&s, &[Input::Dial, p(1, ProviderEvent::Busy)]);
    assert!(call.is_ended());
    for input in [
        Input::Dial,
        p(1, ProviderEvent::Dtmf { key: key('9'), seq: 1 }),
        p(
            1,
            ProviderEvent::Answered {
                answered_by: AnsweredBy::Human,
            },
        ),
        Input::TimerExpired,
    ] {
        let (same, out) = apply(&s, &call, input, Millis::MAX);
        assert_eq!(same, call);
        assert_eq!(out, Emitted::default());
    }
}

#[test]
fn asterisk_causes_map_to_provider_events() {
    assert_eq!(ProviderEvent::from_q850(17), ProviderEvent::Busy);
    assert_eq!(ProviderEvent::from_q850(19), ProviderEvent::NoAnswer);
    assert_eq!(ProviderEvent::from_q850(16), ProviderEvent::HungUp);
    assert_eq!(ProviderEvent::from_q850(0), ProviderEvent::HungUp);
    assert_eq!(
        ProviderEvent::from_q850(18),
        ProviderEvent::Failed {
            failure: Failure::Unreachable
        }
    );
    assert_eq!(
        ProviderEvent::from_q850(34),
        ProviderEvent::Failed {
            failure: Failure::Congestion
        }
    );
}

// --- properties over random input sequences --------------------------------

fn provider_event() -> impl Strategy<Value = ProviderEvent> {
    prop_oneof![
        Just(ProviderEvent::Accepted),
        Just(ProviderEvent::Refused),
        Just(ProviderEvent::Ringing),
        prop::sample::select(vec![AnsweredBy::Human, AnsweredBy::Machine, AnsweredBy::Unknown])
            .prop_map(|answered_by| ProviderEvent::Answered { answered_by }),
        (prop::sample::select(Key::all().collect::<Vec<_>>()), 0u32..6)
            .prop_map(|(key, seq)| ProviderEvent::Dtmf { key, seq }),
        Just(ProviderEvent::Busy),
        Just(ProviderEvent::NoAnswer),
        Just(ProviderEvent::Rejected),
        prop::sample::select(vec![Failure::Congestion, Failure::Unreachable, Failure::Other])
            .prop_map(|failure| ProviderEvent::Failed { failure }),
        Just(ProviderEvent::HungUp),
    ]
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        2 => Just(Input::Dial),
        1 => Just(Input::Refuse { reason: NotSentReason::NotSubscribed }),
        8 => (0u32..4, provider_event()).prop_map(|(attempt, event)| Input::Provider { attempt, event }),
        1 => Just(Input::ActionDone),
        1 => (0u32..4).prop_map(|play| Input::NoInput { play }),
        2 => Just(Input::TimerExpired),
        1 => Just(Input::TimerBeforeDial),
        1 => (0u32..4).prop_map(|attempt| Input::DialAbandoned { attempt }),
    ]
}

fn settings() -> impl Strategy<Value = Settings> {
    (1u32..4, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(max_attempts, retry, machine, menu)| {
        let base = if menu { ivr_settings() } else { Settings::default() };
        Settings {
            ring_timeout_ms: 30_000,
            max_duration_ms: 120_000,
            grace_ms: 10_000,
            max_attempts,
            retry_delays: if retry {
                vec![
                    (Retryable::Busy, 60_000),
                    (Retryable::NoAnswer, 90_000),
                    (Retryable::Congestion, 5_000),
                    (Retryable::Machine, 30_000),
                ]
            } else {
                Vec::new()
            },
            machine_is_delivered: machine,
            ..base
        }
    })
}

/// Inputs with the time each arrives (never backwards).
fn timed_inputs() -> impl Strategy<Value = Vec<(Input, Millis)>> {
    prop::collection::vec((input(), 0i64..200_000), 0..40).prop_map(|v| {
        let mut now = 0;
        v.into_iter()
            .map(|(input, step)| {
                now += step;
                (input, now)
            })
            .collect()
    })
}

/// Feeds the inputs, then only timers at each armed deadline (every
/// provider report after that lost), and checks the invariants that must
/// hold after every step. Returns the events, the dials and the final call.
fn drive(settings: &Settings, inputs: &[(Input, Millis)]) -> Result<(Vec<VoiceEvent>, Vec<u32>, Call), TestCaseError> {
    let mut call = Call::new();
    let mut events: Vec<VoiceEvent> = Vec::new();
    let mut dialled = Vec::new();
    let mut now = 0;
    let mut step = |call: &mut Call, input: Input, at: Millis| -> Result<(), TestCaseError> {
        let was_ended = call.is_ended();
        let (next, out) = apply(settings, call, input, at);
        if was_ended {
            prop_assert_eq!(&next, &*call, "a call changed after its end");
            prop_assert_eq!(&out, &Emitted::default());
        }
        for e in &out.events {
            check_order(&events, e)?;
            events.push(*e);
        }
        for c in &out.commands {
            if let Command::Dial { attempt } = c {
                prop_assert_eq!(*attempt as usize, dialled.len() + 1, "attempts are 1, 2, … each once");
                prop_assert!(*attempt <= settings.max_attempts.max(1));
                dialled.push(*attempt);
            }
            if let Command::ArmTimer { at: deadline } = c {
                prop_assert!(*deadline >= at);
            }
        }
        *call = next;
        Ok(())
    };
    for (input, at) in inputs {
        now = *at;
        step(&mut call, *input, now)?;
    }
    // Every report lost from here on: only the timers fire.
    for _ in 0..(2 * settings.max_attempts + 4) {
        match call.deadline {
            Some(deadline) if !call.is_ended() => {
                now = now.max(deadline);
                step(&mut call, Input::TimerExpired, now)?;
            }
            _ => break,
        }
    }
    Ok((events, dialled, call))
}

/// The order rules, checked as each event is recorded after `before`.
fn check_order(before: &[VoiceEvent], e: &VoiceEvent) -> Result<(), TestCaseError> {
    let has = |kind: &str| before.iter().any(|b| b.kind() == kind);
    let outcome = before.iter().any(VoiceEvent::is_outcome);
    match e {
        VoiceEvent::Sent => prop_assert!(before.is_empty(), "VOICE_SENT first and once: {:?}", before),
        VoiceEvent::NotSent { .. } => prop_assert!(before.is_empty(), "NOT_SENT is alone: {:?}", before),
        VoiceEvent::Delivered { .. } | VoiceEvent::NotDelivered { .. } => {
            prop_assert!(has("VOICE_SENT"), "{} before VOICE_SENT", e.kind());
            prop_assert!(!outcome, "a second outcome {:?} after {:?}", e, before);
        }
        VoiceEvent::KeyPressed { .. } => {
            prop_assert!(has("VOICE_DELIVERED"), "a key before VOICE_DELIVERED: {:?}", before);
        }
        VoiceEvent::Unsubscribed { key } => {
            prop_assert_eq!(before.last(), Some(&VoiceEvent::KeyPressed { key: *key }));
            prop_assert!(!has("VOICE_UNSUBSCRIBED"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn events_keep_their_order_whatever_the_reports(s in settings(), inputs in timed_inputs()) {
        drive(&s, &inputs)?;
    }

    #[test]
    fn a_started_call_always_reaches_exactly_one_outcome(s in settings(), inputs in timed_inputs()) {
        let (events, dialled, call) = drive(&s, &inputs)?;
        let started = inputs.iter().any(|(i, _)| matches!(i, Input::Dial | Input::Refuse { .. }));
        let outcomes = events.iter().filter(|e| e.is_outcome()).count();
        if started {
            prop_assert!(call.is_ended(), "the timers left the call at {:?}", call.phase);
            prop_assert_eq!(outcomes, 1, "{:?}", events);
        } else {
            prop_assert_eq!(outcomes, 0);
            prop_assert!(dialled.is_empty());
        }
    }

    #[test]
    fn keys_only_after_delivered_and_dials_only_before_it(s in settings(), inputs in timed_inputs()) {
        let (events, dialled, call) = drive(&s, &inputs)?;
        let delivered = events.iter().position(|e| matches!(e, VoiceEvent::Delivered { .. }));
        for (i, e) in events.iter().enumerate() {
            if matches!(e, VoiceEvent::KeyPressed { .. } | VoiceEvent::Unsubscribed { .. }) {
                prop_assert!(delivered.is_some_and(|d| d < i));
            }
        }
        prop_assert!(dialled.len() as u32 <= s.max_attempts.max(1));
        prop_assert_eq!(dialled.len() as u32, call.attempt);
    }

    #[test]
    fn a_repeated_input_records_nothing_more(s in settings(), inputs in timed_inputs(), at in any::<prop::sample::Index>()) {
        prop_assume!(!inputs.is_empty());
        let i = at.index(inputs.len());
        let mut call = Call::new();
        for (input, now) in &inputs[..i] {
            call = apply(&s, &call, *input, *now).0;
        }
        let (input, now) = inputs[i];
        let (once, _) = apply(&s, &call, input, now);
        let (_, again) = apply(&s, &once, input, now);
        prop_assert!(again.events.is_empty(), "{:?} twice recorded {:?}", input, again.events);
        prop_assert!(dials(&again.commands).is_empty(), "{:?} twice dialled", input);
    }
}

#[test]
fn an_unconfirmed_call_is_failed_because_its_provider_may_have_rung() {
    use crate::delivery::OutboundStatus;
    assert_eq!(NotSentReason::Unconfirmed.status(), OutboundStatus::Failed);
    for refused in [
        NotSentReason::NotSubscribed,
        NotSentReason::InvalidNumber,
        NotSentReason::ProviderRefused,
        NotSentReason::ProviderUnreachable,
    ] {
        assert_eq!(refused.status(), OutboundStatus::NotSent, "{refused:?}");
    }
}
