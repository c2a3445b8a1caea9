//! Mono PCM from one sample rate to another, band-limited (rubato's FFT
//! resampler, which filters out what the lower rate cannot carry), trimmed
//! to the input's duration.

use rubato::{FftFixedIn, Resampler};

/// Input frames per chunk handed to the resampler.
pub(super) const CHUNK: usize = 1024;

/// `samples` at `rate_in`, resampled to `rate_out`.
pub fn mono(samples: &[i16], rate_in: u32, rate_out: u32) -> Result<Vec<i16>, String> {
    if rate_in == rate_out {
        return Ok(samples.to_vec());
    }
    let mut resampler =
        FftFixedIn::<f32>::new(rate_in as usize, rate_out as usize, CHUNK, 2, 1).map_err(|e| e.to_string())?;
    let input: Vec<f32> = samples.iter().map(|s| f32::from(*s) / 32_768.0).collect();
    let wanted = (samples.len() as u64 * u64::from(rate_out) / u64::from(rate_in)) as usize;
    let delay = resampler.output_delay();
    let mut out: Vec<f32> = Vec::with_capacity(wanted + delay + CHUNK);
    let mut at = 0;
    while input.len() - at >= resampler.input_frames_next() {
        let n = resampler.input_frames_next();
        let chunk = resampler
            .process(&[&input[at..at + n]], None)
            .map_err(|e| e.to_string())?;
        out.extend_from_slice(&chunk[0]);
        at += n;
    }
    // A last part shorter than a chunk; none when the input is a whole
    // number of chunks (the resampler refuses an empty part).
    if at < input.len() {
        let rest = resampler
            .process_partial(Some(&[&input[at..]]), None)
            .map_err(|e| e.to_string())?;
        out.extend_from_slice(&rest[0]);
    }
    // What the resampler still holds (its delay): flushed with silence.
    while out.len() < wanted + delay {
        let tail = resampler
            .process_partial::<&[f32]>(None, None)
            .map_err(|e| e.to_string())?;
        if tail[0].is_empty() {
            break;
        }
        out.extend_from_slice(&tail[0]);
    }
    Ok(out
        .into_iter()
        .skip(delay)
        .take(wanted)
        .map(|x| (x * 32_767.0).round().clamp(-32_768.0, 32_767.0) as i16)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f32, rate: u32, seconds: f32) -> Vec<i16> {
        (0..(rate as f32 * seconds) as usize)
            .map(|i| ((i as f32 * hz * std::f32::consts::TAU / rate as f32).sin() * 16_000.0) as i16)
            .collect()
    }

    /// The strength of `hz` in `samples` (correlation with a tone of it).
    fn strength(samples: &[i16], hz: f32, rate: u32) -> f32 {
        let (mut re, mut im) = (0f32, 0f32);
        for (i, s) in samples.iter().enumerate() {
            let phase = i as f32 * hz * std::f32::consts::TAU / rate as f32;
            re += f32::from(*s) * phase.cos();
            im += f32::from(*s) * phase.sin();
        }
        (re * re + im * im).sqrt() / samples.len() as f32
    }

    #[test]
    fn resampling_keeps_the_duration() {
        let out = mono(&tone(440.0, 22_050, 1.5), 22_050, 8_000).unwrap();
        assert_eq!(out.len(), 12_000);
    }

    #[test]
    fn a_tone_the_telephone_carries_keeps_its_pitch_and_level() {
        let out = mono(&tone(440.0, 22_050, 1.0), 22_050, 8_000).unwrap();
        let kept = strength(&out, 440.0, 8_000);
        assert!(kept > 7_000.0, "{kept}");
        assert!(strength(&out, 600.0, 8_000) < kept / 20.0);
    }

    #[test]
    fn a_tone_above_the_telephones_band_is_filtered_not_folded_back() {
        // 6 kHz at 8 kHz would fold back to 2 kHz without a filter.
        let out = mono(&tone(6_000.0, 22_050, 1.0), 22_050, 8_000).unwrap();
        assert!(
            strength(&out, 2_000.0, 8_000) < 200.0,
            "{}",
            strength(&out, 2_000.0, 8_000)
        );
    }
}
