//! Measures calls through the voice rig's real Asterisk (`scripts/voice-rig
//! start`, as root), with the hub built as `recado serve` builds it (HTTP on
//! a port of its own, where Asterisk fetches the narrations; job workers;
//! the node's ARI connections), driven over its HTTP API:
//!
//! 1. **Dial rate**: `--calls` voice messages (default 6,000) sent by a
//!    workflow to generated contacts subscribed to voice, through a
//!    `voice_asterisk` channel with `max_cps` `--cps` (100) and
//!    `max_concurrent` `--max-concurrent` (450), each answered by the rig's
//!    `listen` phone, played, hung up. Reported: calls handed to Asterisk
//!    per second (from the `VOICE_SENT` times), the slowest and fastest
//!    whole second against the cap, the most channels Asterisk held
//!    (ARI `GET /channels`, polled every 100 ms) against `max_concurrent`,
//!    the outcomes, CPU of the hub and of Asterisk.
//! 2. **IVR calls at once**: `--ivr-calls` IVR calls (default 450) to the
//!    `answer-dtmf` phone, which presses 1 two seconds after answering; the
//!    key cuts the menu short and plays a narration of about half a
//!    minute, so every call is up at the same time. Reported: the most
//!    channels up at once, keys recorded, DTMF event → committed
//!    `VOICE_KEY_PRESSED` (`recado_voice_key_seconds`) p50 / p99 as bucket
//!    bounds, the hub's CPU and peak resident memory.
//!
//! cargo run --release -p recado --example voice_load
//! cargo run --release -p recado --example voice_load -- --database-url postgres://postgres@127.0.0.1/recado_voice_bench

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;
use support::peak_rss_mb;

struct Args {
    calls: usize,
    cps: u32,
    max_concurrent: u32,
    ivr_calls: usize,
    database_url: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        calls: 6_000,
        cps: 100,
        max_concurrent: 450,
        ivr_calls: 450,
        database_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--calls" => a.calls = value.parse().expect("--calls is a number"),
            "--cps" => a.cps = value.parse().expect("--cps is a number"),
            "--max-concurrent" => a.max_concurrent = value.parse().expect("--max-concurrent is a number"),
            "--ivr-calls" => a.ivr_calls = value.parse().expect("--ivr-calls is a number"),
            "--database-url" => a.database_url = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// The rig's ARI, as `scripts/voice-rig start` wrote it.
struct Rig {
    ari_url: String,
    user: String,
    password: String,
    app: String,
}

fn rig() -> Rig {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/voice-rig/rig.env");
    let env = std::fs::read_to_string(&file).unwrap_or_default();
    let get = |key: &str, default: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("RECADO_VOICE_RIG_{key}=")))
            .map_or_else(|| default.to_string(), |v| v.trim().to_string())
    };
    Rig {
        ari_url: get("ARI_URL", "http://127.0.0.1:8088/ari"),
        user: get("ARI_USER", "recado"),
        password: get("ARI_PASSWORD", "recado-secret"),
        app: get("APP", "recado"),
    }
}

/// The hub's API over HTTP, as an integrator calls it.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("the hub answers");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "{path}: {status}: {}",
            &text[..text.len().min(400)]
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn text(&self, path: &str) -> String {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the hub answers");
        res.text().await.unwrap_or_default()
    }
}

/// How long a narration lasts, from the hub's preview of it.
async fn narration_s(api: &Api, text: &str) -> f64 {
    let res = api
        .http
        .post(format!("{}/api/v1/voice/preview", api.base))
        .bearer_auth(&api.token)
        .json(&json!({"narration": {"kind": "tts", "language": "en", "text": text}}))
        .send()
        .await
        .expect("the hub answers");
    let wav = res.bytes().await.unwrap_or_default();
    recado_channels::voice::speech::wav_facts(&wav).map_or(f64::NAN, |(_, ms)| ms as f64 / 1000.0)
}

/// CPU seconds (user + system) of a process so far.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after ')'.
    (ticks(11) + ticks(12)) / 100.0
}

fn asterisk_pid() -> String {
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/voice-rig/root/run/asterisk/asterisk.pid");
    std::fs::read_to_string(file).unwrap_or_default().trim().to_string()
}

/// Polls Asterisk's channel list every 100 ms until stopped; the most
/// channels seen at once.
fn watch_channels(rig: &Rig, http: reqwest::Client) -> (Arc<AtomicUsize>, tokio::sync::watch::Sender<bool>) {
    let peak = Arc::new(AtomicUsize::new(0));
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let url = format!("{}/channels", rig.ari_url);
    let (user, password) = (rig.user.clone(), rig.password.clone());
    let seen = peak.clone();
    tokio::spawn(async move {
        while !*stopped.borrow() {
            if let Ok(res) = http.get(&url).basic_auth(&user, Some(&password)).send().await {
                if let Ok(channels) = res.json::<Vec<Value>>().await {
                    seen.fetch_max(channels.len(), Ordering::Relaxed);
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = stopped.changed() => {}
            }
        }
    });
    (peak, stop)
}

/// A `voice_asterisk` channel on the rig dialling `template`, once this node
/// holds its application; its id.
async fn channel(api: &Api, state: &recado_app::AppState, rig: &Rig, name: &str, template: &str, a: &Args) -> String {
    let created = api
        .post(
            "/api/v1/channels",
            json!({"kind": "voice_asterisk", "name": name, "config": {
                "ari_url": rig.ari_url, "ari_user": rig.user, "ari_password": rig.password,
                "app": format!("{}-bench-{}-{name}", rig.app, std::process::id()),
                "dial_template": template, "caller_ids": ["+34910000000"],
                "max_cps": a.cps, "max_concurrent": a.max_concurrent}}),
        )
        .await;
    let id = created["id"].as_str().expect("a channel id").to_string();
    let started = Instant::now();
    while !state.asterisk.is_connected(&id) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no ARI connection for {name}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    id
}

/// An active workflow sending `node` to each contact enrolled.
async fn workflow(api: &Api, name: &str, node: Value) -> String {
    let created = api
        .post(
            "/api/v1/workflows",
            json!({"name": name, "definition": {"triggers": [{"type": "manual"}], "start": "call",
                   "nodes": {"call": node, "end": {"type": "end"}}}}),
        )
        .await;
    let id = created["id"].as_str().expect("a workflow id").to_string();
    api.post(&format!("/api/v1/workflows/{id}/publish"), json!({})).await;
    api.post(&format!("/api/v1/workflows/{id}/activate"), json!({})).await;
    id
}

/// Generated contacts `first..first + n`, subscribed to voice, enrolled in
/// `workflow` 500 to a request.
async fn enrol_generated(api: &Api, store: &recado_store::Store, ws: &str, workflow: &str, first: usize, n: usize) {
    let now = chrono::Utc::now().timestamp_millis();
    recado_store::testing::seed_contacts_subscribed_to(store, ws, first, n, now, "voice")
        .await
        .expect("contacts seeded");
    let phones: Vec<String> = (first..first + n).map(|i| format!("+551191{i:07}")).collect();
    let ids: Vec<String> = recado_store::on_writer!(store, |pool| {
        let mut ids = Vec::new();
        for chunk in phones.chunks(500) {
            let mut q = sqlx::QueryBuilder::new("SELECT contact_id FROM contact_phones WHERE e164 IN (");
            let mut list = q.separated(", ");
            for phone in chunk {
                list.push_bind(phone);
            }
            list.push_unseparated(")");
            let rows: Vec<String> = q.build_query_scalar().fetch_all(pool).await.unwrap();
            ids.extend(rows);
        }
        ids
    });
    assert_eq!(ids.len(), n, "every generated contact found");
    for chunk in ids.chunks(500) {
        api.post(
            &format!("/api/v1/workflows/{workflow}/enrolments"),
            json!({"contact_ids": chunk}),
        )
        .await;
    }
}

/// Waits until every call of the channel has ended (or `limit` passed);
/// how many have not.
async fn until_ended(store: &recado_store::Store, channel: &str, expected: usize, limit: Duration) -> i64 {
    let started = Instant::now();
    loop {
        let (all, open): (i64, i64) = recado_store::on_writer!(store, |pool| {
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT COUNT(*), COALESCE(SUM(CASE WHEN phase <> 'ended' THEN 1 ELSE 0 END), 0) FROM calls WHERE channel_id = $1",
            )
            .bind(channel)
            .fetch_one(pool)
            .await
            .unwrap()
        });
        if (all as usize >= expected && open == 0) || started.elapsed() > limit {
            return open + (expected as i64 - all).max(0);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The messages of the channel by status.
async fn outcomes(store: &recado_store::Store, channel: &str) -> BTreeMap<String, i64> {
    recado_store::on_writer!(store, |pool| {
        sqlx::query_as::<_, (String, i64)>(
            "SELECT m.status, COUNT(*) FROM calls c JOIN messages m ON m.id = c.message_id WHERE c.channel_id = $1 GROUP BY m.status",
        )
        .bind(channel)
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
    })
}

/// When each call of the channel was handed to Asterisk (`VOICE_SENT`), in ms.
async fn sent_times(store: &recado_store::Store, channel: &str) -> Vec<i64> {
    let mut at: Vec<i64> = recado_store::on_writer!(store, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT e.at FROM message_events e JOIN calls c ON c.message_id = e.message_id WHERE c.channel_id = $1 AND e.type = 'sent'",
        )
        .bind(channel)
        .fetch_all(pool)
        .await
        .unwrap()
    });
    at.sort_unstable();
    at
}

/// p50 and p95, in ms, of how long the channel's calls took from the dial
/// to the answer, and from the answer to their end.
async fn call_times(store: &recado_store::Store, channel: &str) -> [(i64, i64); 2] {
    let rows: Vec<(i64, i64, i64)> = recado_store::on_writer!(store, |pool| {
        sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT e.at, c.answered_at, c.ended_at FROM calls c JOIN message_events e ON e.message_id = c.message_id \
             WHERE c.channel_id = $1 AND e.type = 'sent' AND c.answered_at IS NOT NULL AND c.ended_at IS NOT NULL",
        )
        .bind(channel)
        .fetch_all(pool)
        .await
        .unwrap()
    });
    let quantiles = |mut v: Vec<i64>| {
        v.sort_unstable();
        let at = |q: f64| {
            v.get(((v.len() as f64 * q) as usize).min(v.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0)
        };
        (at(0.5), at(0.95))
    };
    [
        quantiles(rows.iter().map(|(sent, answered, _)| answered - sent).collect()),
        quantiles(rows.iter().map(|(_, answered, ended)| ended - answered).collect()),
    ]
}

/// Calls per whole second between the first and the last dial (the two
/// partial seconds at the ends left out).
fn per_second(times: &[i64]) -> Vec<usize> {
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        return Vec::new();
    };
    let seconds = ((last - first) / 1000) as usize;
    let mut counts = vec![0usize; seconds + 1];
    for t in times {
        counts[((t - first) / 1000) as usize] += 1;
    }
    if counts.len() > 2 {
        counts[..counts.len() - 1].to_vec()
    } else {
        counts
    }
}

/// The `le` bound of the bucket holding quantile `q` of a Prometheus
/// histogram in the metrics page.
fn histogram_quantile(page: &str, name: &str, q: f64) -> Option<(f64, f64)> {
    let mut buckets: Vec<(f64, f64)> = page
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{name}_bucket{{le=\"")))
        .filter_map(|rest| {
            let (le, value) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
            Some((le, value.trim().parse().ok()?))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let count = buckets.last()?.1;
    let bound = buckets.iter().find(|(_, c)| *c >= q * count)?.0;
    Some((bound, count))
}

#[tokio::main]
async fn main() {
    let a = args();
    let rig = rig();
    let http = reqwest::Client::new();
    let info = http
        .get(format!("{}/asterisk/info", rig.ari_url))
        .basic_auth(&rig.user, Some(&rig.password))
        .send()
        .await;
    assert!(
        info.is_ok_and(|r| r.status().is_success()),
        "the voice rig's ARI at {} does not answer: start it with `scripts/voice-rig start` (as root)",
        rig.ari_url
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let bench = support::Bench::start("voice", a.database_url.as_deref(), |s| {
        s.listen = format!("127.0.0.1:{port}").parse().expect("an address");
        s.public_url = format!("http://127.0.0.1:{port}");
        s.workers = 2;
    })
    .await;
    let (_, token) = bench.user_with_token("admin").await;
    let support::Bench {
        app,
        state,
        store,
        ws,
        dir,
    } = bench;
    let stop_hub = app.shutdown_handle();
    let server = tokio::spawn(app.run_until_stopped());
    let api = Api {
        http: http.clone(),
        base: format!("http://127.0.0.1:{port}"),
        token,
    };
    println!(
        "backend {:?}, hub on port {port}, Asterisk pid {}",
        store.kind(),
        asterisk_pid()
    );

    // 1. The dial rate.
    let listen = channel(&api, &state, &rig, "listen", "PJSIP/{number}@listen", &a).await;
    let message = workflow(
        &api,
        "Dial rate",
        json!({"type": "send_voice", "channel_id": listen,
               "voice": {"narration": {"kind": "tts", "language": "en", "text": "Your parcel arrives today."}},
               "next": "end"}),
    )
    .await;
    let (peak, stop_watch) = watch_channels(&rig, http.clone());
    let (hub_cpu, ast_cpu, started) = (cpu_seconds("self"), cpu_seconds(&asterisk_pid()), Instant::now());
    enrol_generated(&api, &store, &ws, &message, 0, a.calls).await;
    let enrolled_s = started.elapsed().as_secs_f64();
    let open = until_ended(&store, &listen, a.calls, Duration::from_secs(600)).await;
    let wall = started.elapsed().as_secs_f64();
    let _ = stop_watch.send(true);
    let times = sent_times(&store, &listen).await;
    let seconds = per_second(&times);
    let span = (times.last().unwrap_or(&0) - times.first().unwrap_or(&0)) as f64 / 1000.0;
    println!(
        "dial rate: {} calls enrolled in {enrolled_s:.1} s; {} handed to Asterisk over {span:.1} s = {:.1} calls/s (cap {}); whole seconds: {} , slowest {} fastest {}; {open} not ended",
        a.calls,
        times.len(),
        times.len() as f64 / span.max(0.001),
        a.cps,
        seconds.len(),
        seconds.iter().min().unwrap_or(&0),
        seconds.iter().max().unwrap_or(&0),
    );
    println!(
        "  peak channels in Asterisk {} (max_concurrent {}); outcomes {:?}",
        peak.load(Ordering::Relaxed),
        a.max_concurrent,
        outcomes(&store, &listen).await
    );
    println!("  calls per second: {seconds:?}");
    if seconds.len() >= 60 {
        // The steadiest minute: the 60 whole seconds with the highest mean
        // (the first seconds carry the enrolment's ramp).
        let (start, sum) = (0..=seconds.len() - 60)
            .map(|i| (i, seconds[i..i + 60].iter().sum::<usize>()))
            .max_by_key(|(_, sum)| *sum)
            .unwrap_or((0, 0));
        let window = &seconds[start..start + 60];
        let mean = sum as f64 / 60.0;
        println!(
            "  sustained 60 s (seconds {start}..{}): {mean:.1} calls/s, pacing error {:.1} % of the cap, slowest second {}, fastest {}",
            start + 60,
            100.0 * (mean - f64::from(a.cps)).abs() / f64::from(a.cps),
            window.iter().min().unwrap_or(&0),
            window.iter().max().unwrap_or(&0)
        );
    }
    let [(answer_50, answer_95), (talk_50, talk_95)] = call_times(&store, &listen).await;
    println!(
        "  dial -> answer p50 {answer_50} ms, p95 {answer_95} ms; answer -> end p50 {talk_50} ms, p95 {talk_95} ms (narration {:.1} s)",
        narration_s(&api, "Your parcel arrives today.").await
    );
    println!(
        "  CPU over {wall:.1} s: hub {:.0} % of a core, Asterisk {:.0} % of a core; hub peak RSS {:.0} MB",
        100.0 * (cpu_seconds("self") - hub_cpu) / wall,
        100.0 * (cpu_seconds(&asterisk_pid()) - ast_cpu) / wall,
        peak_rss_mb()
    );

    // 2. IVR calls up at the same time.
    let dtmf = channel(&api, &state, &rig, "dtmf", "PJSIP/{number}@answer-dtmf", &a).await;
    let long = "Our opening hours. ".to_string()
        + &"We are open from nine in the morning to six in the evening, from Monday to Friday, and from ten to two on Saturdays. ".repeat(4);
    let ivr = workflow(
        &api,
        "IVR at once",
        json!({"type": "send_ivr", "channel_id": dtmf,
               "ivr": {"narration": {"kind": "tts", "language": "en", "text": "Hello. For our opening hours, press one. To stop these calls, press nine."},
                       "max_menu_plays": 1,
                       "keys": {"1": {"action": "play", "narration": {"kind": "tts", "language": "en", "text": long}, "then": "hangup"}}},
               "next": "end"}),
    )
    .await;
    let (peak, stop_watch) = watch_channels(&rig, http.clone());
    let (hub_cpu, ast_cpu, started) = (cpu_seconds("self"), cpu_seconds(&asterisk_pid()), Instant::now());
    enrol_generated(&api, &store, &ws, &ivr, a.calls, a.ivr_calls).await;
    let open = until_ended(&store, &dtmf, a.ivr_calls, Duration::from_secs(300)).await;
    let wall = started.elapsed().as_secs_f64();
    let _ = stop_watch.send(true);
    let keys: i64 = recado_store::on_writer!(store, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM message_events e JOIN calls c ON c.message_id = e.message_id WHERE c.channel_id = $1 AND e.type = 'key_pressed'",
        )
        .bind(&dtmf)
        .fetch_one(pool)
        .await
        .unwrap()
    });
    let page = api.text("/metrics").await;
    let p50 = histogram_quantile(&page, "recado_voice_key_seconds", 0.50);
    let p99 = histogram_quantile(&page, "recado_voice_key_seconds", 0.99);
    println!(
        "IVR: {} calls, peak channels in Asterisk {}, {keys} keys recorded, {open} not ended; outcomes {:?}",
        a.ivr_calls,
        peak.load(Ordering::Relaxed),
        outcomes(&store, &dtmf).await
    );
    println!(
        "  DTMF event -> VOICE_KEY_PRESSED committed: p50 <= {:.0} ms, p99 <= {:.0} ms (of {} keys)",
        p50.map_or(f64::NAN, |(b, _)| b * 1000.0),
        p99.map_or(f64::NAN, |(b, _)| b * 1000.0),
        p99.map_or(0.0, |(_, c)| c)
    );
    println!(
        "  CPU over {wall:.1} s: hub {:.0} % of a core, Asterisk {:.0} % of a core; hub peak RSS {:.0} MB",
        100.0 * (cpu_seconds("self") - hub_cpu) / wall,
        100.0 * (cpu_seconds(&asterisk_pid()) - ast_cpu) / wall,
        peak_rss_mb()
    );

    let _ = stop_hub.send(true);
    let _ = server.await;
    let _ = std::fs::remove_dir_all(dir);
}
