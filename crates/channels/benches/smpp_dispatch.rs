//! How many `submit_sm` per second the ESME reaches against a local SMSC.
//!
//! Two peers: the test SMSC of the interop tests (node, the npm `smpp` package; no receipts,
//! no recording) and a minimal SMSC in this process on `rusmpp`'s codec that only answers,
//! to show the ESME's own ceiling when the node SMSC is the bottleneck. Each run submits
//! single-part messages from many tasks at once through one bind, with no throughput limit.
//!
//! ```sh
//! CARGO_TARGET_DIR=/work/target-sms-providers cargo bench -p recado-channels --bench smpp_dispatch
//! ```
//! Knobs: `SMPP_BENCH_MESSAGES` (default 50000), `SMPP_BENCH_WINDOW` (default 64).

use std::time::{Duration, Instant};

use futures::{FutureExt, SinkExt, StreamExt};
use recado_channels::sms::smpp::{parts_from_plan, start, SmppConfig};
use recado_channels::sms::testkit::TestSmsc;
use recado_sms::{plan, AnalyzeOptions};
use rusmpp::pdus::{BindTransceiverResp, SubmitSmResp};
use rusmpp::tokio_codec::CommandCodec;
use rusmpp::types::COctetString;
use rusmpp::{Command, CommandId, CommandStatus, Pdu};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::codec::Framed;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// CPU seconds (user + system) of a process so far, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

struct Run {
    rate: f64,
    elapsed: Duration,
    esme_cpu: f64,
    peer_cpu: Option<f64>,
}

async fn run(config: SmppConfig, messages: usize, peer_pid: Option<String>) -> Run {
    let (events_tx, mut events) = mpsc::channel(1024);
    let handle = start(config, events_tx);
    // Receipts are off; drain whatever comes so the session never waits on this channel.
    let drain = tokio::spawn(async move { while events.recv().await.is_some() {} });
    assert!(
        handle.wait_bound(Duration::from_secs(10)).await,
        "the bench ESME did not bind"
    );
    let parts = parts_from_plan(&plan("Your code is 123456", &AnalyzeOptions::default(), 0).unwrap());
    let tasks = 256;
    let per_task = messages / tasks;
    let esme_before = cpu_seconds("self").unwrap_or(0.0);
    let peer_before = peer_pid.as_deref().and_then(cpu_seconds);
    let started = Instant::now();
    let mut joins = Vec::with_capacity(tasks);
    for t in 0..tasks {
        let handle = handle.clone();
        let parts = parts.clone();
        joins.push(tokio::spawn(async move {
            for i in 0..per_task {
                let to = format!("+55119{:04}{:04}", t, i % 10_000);
                handle.submit("Recado", &to, parts.clone()).await.expect("accepted");
            }
        }));
    }
    for join in joins {
        join.await.unwrap();
    }
    let elapsed = started.elapsed();
    let sent = per_task * tasks;
    let run = Run {
        rate: sent as f64 / elapsed.as_secs_f64(),
        elapsed,
        esme_cpu: cpu_seconds("self").unwrap_or(0.0) - esme_before,
        peer_cpu: peer_pid
            .as_deref()
            .and_then(cpu_seconds)
            .zip(peer_before)
            .map(|(a, b)| a - b),
    };
    handle.shutdown().await;
    drain.abort();
    run
}

/// An SMSC that binds anyone and acknowledges every submit at once.
async fn answering_smsc() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            stream.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let mut framed = Framed::new(stream, CommandCodec::new());
                let mut next_id: u64 = 0;
                while let Some(Ok(command)) = framed.next().await {
                    if framed.feed(answer_for(&command, &mut next_id)).await.is_err() {
                        return;
                    }
                    // Answer everything already read, then write once, as the ESME batches.
                    while let Some(Some(Ok(command))) = framed.next().now_or_never() {
                        if framed.feed(answer_for(&command, &mut next_id)).await.is_err() {
                            return;
                        }
                    }
                    if SinkExt::<Command>::flush(&mut framed).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn answer_for(command: &Command, next_id: &mut u64) -> Command {
    let pdu: Pdu = match command.id() {
        CommandId::BindTransceiver => BindTransceiverResp::builder()
            .system_id(COctetString::from_string("sink".into()).unwrap())
            .build()
            .into(),
        CommandId::SubmitSm => {
            *next_id += 1;
            SubmitSmResp::builder()
                .message_id(COctetString::from_string(format!("{next_id:X}")).unwrap())
                .build()
                .into()
        }
        CommandId::EnquireLink => Pdu::EnquireLinkResp,
        CommandId::Unbind => Pdu::UnbindResp,
        _ => Pdu::GenericNack,
    };
    Command::new(CommandStatus::EsmeRok, command.sequence_number(), pdu)
}

fn report(name: &str, window: usize, run: &Run) {
    let peer = run
        .peer_cpu
        .map(|c| format!(", SMSC CPU {:.0}% of one core", 100.0 * c / run.elapsed.as_secs_f64()))
        .unwrap_or_default();
    println!(
        "{name}: window {window}: {:.0} submits/s ({:.2} s), ESME process CPU {:.0}% of one core{peer}",
        run.rate,
        run.elapsed.as_secs_f64(),
        100.0 * run.esme_cpu / run.elapsed.as_secs_f64()
    );
}

fn main() {
    let messages = env_number("SMPP_BENCH_MESSAGES", 50_000);
    let window = env_number("SMPP_BENCH_WINDOW", 64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let port = answering_smsc().await;
        let mut config = SmppConfig::new("127.0.0.1", port, "bench", "bench");
        config.window = window;
        let run_ = run(config, messages, None).await;
        report("in-process answering SMSC (rusmpp codec)", window, &run_);

        match TestSmsc::start(&["--no-receipts", "--no-record"]).await {
            Ok(smsc) => {
                let mut config = smsc.esme_config();
                config.window = window;
                let pid = smsc.pid().map(|p| p.to_string());
                let run_ = run(config, messages, pid).await;
                report("node SMSC (npm smpp)", window, &run_);
                smsc.stop().await;
            }
            Err(e) => println!("node SMSC skipped: {e}"),
        }
    });
}
