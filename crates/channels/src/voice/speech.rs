//! Narrations spoken by espeak-ng (Debian's `espeak-ng`) and resampled in
//! process (rubato, band-limited) for the telephone network: 8 kHz, mono,
//! 16-bit PCM WAV, the format Asterisk plays without transcoding and TwiML
//! providers fetch. One short process per rendering: espeak-ng writes its
//! 22,050 Hz speech to a pipe, the hub does the rest.
//!
//! Every rendering is cached on disk by a hash of the voice, the sample rate
//! and the final text (tokens already filled), so a narration said to many
//! contacts alike is rendered once, and a personalised one once per
//! contact. Files are written under a temporary name and renamed, so
//! concurrent renderings of one narration never expose half a file.

use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::Stdio;
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
}

impl Speech {
    /// A renderer caching under `cache_dir`, with `espeak-ng` from the PATH.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Speech {
        Speech {
            cache_dir: cache_dir.into(),
            espeak: "espeak-ng".into(),
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
        let spoken = self.speak(voice, text).await?;
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

    /// espeak-ng reads the text on standard input, so no text is ever taken
    /// for an option, and writes a WAV stream at its own rate (22,050 Hz) to
    /// standard output.
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

/// The telephone WAV of espeak-ng's output; a moment of silence when it
/// said nothing (a text of tokens left empty).
fn telephone_wav(spoken: &[u8]) -> Result<Vec<u8>, SpeechError> {
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
    if samples.is_empty() {
        return Ok(silence_wav(SILENCE_MS));
    }
    let resampled = super::resample::mono(&samples, spec.sample_rate, TELEPHONE_RATE)
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
}
