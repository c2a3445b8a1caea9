//! The contacts CSV import, its pure part: the input is the uploaded file.
//!
//! - `read_import` (header checks, every line read and checked: property names and values,
//!   phone numbers with and without a default country) never panics; line numbers start after
//!   the header and never go back;
//! - `preview` never panics and shows at most what was asked;
//! - `remap` never panics, and what it writes reads back with the new header and the same
//!   number of records (remap → preview round trip).

#![no_main]

use libfuzzer_sys::fuzz_target;
use recado_core::contact_csv::{preview, read_import, remap};

const PREVIEW_LINES: usize = 5;

fuzz_target!(|data: &[u8]| {
    // The upload handler refuses what is not UTF-8 before the import sees it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    for country in [None, Some("BR")] {
        if let Ok(lines) = read_import(text, country) {
            let mut last = 1;
            for line in &lines {
                assert!(line.line == 0 || line.line > last, "line {} after {last}", line.line);
                if line.line != 0 {
                    last = line.line;
                }
                if let Ok(row) = &line.row {
                    assert!(!row.changes.is_empty());
                }
            }
        }
    }

    let Ok(p) = preview(text, PREVIEW_LINES) else {
        return;
    };
    assert!(p.rows.len() <= PREVIEW_LINES && p.rows.len() <= p.lines);

    // Every other column kept, renamed as the mapping form would.
    let mapping: Vec<Option<String>> = (0..p.headers.len())
        .map(|i| (i % 2 == 0).then(|| format!("col_{i}")))
        .collect();
    if let Ok(out) = remap(text, &mapping) {
        let names: Vec<String> = mapping.iter().flatten().cloned().collect();
        let back = preview(&out, PREVIEW_LINES).expect("remapped CSV reads back");
        assert_eq!(back.headers, names);
        assert_eq!(back.lines, p.lines, "remap keeps every record");
    }
});
