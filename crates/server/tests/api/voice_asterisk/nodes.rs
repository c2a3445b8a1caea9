//! A node that stops: its calls go on with the next holder of the
//! application, and calls that ended meanwhile are reconciled.

use super::*;

#[tokio::test]
async fn a_call_goes_on_when_its_node_stops_and_another_takes_its_application() {
    let rig = rig_or_skip!("takeover");
    let app = hub(0).await;
    let first = connect_asterisk(&app);
    let (channel, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@listen").await;
    let fay = contact(&app, "+34600000021").await;
    let text = unique_words("Hello Fay. This message goes on while the hub changes the node that runs it");
    let id = call(&app, &fay, &text).await;
    drive_until(&app, &ws, &id, "answered").await;
    app.run_jobs().await;
    first.stop().await;
    assert!(!app.app_state.asterisk.is_connected(&channel));
    // Another node takes the application; the narration ends and the call
    // hangs up as if nothing happened.
    let _second = connect_asterisk(&app);
    reconnected(&app, &channel).await;
    let row = drive_until(&app, &ws, &id, "ended").await;
    let talked = row.ended_at.unwrap() - row.answered_at.unwrap();
    assert!(
        talked < 15_000,
        "hung up after its narration, not by a timer: {talked} ms"
    );
    let timeline = voice_timeline(&app, &fay).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
}

#[tokio::test]
async fn a_call_that_ended_while_no_node_listened_ends_when_its_application_is_connected_again() {
    let rig = rig_or_skip!("reconcile");
    let app = hub(0).await;
    let first = connect_asterisk(&app);
    let (channel, ws) = channel(&app, &rig, &rig.ari_url, "PJSIP/{number}@listen").await;
    let gil = contact(&app, "+34600000022").await;
    let text = unique_words("Hello Gil. This message is cut short by a hang-up nobody hears");
    let id = call(&app, &gil, &text).await;
    drive_until(&app, &ws, &id, "answered").await;
    first.stop().await;
    // The contact hangs up while no node reads the application's events.
    let config = AsteriskConfig::new(&rig.ari_url, &rig.user, &rig.password, &rig.app);
    let ari = AriClient::new(reqwest::Client::new(), config);
    ari.hang_up(&format!("{id}-1")).await.unwrap();
    until("the channel gone", Duration::from_secs(10), || {
        let ari = ari.clone();
        let leg = format!("{id}-1");
        async move { ari.channel(&leg).await.unwrap().is_none().then_some(()) }
    })
    .await;
    app.run_jobs().await;
    assert_eq!(call_row(&app, &ws, &id).await.phase, "answered");
    let _second = connect_asterisk(&app);
    reconnected(&app, &channel).await;
    drive_until(&app, &ws, &id, "ended").await;
    let timeline = voice_timeline(&app, &gil).await;
    assert_eq!(kinds(&timeline), ["VOICE_QUEUED", "VOICE_SENT", "VOICE_DELIVERED"]);
}
