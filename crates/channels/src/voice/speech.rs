//! Narrations spoken by espeak-ng (Debian's `espeak-ng`) and resampled in
//! process (rubato, band-limited) for the telephone network: 8 kHz, mono,
//! 16-bit PCM WAV, the format Asterisk plays without transcoding and TwiML
//! providers fetch. espeak-ng's library speaks in process, its voice data
//! loaded once, on a few renderer threads ([`super::espeak_lib`]); where the
//! library cannot be loaded, one short `espeak-ng` process per rendering
//! writes its speech to a pipe. Either way it is 22,050 Hz speech, and the
//! hub does the rest.
//!
//! Every rendering is cached on disk by a hash of the voice, the sample rate
//! and the final text (tokens already filled), so a narration said to many
//! contacts alike is rendered once, and a personalised one once per
//! contact. Files are written under a temporary name and renamed, so
//! concurrent renderings of one narration never expose half a file.

use super::espeak_lib::{Renderers, Spoken};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// The sample rate of telephone audio.
pub const TELEPHONE_RATE: u32 = 8_000;

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("the speech engine could not run: {0}")]
    Engine(String),
    #[error("the speech engine failed: {0}")]
    Failed(String),
    #[error("the audio cache cannot be written: {0}")]
    Cache(#[from] std::io::Error),
}

/// Renders narrations into a cache directory.
#[derive(Clone, Debug)]
pub struct Speech {
    cache_dir: PathBuf,
    espeak: PathBuf,
    library: Arc<Renderers>,
}

impl Speech {
    /// A renderer caching under `cache_dir`, with the hub's espeak-ng
    /// renderer threads (started at the first narration), else `espeak-ng`
    /// from the PATH.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Speech {
        Speech {
            cache_dir: cache_dir.into(),
            espeak: "espeak-ng".into(),
            library: Renderers::system(),
        }
    }

    /// A renderer caching under `cache_dir` that speaks with `library`.
    #[cfg(test)]
    fn with_library(cache_dir: impl Into<PathBuf>, library: Arc<Renderers>) -> Speech {
        Speech {
            library,
            ..Speech::new(cache_dir)
        }
    }

    /// The cache file of `text` said by `voice` (an espeak-ng voice such as
    /// `pt-br+f3`) at `rate`.
    pub fn path_of(&self, voice: &str, rate: u32, text: &str) -> PathBuf {
        self.cache_dir.join(format!("{}.wav", cache_key(voice, rate, text)))
    }

    /// The WAV file of `text` said by `voice`, rendered when not cached.
    pub async fn render(&self, voice: &str, text: &str) -> Result<PathBuf, SpeechError> {
        let path = self.path_of(voice, TELEPHONE_RATE, text);
        if tokio::fs::try_exists(&path).await? {
            return Ok(path);
        }
        tokio::fs::create_dir_all(&self.cache_dir).await?;
        let spoken = match self.library.speak(voice, text).await {
            Some(spoken) => Speaking::Samples(spoken.map_err(SpeechError::Failed)?),
            None => Speaking::Wav(self.speak(voice, text).await?),
        };
        // Resampling is a few milliseconds of CPU: off the async threads.
        let wav = tokio::task::spawn_blocking(move || telephone_wav(&spoken))
            .await
            .map_err(|e| SpeechError::Failed(e.to_string()))??;
        let unique = format!("{}.{}", std::process::id(), rand::random::<u64>());
        let part = path.with_extension(format!("{unique}.wav.part"));
        tokio::fs::write(&part, wav).await?;
        tokio::fs::rename(&part, &path).await?;
        Ok(path)
    }

    /// The `espeak-ng` program reads the text on standard input, so no text
    /// is ever taken for an option, and writes a WAV stream at its own rate
    /// (22,050 Hz) to standard output.
    async fn speak(&self, voice: &str, text: &str) -> Result<Vec<u8>, SpeechError> {
        let mut child = Command::new(&self.espeak)
            .arg("-v")
            .arg(voice)
            .arg("--stdout")
            .arg("--stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| SpeechError::Engine(format!("{}: {e}", self.espeak.display())))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(text.as_bytes()).await?;
        }
        let output = child.wait_with_output().await?;
        if !output.status.success() {
            return Err(SpeechError::Failed(
                String::from_utf8_lossy(&output.stderr).trim().to_string(),
            ));
        }
        Ok(output.stdout)
    }
}

/// What espeak-ng said: samples from the library, a WAV stream from the program.
enum Speaking {
    Samples(Spoken),
    Wav(Vec<u8>),
}

/// The telephone WAV of espeak-ng's output; a moment of silence when it
/// said nothing (a text of tokens left empty).
fn telephone_wav(spoken: &Speaking) -> Result<Vec<u8>, SpeechError> {
    match spoken {
        Speaking::Samples(spoken) => telephone_wav_of(&spoken.samples, spoken.rate),
        Speaking::Wav(wav) => telephone_wav_of_stream(wav),
    }
}

/// The telephone WAV of the program's WAV stream.
fn telephone_wav_of_stream(spoken: &[u8]) -> Result<Vec<u8>, SpeechError> {
    if spoken.is_empty() {
        return Ok(silence_wav(SILENCE_MS));
    }
    let reader = hound::WavReader::new(std::io::Cursor::new(spoken))
        .map_err(|e| SpeechError::Failed(format!("the speech engine wrote no WAV: {e}")))?;
    let spec = reader.spec();
    if spec.channels != 1 || spec.bits_per_sample != 16 || spec.sample_format != hound::SampleFormat::Int {
        return Err(SpeechError::Failed(format!("unexpected speech format {spec:?}")));
    }
    // A stream's header announces more samples than it holds: read what is there.
    let samples: Vec<i16> = reader.into_samples::<i16>().map_while(Result::ok).collect();
    telephone_wav_of(&samples, spec.sample_rate)
}

/// The telephone WAV of mono `samples` at `rate`. (The library says an empty
/// text as a few milliseconds of zeros, the program as nothing.)
fn telephone_wav_of(samples: &[i16], rate: u32) -> Result<Vec<u8>, SpeechError> {
    if samples.iter().all(|s| *s == 0) {
        return Ok(silence_wav(SILENCE_MS));
    }
    let resampled = super::resample::mono(samples, rate, TELEPHONE_RATE)
        .map_err(|e| SpeechError::Failed(format!("resampling: {e}")))?;
    Ok(pcm_wav(TELEPHONE_RATE, &resampled))
}

/// A mono 16-bit PCM WAV file of `samples` at `rate`.
fn pcm_wav(rate: u32, samples: &[i16]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    {
        let mut writer = hound::WavWriter::new(&mut out, spec).expect("writing to memory");
        let mut pcm = writer.get_i16_writer(samples.len() as u32);
        for s in samples {
            pcm.write_sample(*s);
        }
        pcm.flush().expect("writing to memory");
        writer.finalize().expect("writing to memory");
    }
    out.into_inner()
}

/// How long the silence of a narration with nothing to say lasts.
const SILENCE_MS: u32 = 200;

/// A telephone-rate PCM WAV file of `ms` milliseconds of silence.
pub fn silence_wav(ms: u32) -> Vec<u8> {
    let data_len = TELEPHONE_RATE / 1000 * ms * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&TELEPHONE_RATE.to_le_bytes());
    wav.extend_from_slice(&(TELEPHONE_RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.resize(44 + data_len as usize, 0);
    wav
}

/// A name for a rendering that changes whenever what is heard changes.
pub fn cache_key(voice: &str, rate: u32, text: &str) -> String {
    let digest = Sha256::new()
        .chain_update(voice.as_bytes())
        .chain_update([0])
        .chain_update(rate.to_be_bytes())
        .chain_update(text.as_bytes())
        .finalize();
    hex::encode(&digest[..16])
}

/// The sample rate and duration in milliseconds of a PCM WAV file's bytes.
pub fn wav_facts(bytes: &[u8]) -> Option<(u32, u64)> {
    if bytes.len() < 44 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return None;
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    // Walk the chunks: `fmt ` gives the rate, `data` the length.
    let (mut at, mut rate, mut block) = (12usize, None, None);
    while at + 8 <= bytes.len() {
        let size = u32_at(at + 4) as usize;
        match &bytes[at..at + 4] {
            b"fmt " if at + 24 <= bytes.len() => {
                rate = Some(u32_at(at + 12));
                block = Some(u32::from(u16_at(at + 20)));
            }
            b"data" => {
                let (rate, block) = (rate?, block?);
                let frames = size.min(bytes.len() - at - 8) as u64 / u64::from(block.max(1));
                return Some((rate, frames * 1000 / u64::from(rate.max(1))));
            }
            _ => {}
        }
        at += 8 + size + (size & 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_key_changes_with_the_voice_the_rate_and_the_text() {
        let base = cache_key("pt-br", 8000, "Olá Ana");
        assert_eq!(base, cache_key("pt-br", 8000, "Olá Ana"));
        assert_ne!(base, cache_key("pt", 8000, "Olá Ana"));
        assert_ne!(base, cache_key("pt-br", 16000, "Olá Ana"));
        assert_ne!(base, cache_key("pt-br", 8000, "Olá Bia"));
        // The separator keeps "ab"+"c" apart from "a"+"bc".
        assert_ne!(cache_key("ab", 8000, "c"), cache_key("a", 8000, "bc"));
    }

    #[test]
    fn silence_is_a_telephone_rate_wav_of_its_length() {
        assert_eq!(wav_facts(&silence_wav(200)), Some((TELEPHONE_RATE, 200)));
    }

    #[tokio::test]
    async fn a_text_with_nothing_to_say_is_a_moment_of_silence() {
        if !espeak_present() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("recado-speech-{}", rand::random::<u64>()));
        let path = Speech::new(&dir).render("en", "").await.unwrap();
        assert_eq!(wav_facts(&std::fs::read(path).unwrap()), Some((TELEPHONE_RATE, 200)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn speech_of_a_whole_number_of_resampler_chunks_is_resampled() {
        use crate::voice::resample::CHUNK;
        for frames in [CHUNK, 3 * CHUNK, 3 * CHUNK + 1] {
            let speech: Vec<i16> = (0..frames).map(|i| (i % 200) as i16 * 50).collect();
            let wav = telephone_wav_of(&speech, 22_050).unwrap();
            let (rate, ms) = wav_facts(&wav).unwrap();
            assert_eq!(rate, TELEPHONE_RATE);
            assert_eq!(ms, frames as u64 * 1000 / 22_050, "{frames} frames");
        }
    }

    #[test]
    fn a_file_that_is_not_a_wav_has_no_facts() {
        assert_eq!(
            wav_facts(b"not audio at all, just some bytes here to be long enough"),
            None
        );
    }

    fn espeak_present() -> bool {
        let present = std::process::Command::new("espeak-ng")
            .arg("--version")
            .output()
            .is_ok();
        if !present {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "espeak-ng is required (scripts/install-test-deps installs it)"
            );
        }
        present
    }

    #[tokio::test]
    async fn a_narration_is_rendered_at_telephone_rate_once_and_then_read_from_the_cache() {
        if !espeak_present() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("recado-speech-{}", rand::random::<u64>()));
        let speech = Speech::new(&dir);
        let path = speech.render("pt-br", "Olá Ana, o seu pedido chegou.").await.unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (rate, ms) = wav_facts(&bytes).expect("a WAV file");
        assert_eq!(rate, TELEPHONE_RATE);
        assert!((800..10_000).contains(&ms), "{ms} ms of speech");
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        let again = speech.render("pt-br", "Olá Ana, o seu pedido chegou.").await.unwrap();
        assert_eq!(again, path);
        assert_eq!(std::fs::metadata(&again).unwrap().modified().unwrap(), modified);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_text_that_looks_like_an_option_is_spoken_not_obeyed() {
        if !espeak_present() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("recado-speech-{}", rand::random::<u64>()));
        let speech = Speech::new(&dir);
        let path = speech.render("en", "--version -w /tmp/x").await.unwrap();
        let (_, ms) = wav_facts(&std::fs::read(path).unwrap()).unwrap();
        assert!(ms > 500, "the words were spoken: {ms} ms");
        let _ = std::fs::remove_dir_all(&dir);
    }

    // espeak-ng's library in process (espeak_lib.rs), against the program.

    use crate::voice::espeak_lib::LIBRARY;

    /// A library that is nowhere.
    const MISSING: &str = "/nonexistent/libespeak-ng.so.1";

    fn scratch() -> PathBuf {
        std::env::temp_dir().join(format!("recado-speech-{}", rand::random::<u64>()))
    }

    /// Whether espeak-ng's library loads here; on CI it must.
    async fn library_present() -> bool {
        if !espeak_present() {
            return false;
        }
        let present = Arc::new(Renderers::at(LIBRARY, 1)).threads().await.is_some();
        if !present {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "libespeak-ng.so.1 is required (installed with espeak-ng by scripts/install-test-deps)"
            );
        }
        present
    }

    fn seconds(spoken: &Spoken) -> f64 {
        spoken.samples.len() as f64 / f64::from(spoken.rate)
    }

    /// `text` said by the `espeak-ng` program, as samples.
    async fn said_by_the_program(voice: &str, text: &str) -> Spoken {
        let wav = Speech::with_library(scratch(), Arc::new(Renderers::at(MISSING, 1)))
            .speak(voice, text)
            .await
            .unwrap();
        let reader = hound::WavReader::new(std::io::Cursor::new(wav)).unwrap();
        let rate = reader.spec().sample_rate;
        let samples = reader.into_samples::<i16>().map_while(Result::ok).collect();
        Spoken { rate, samples }
    }

    async fn said_by(renderers: &Arc<Renderers>, voice: &str, text: &str) -> Spoken {
        renderers
            .speak(voice, text)
            .await
            .expect("the library is loaded")
            .expect("the text is spoken")
    }

    #[tokio::test]
    async fn a_narration_spoken_by_the_library_is_telephone_audio_of_a_plausible_length() {
        if !library_present().await {
            return;
        }
        let renderers = Arc::new(Renderers::at(LIBRARY, 2));
        assert_eq!(renderers.threads().await, Some(2));
        renders_telephone_speech(renderers).await;
    }

    /// A sentence rendered through `renderers` (or the program behind
    /// them) is telephone-rate speech of a plausible length.
    async fn renders_telephone_speech(renderers: Arc<Renderers>) {
        let dir = scratch();
        let speech = Speech::with_library(&dir, renderers);
        let path = speech.render("pt-br", "Olá Ana, o seu pedido chegou.").await.unwrap();
        let (rate, ms) = wav_facts(&std::fs::read(&path).unwrap()).expect("a WAV file");
        assert_eq!(rate, TELEPHONE_RATE);
        assert!((800..10_000).contains(&ms), "{ms} ms of speech");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_library_and_the_program_say_a_text_in_the_same_time() {
        if !library_present().await {
            return;
        }
        let renderers = Arc::new(Renderers::at(LIBRARY, 1));
        for (voice, text) in [
            (
                "pt-br",
                "Olá Ana, o seu pedido número 42 chegou. Tecle 1 para falar com um agente.",
            ),
            (
                "en+f3",
                "Hello Ana, your order has arrived. Press 1 to speak to an agent.",
            ),
            ("es", "Hola Ana, su pedido ha llegado."),
        ] {
            let library = said_by(&renderers, voice, text).await;
            let program = said_by_the_program(voice, text).await;
            assert_eq!(library.rate, program.rate, "{voice}");
            let (library, program) = (seconds(&library), seconds(&program));
            assert!(program > 1.0, "{voice}: the program said {program:.2} s");
            assert!(
                (library - program).abs() <= 0.1 * program,
                "{voice}: {library:.2} s from the library, {program:.2} s from the program"
            );
        }
    }

    /// Whether `a` and `b` last as long, give or take `share` of `b`.
    fn as_long(a: &Spoken, b: &Spoken, share: f64) -> bool {
        (seconds(a) - seconds(b)).abs() <= share * seconds(b)
    }

    #[tokio::test]
    async fn a_renderer_that_spoke_in_other_voices_says_a_text_as_the_program_does() {
        if !library_present().await {
            return;
        }
        let renderers = Arc::new(Renderers::at(LIBRARY, 1));
        let text = "Olá Bruno, o seu código é 4 8 1 5.";
        let program = said_by_the_program("pt-br", text).await;
        let first = said_by(&renderers, "pt-br", text).await;
        said_by(&renderers, "en+m3", "Something else, in another voice and language.").await;
        said_by(&renderers, "pt-br+f3", "Outra voz.").await;
        said_by(&renderers, "pt-br", "").await;
        let again = said_by(&renderers, "pt-br", text).await;
        // A fresh instance says it exactly as the program; one that has
        // spoken before starts from its last state (a few samples apart).
        assert!(
            first == program,
            "{} samples, the program {}",
            first.samples.len(),
            program.samples.len()
        );
        assert!(
            as_long(&again, &program, 0.05),
            "{:.3} s, the program {:.3} s",
            seconds(&again),
            seconds(&program)
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_renderings_each_speak_their_own_text() {
        if !library_present().await {
            return;
        }
        let renderers = Arc::new(Renderers::at(LIBRARY, 3));
        assert_eq!(renderers.threads().await, Some(3), "three instances of the library");
        let short = "Olá.";
        let long = "Olá Gabriela, o seu pedido número 1234 chegou. Tecle 1 para falar com um agente, 2 para receber o código por SMS.";
        let alone_short = said_by(&renderers, "pt-br", short).await;
        let alone_long = said_by(&renderers, "pt-br", long).await;
        assert!(seconds(&alone_long) > 4.0 * seconds(&alone_short));
        let renderings = futures::future::join_all((0..24).map(|i| {
            let renderers = renderers.clone();
            let text = if i % 2 == 0 { short } else { long };
            tokio::spawn(async move { (text, said_by(&renderers, "pt-br", text).await) })
        }))
        .await;
        for rendering in renderings {
            let (text, spoken) = rendering.unwrap();
            let alone = if text == short { &alone_short } else { &alone_long };
            assert!(
                as_long(&spoken, alone, 0.05),
                "{text}: {:.3} s, alone {:.3} s",
                seconds(&spoken),
                seconds(alone)
            );
        }
    }

    #[tokio::test]
    async fn without_the_library_narrations_are_spoken_by_the_program() {
        if !espeak_present() {
            return;
        }
        let renderers = Arc::new(Renderers::at(MISSING, 2));
        assert_eq!(renderers.threads().await, None);
        assert!(renderers.speak("pt-br", "Olá").await.is_none());
        renders_telephone_speech(renderers).await;
    }

    #[tokio::test]
    async fn the_copies_of_the_library_leave_no_file_behind() {
        if !library_present().await {
            return;
        }
        let dir = scratch();
        std::fs::create_dir_all(&dir).unwrap();
        let renderers = Arc::new(Renderers::at(LIBRARY, 2).copying_under(&dir));
        assert_eq!(renderers.threads().await, Some(2));
        said_by(&renderers, "en", "Hello.").await;
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(left.is_empty(), "left behind: {left:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_voice_the_library_does_not_know_is_refused() {
        if !library_present().await {
            return;
        }
        let renderers = Arc::new(Renderers::at(LIBRARY, 1));
        // As `espeak-ng -v zz` fails ("no-such-voice" would be Norwegian, by language).
        let refused = renderers.speak("zz", "Hello").await.expect("the library is loaded");
        assert!(
            matches!(&refused, Err(e) if e.contains("zz")),
            "{:?}",
            refused.map(|s| s.samples.len())
        );
        let dir = scratch();
        let speech = Speech::with_library(&dir, renderers);
        let failed = speech.render("zz", "Hello").await;
        assert!(matches!(failed, Err(SpeechError::Failed(_))), "{failed:?}");
        // The renderer still speaks the next narration.
        assert!(speech.render("en", "Hello").await.is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn markup_in_a_text_is_spoken_by_the_library_not_obeyed() {
        if !library_present().await {
            return;
        }
        let renderers = Arc::new(Renderers::at(LIBRARY, 1));
        let text = "<speak><break time=\"20s\"/>Hello</speak>";
        let library = seconds(&said_by(&renderers, "en", text).await);
        let program = seconds(&said_by_the_program("en", text).await);
        assert!(library < 10.0, "no 20 s pause: {library:.2} s");
        assert!(
            (library - program).abs() <= 0.1 * program,
            "{library:.2} s, the program {program:.2} s"
        );
    }
}
