//! Choosing the encoding and the tables: the heart of [`analyze`].
//!
//! Every GSM alphabet worth trying (the default one, plus the national combinations
//! when a language is given) is walked once to count septets and parts without
//! allocating. The best one is kept; UCS-2 is used only when no GSM alphabet can
//! carry the text under the policy. Only then is the text rebuilt, and only if
//! something was replaced.

use crate::alphabet::{self, entry_cost, Alphabet};
use crate::capacity::Capacity;
use crate::segment::{SegmentCounter, Segmentation};
use crate::transliterate::{compose_cluster, starts_combining_mark, transliterate};
use crate::{Analysis, AnalyzeError, AnalyzeOptions, Encoding, Policy, Replacement, ShiftTables};

/// Analyses `text`: encoding, parts, units, room left, replacements.
///
/// Choice of tables: the default GSM alphabet is the baseline. When
/// `national_language` is given, each of its table combinations (single shift,
/// locking shift, both) is tried too, transliterating under the policy only what that
/// combination lacks. Candidates are ranked by
/// 1. fewest parts (cost comes first),
/// 2. fewest characters replaced (keep the accents when the tables can carry them),
/// 3. fewest header elements (no national header unless it buys something),
/// 4. fewest units (most room left).
///
/// So a national table is used only when it saves a part, or when it keeps
/// characters the default alphabet would have transliterated or sent in UCS-2
/// without costing a part. UCS-2 is used when no GSM candidate can carry the text.
pub fn analyze(text: &str, opts: &AnalyzeOptions) -> Result<Analysis, AnalyzeError> {
    if text.is_empty() {
        return Err(AnalyzeError::EmptyText);
    }
    let transliterating = opts.policy == Policy::Transliterate;

    // Fast path: plain ASCII that the default alphabet carries as is.
    if opts.national_language.is_none() && text.is_ascii() {
        if let Some(seg) = count_ascii(text.as_bytes()) {
            return Ok(gsm_analysis(text.to_owned(), Vec::new(), seg, &alphabet::DEFAULT, opts));
        }
    }

    let mut best = evaluate(text, &alphabet::DEFAULT, transliterating);
    let mut failures: Vec<Vec<&str>> = Vec::new();
    if let Some(language) = opts.national_language {
        for &candidate in alphabet::national_alphabets(language) {
            let outcome = evaluate(text, candidate, transliterating);
            match (&mut best, outcome) {
                (Outcome::Failed(_), Outcome::Carried(c)) => best = Outcome::Carried(c),
                (Outcome::Carried(b), Outcome::Carried(c)) if c.rank() < b.rank() => *b = c,
                (_, Outcome::Failed(culprits)) => failures.push(culprits),
                _ => {}
            }
        }
    }

    match best {
        Outcome::Carried(carried) => {
            let (sent, replaced) = if carried.replacements == 0 {
                (text.to_owned(), Vec::new())
            } else {
                rebuild(text, carried.alphabet, transliterating)
            };
            Ok(gsm_analysis(
                sent,
                replaced,
                carried.segmentation,
                carried.alphabet,
                opts,
            ))
        }
        Outcome::Failed(default_culprits) => {
            // Report the culprits of the table set that came closest, so that a user
            // who chose a national language is not told about characters it carries.
            // (On a tie the default alphabet's list wins: `min_by_key` keeps the first.)
            let culprits = std::iter::once(default_culprits)
                .chain(failures)
                .min_by_key(Vec::len)
                .unwrap_or_default();
            let seg = count_ucs2(text);
            Ok(Analysis {
                encoding: Encoding::Ucs2,
                segments: seg.segments,
                units: seg.units,
                units_per_segment: seg.units_per_segment,
                remaining_in_segment: seg.remaining_in_segment,
                text: text.to_owned(),
                replaced: Vec::new(),
                ucs2_chars: culprits.into_iter().map(str::to_owned).collect(),
                national_language: None,
                exceeds_max_segments: seg.segments > opts.max_segments,
                shift_tables: ShiftTables::DEFAULT,
            })
        }
    }
}

fn gsm_analysis(
    text: String,
    replaced: Vec<Replacement>,
    seg: Segmentation,
    alphabet: &Alphabet,
    opts: &AnalyzeOptions,
) -> Analysis {
    Analysis {
        encoding: Encoding::Gsm7,
        segments: seg.segments,
        units: seg.units,
        units_per_segment: seg.units_per_segment,
        remaining_in_segment: seg.remaining_in_segment,
        text,
        replaced,
        ucs2_chars: Vec::new(),
        national_language: alphabet.tables.language(),
        exceeds_max_segments: seg.segments > opts.max_segments,
        shift_tables: alphabet.tables,
    }
}

/// Septets and parts of pure ASCII text in the default alphabet, or `None` if a
/// byte is not in it (then the general path decides).
fn count_ascii(bytes: &[u8]) -> Option<Segmentation> {
    let capacity = Capacity::gsm7(0);
    let alphabet = &alphabet::DEFAULT;
    let mut septets = 0u32;
    let mut escapes = 0u32;
    for &b in bytes {
        let cost = entry_cost(alphabet.lookup_ascii(b));
        if cost == 0 {
            return None;
        }
        septets += cost;
        escapes += cost >> 1;
    }
    if escapes == 0 || septets <= capacity.single {
        // Without ESC sequences every part is filled to the brim.
        let mut counter = SegmentCounter::new(capacity);
        counter.push_run(septets);
        return Some(counter.finish(capacity));
    }
    let mut counter = SegmentCounter::new(capacity);
    for &b in bytes {
        counter.push(entry_cost(alphabet.lookup_ascii(b)));
    }
    Some(counter.finish(capacity))
}

fn count_ucs2(text: &str) -> Segmentation {
    let capacity = Capacity::ucs2();
    let mut counter = SegmentCounter::new(capacity);
    for c in text.chars() {
        counter.push(c.len_utf16() as u32);
    }
    counter.finish(capacity)
}

/// A GSM alphabet that can carry the text.
struct Carried {
    alphabet: &'static Alphabet,
    segmentation: Segmentation,
    replacements: u32,
}

impl Carried {
    fn rank(&self) -> (u32, u32, u32, u32) {
        (
            self.segmentation.segments,
            self.replacements,
            self.alphabet.tables.header_elements(),
            self.segmentation.units,
        )
    }
}

enum Outcome<'t> {
    Carried(Carried),
    /// Distinct characters the alphabet could not carry, in order of appearance.
    Failed(Vec<&'t str>),
}

fn evaluate<'t>(text: &'t str, alphabet: &'static Alphabet, transliterating: bool) -> Outcome<'t> {
    let capacity = Capacity::gsm7(alphabet.tables.header_elements());
    let mut counter = Counting {
        counter: SegmentCounter::new(capacity),
        replacements: 0,
        culprits: Vec::new(),
    };
    walk(text, alphabet, transliterating, &mut counter);
    if counter.culprits.is_empty() {
        Outcome::Carried(Carried {
            alphabet,
            segmentation: counter.counter.finish(capacity),
            replacements: counter.replacements,
        })
    } else {
        Outcome::Failed(counter.culprits)
    }
}

fn rebuild(text: &str, alphabet: &Alphabet, transliterating: bool) -> (String, Vec<Replacement>) {
    let mut builder = Building {
        source: text,
        run: 0..0,
        text: String::with_capacity(text.len() + 8),
        replaced: Vec::with_capacity(4),
    };
    walk(text, alphabet, transliterating, &mut builder);
    builder.flush();
    (builder.text, builder.replaced)
}

/// Receives what [`walk`] decides for each character of the source text.
trait Visitor<'t> {
    /// One GSM character of `cost` septets goes out (1, or 2 for an ESC sequence).
    fn septets(&mut self, cost: u32);
    /// `source` (one character) is sent as is.
    fn kept(&mut self, source: &'t str);
    /// `from` (a character, or a letter with combining marks) is sent as `to`.
    fn replaced(&mut self, from: &'t str, to: &str);
    /// `culprit` cannot be carried: the message will not go out in this alphabet.
    fn failed(&mut self, culprit: &'t str);
}

struct Counting<'t> {
    counter: SegmentCounter,
    replacements: u32,
    culprits: Vec<&'t str>,
}

impl<'t> Visitor<'t> for Counting<'t> {
    #[inline(always)]
    fn septets(&mut self, cost: u32) {
        self.counter.push(cost);
    }
    #[inline(always)]
    fn kept(&mut self, _: &'t str) {}
    #[inline(always)]
    fn replaced(&mut self, _: &'t str, _: &str) {
        self.replacements += 1;
    }
    #[cold]
    fn failed(&mut self, culprit: &'t str) {
        if !self.culprits.contains(&culprit) {
            self.culprits.push(culprit);
        }
    }
}

/// Rebuilds the text. Runs of kept characters are copied in one go: `kept` slices
/// are sub-slices of `source`, so a run is just a byte range of it.
struct Building<'t> {
    source: &'t str,
    run: std::ops::Range<usize>,
    text: String,
    replaced: Vec<Replacement>,
}

impl Building<'_> {
    fn flush(&mut self) {
        self.text.push_str(&self.source[self.run.clone()]);
        self.run = self.run.end..self.run.end;
    }
}

impl<'t> Visitor<'t> for Building<'t> {
    fn septets(&mut self, _: u32) {}
    #[inline(always)]
    fn kept(&mut self, kept: &'t str) {
        let start = kept.as_ptr() as usize - self.source.as_ptr() as usize;
        if start != self.run.end {
            self.flush();
            self.run = start..start;
        }
        self.run.end = start + kept.len();
    }
    fn replaced(&mut self, from: &'t str, to: &str) {
        self.flush();
        self.text.push_str(to);
        if !self.replaced.iter().any(|r| r.from == from) {
            self.replaced.push(Replacement {
                from: from.to_owned(),
                to: to.to_owned(),
            });
        }
    }
    fn failed(&mut self, _: &'t str) {}
}

/// Walks `text` once, deciding for each character whether `alphabet` carries it,
/// transliterates it (when `transliterating`) or cannot carry it.
#[inline]
fn walk<'t, V: Visitor<'t>>(text: &'t str, alphabet: &Alphabet, transliterating: bool, v: &mut V) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            let entry = alphabet.lookup_ascii(b);
            if entry != 0 && !(transliterating && starts_combining_mark(bytes, i + 1)) {
                v.septets(entry_cost(entry));
                v.kept(&text[i..i + 1]);
                i += 1;
                continue;
            }
        }
        let (c, end) = match decode_latin1(bytes, i) {
            Some(c) => (c, i + 2),
            None => match text[i..].chars().next() {
                Some(c) => (c, i + c.len_utf8()),
                None => break,
            },
        };
        if transliterating && starts_combining_mark(bytes, end) {
            let (composed, cluster_end) = compose_cluster(text, c, end);
            let mut buf = [0u8; 4];
            let entry = alphabet.lookup(composed);
            if entry != 0 {
                v.septets(entry_cost(entry));
                v.replaced(&text[i..cluster_end], composed.encode_utf8(&mut buf));
            } else if let Some(to) = transliterate(composed).filter(|to| representable(alphabet, to)) {
                emit_replacement(alphabet, v, &text[i..cluster_end], to);
            } else {
                v.failed(&text[i..end]);
            }
            i = cluster_end;
            continue;
        }
        let entry = alphabet.lookup(c);
        if entry != 0 {
            v.septets(entry_cost(entry));
            v.kept(&text[i..end]);
        } else if let Some(to) = transliterating
            .then(|| transliterate(c))
            .flatten()
            .filter(|to| representable(alphabet, to))
        {
            emit_replacement(alphabet, v, &text[i..end], to);
        } else {
            v.failed(&text[i..end]);
        }
        i = end;
    }
}

/// Decodes U+0080–U+00FF (two-byte UTF-8 starting C2 or C3) without the general
/// decoder: accented Latin letters are most of the non-ASCII text Recado sees.
#[inline(always)]
fn decode_latin1(bytes: &[u8], i: usize) -> Option<char> {
    match bytes[i] {
        lead @ (0xC2 | 0xC3) => {
            let cont = *bytes.get(i + 1)?;
            Some(char::from((lead & 0x03) << 6 | (cont & 0x3F)))
        }
        _ => None,
    }
}

#[inline]
fn representable(alphabet: &Alphabet, s: &str) -> bool {
    alphabet.cost_of_str(s).is_some()
}

#[inline]
fn emit_replacement<'t, V: Visitor<'t>>(alphabet: &Alphabet, v: &mut V, from: &'t str, to: &str) {
    for c in to.chars() {
        v.septets(entry_cost(alphabet.lookup(c)));
    }
    v.replaced(from, to);
}

/// The alphabet an analysis chose, for [`crate::plan`].
pub(crate) fn alphabet_of(analysis: &Analysis) -> &'static Alphabet {
    alphabet::alphabet_for(analysis.shift_tables).unwrap_or(&alphabet::DEFAULT)
}
