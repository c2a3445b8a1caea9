//! Narrations rendered per second by the local speech engine (espeak-ng's
//! library on the hub's renderer threads, or the `espeak-ng` program where the
//! library cannot be loaded; resampled in process to 8 kHz WAV), as calls need
//! them: personalised texts, each one new, rendered `SPEECH_BENCH_CONCURRENCY`
//! at a time; then the cost of a cached narration (a call to a contact whose
//! narration was already rendered).
//!
//! SPEECH_BENCH_NARRATIONS=400 SPEECH_BENCH_CONCURRENCY=4 cargo bench -p recado-channels --bench speech_render

use recado_channels::voice::speech::Speech;
use std::sync::Arc;
use std::time::Instant;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let narrations = env("SPEECH_BENCH_NARRATIONS", 400);
    let concurrency = env("SPEECH_BENCH_CONCURRENCY", 4);
    let dir = std::env::temp_dir().join(format!("recado-speech-bench-{}", std::process::id()));
    let speech = Arc::new(Speech::new(&dir));
    let names = ["Ana", "Bruno", "Carla", "Diego", "Eva", "Fábio", "Gabriela", "Hugo"];
    let texts: Vec<String> = (0..narrations)
        .map(|i| {
            format!(
                "Olá {}, o seu pedido número {i} chegou. Tecle 1 para falar com um agente, 2 para receber o código por SMS.",
                names[i % names.len()]
            )
        })
        .collect();
    let texts = Arc::new(texts);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let began = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (speech, texts, next) = (speech.clone(), texts.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(text) = texts.get(i) else { return };
                    speech.render("pt-br", text).await.expect("a rendered narration");
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let elapsed = began.elapsed().as_secs_f64();
    println!(
        "rendered {narrations} new narrations ({concurrency} at a time) in {elapsed:.2} s: {:.1} narrations/s",
        narrations as f64 / elapsed
    );
    let began = Instant::now();
    for text in texts.iter() {
        speech.render("pt-br", text).await.expect("a cached narration");
    }
    let per_hit_us = began.elapsed().as_secs_f64() * 1e6 / narrations as f64;
    println!("cached narration: {per_hit_us:.0} µs each");
    let _ = std::fs::remove_dir_all(&dir);
}
