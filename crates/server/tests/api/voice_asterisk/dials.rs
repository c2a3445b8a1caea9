//! Dialling: an attempt is dialled once (a dial job run twice, a claim left
//! by a crash), and a channel's `max_concurrent` and `max_cps` hold.

use super::proxy::AriProxy;
use super::*;
use recado_core::jobs::Task;
use recado_store::jobs::NewJob;

#[tokio::test]
async fn an_attempt_is_originated_once_however_often_its_dial_job_runs() {
    let rig = rig_or_skip!("dial-once");
    let app = hub(0).await;
    let _connected = connect_asterisk(&app);
    let proxy = AriProxy::start(&rig.ari_url).await;
    let (_, ws) = channel(&app, &rig, &proxy.url, "PJSIP/{number}@listen").await;
    let dan = contact(&app, "+34600000005").await;
    let id = call(&app, &dan, "Hello").await;
    // The send decided to dial and queued the attempt's dial job…
    assert_eq!(call_row(&app, &ws, &id).await.phase, "dialing");
    // …and the same job queued again, both run at once.
    let again = Task::VoiceDial {
        workspace_id: ws.clone(),
        message_id: id.clone(),
        attempt: 1,
    };
    let now = app.app_state.clock.now_ms();
    let job = NewJob {
        task: again.clone(),
        workspace_id: Some(&ws),
        run_at: now,
        max_attempts: 8,
    };
    app.app_state.store.enqueue_job(&job, now).await.unwrap();
    app.run_jobs_concurrently(2).await;
    drive_until(&app, &ws, &id, "ended").await;
    // Once the call is over Asterisk would take the channel id again: a
    // dial job run now must not dial either.
    app.app_state
        .store
        .enqueue_job(&job, app.app_state.clock.now_ms())
        .await
        .unwrap();
    app.run_jobs().await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    assert_eq!(
        proxy.originations_of(&format!("{id}-1")),
        1,
        "{:?}",
        proxy.originated.lock().unwrap()
    );
    let timeline = voice_timeline(&app, &dan).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
}

#[tokio::test]
async fn a_dial_claimed_before_a_crash_is_never_dialled_and_ends_failed_unconfirmed() {
    let rig = rig_or_skip!("crash-claim");
    let app = hub(0).await;
    let _connected = connect_asterisk(&app);
    let proxy = AriProxy::start(&rig.ari_url).await;
    let (_, ws) = channel(&app, &rig, &proxy.url, "PJSIP/{number}@listen").await;
    let eva = contact(&app, "+34600000006").await;
    let id = call(&app, &eva, "Hello").await;
    // A node claimed the attempt and died before (or while) asking
    // Asterisk: whether the call was placed is unknown.
    let now = app.app_state.clock.now_ms();
    assert!(app.app_state.store.claim_dial(&id, 1, now).await.unwrap());
    app.run_jobs().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(proxy.originations_of(&format!("{id}-1")), 0);
    assert_eq!(call_row(&app, &ws, &id).await.phase, "dialing");
    // Nothing reports on it: the call's own timer closes it.
    app.clock.advance(chrono::Duration::minutes(15));
    app.run_jobs().await;
    let timeline = voice_timeline(&app, &eva).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_NOT_SENT"]);
    assert_eq!(timeline[1]["details"]["reason"], "unconfirmed");
    // Asterisk may have rung the phone: the message failed, not "not sent".
    let m = app.get(&format!("/api/v1/messages/{id}")).await;
    assert_eq!(m.body["status"], "failed", "{}", m.body);
    assert_eq!(proxy.originations_of(&format!("{id}-1")), 0);
}

#[tokio::test]
async fn a_channel_never_has_more_calls_up_than_its_max_concurrent() {
    let rig = rig_or_skip!("max-concurrent");
    let app = hub(2).await;
    let (_, ws) = channel_with(&app, &rig, &rig.ari_url, "PJSIP/{number}@listen", 20, 1).await;
    let ana = contact(&app, "+34600000031").await;
    let bea = contact(&app, "+34600000032").await;
    let first = call(&app, &ana, "Hello Ana.").await;
    let second = call(&app, &bea, "Hello Bea.").await;
    let (first, second) = (ended(&app, &ws, &first).await, ended(&app, &ws, &second).await);
    let (earlier, later) = if first.answered_at <= second.answered_at {
        (first, second)
    } else {
        (second, first)
    };
    assert!(
        later.answered_at.unwrap() >= earlier.ended_at.unwrap(),
        "the second call was answered only once the first had ended: {earlier:?} {later:?}"
    );
    for contact in [&ana, &bea] {
        let timeline = voice_timeline(&app, contact).await;
        assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
    }
}

#[tokio::test]
async fn a_channel_dials_no_faster_than_its_max_cps() {
    let rig = rig_or_skip!("max-cps");
    let app = hub(2).await;
    let proxy = AriProxy::start(&rig.ari_url).await;
    let (_, ws) = channel_with(&app, &rig, &proxy.url, "PJSIP/{number}@busy", 4, 20).await;
    let mut calls = Vec::new();
    for n in 0..5 {
        let c = contact(&app, &format!("+3460000004{n}")).await;
        calls.push(call(&app, &c, "Hello").await);
    }
    for id in &calls {
        ended(&app, &ws, id).await;
    }
    let mut times: Vec<Instant> = proxy
        .originated
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, _)| calls.iter().any(|c| *id == format!("{c}-1")))
        .map(|(_, at)| *at)
        .collect();
    times.sort();
    assert_eq!(times.len(), calls.len());
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    // 4 calls a second: 250 ms apart, give or take the proxy's own timing.
    assert!(gaps.iter().all(|g| *g >= Duration::from_millis(230)), "{gaps:?}");
}
