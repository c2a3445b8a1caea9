//! Splitting a message into parts.
//!
//! A message is a sequence of indivisible items: a GSM character (1 septet, or 2 for
//! an ESC sequence) or a UCS-2 character (1 unit, or 2 for a surrogate pair). If the
//! whole message fits the single-message capacity it is sent alone, without a
//! concatenation header. Otherwise every part carries the header, and parts are filled
//! greedily: an item that does not fit in what is left of a part starts the next one,
//! so a part may end one unit short. Filling greedily in order gives the fewest parts
//! for contiguous splitting, and it is what handsets and SMSCs do.

use crate::capacity::Capacity;
use std::ops::Range;

/// Counts parts while items are pushed one by one, without storing them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SegmentCounter {
    multi: u32,
    units: u32,
    parts: u32,
    fill: u32,
}

/// The result of counting: what [`crate::Analysis`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segmentation {
    pub segments: u32,
    pub units: u32,
    pub units_per_segment: u32,
    pub remaining_in_segment: u32,
}

impl SegmentCounter {
    pub fn new(capacity: Capacity) -> SegmentCounter {
        SegmentCounter {
            multi: capacity.multi,
            units: 0,
            parts: 1,
            fill: 0,
        }
    }

    /// Adds one indivisible item of `cost` units.
    #[inline(always)]
    pub fn push(&mut self, cost: u32) {
        self.units += cost;
        if self.fill + cost > self.multi {
            self.parts += 1;
            self.fill = cost;
        } else {
            self.fill += cost;
        }
    }

    /// Adds `n` items of one unit each (a run of plain characters).
    pub fn push_run(&mut self, n: u32) {
        self.units += n;
        let room = self.multi - self.fill;
        if n <= room {
            self.fill += n;
        } else {
            let rest = n - room;
            let new_parts = rest.div_ceil(self.multi);
            self.parts += new_parts;
            self.fill = rest - (new_parts - 1) * self.multi;
        }
    }

    pub fn finish(self, capacity: Capacity) -> Segmentation {
        if self.units <= capacity.single {
            Segmentation {
                segments: 1,
                units: self.units,
                units_per_segment: capacity.single,
                remaining_in_segment: capacity.single - self.units,
            }
        } else {
            Segmentation {
                segments: self.parts,
                units: self.units,
                units_per_segment: capacity.multi,
                remaining_in_segment: capacity.multi - self.fill,
            }
        }
    }
}

/// Splits items of the given costs into parts; returns the item ranges of each part.
pub(crate) fn split(costs: &[u32], capacity: Capacity) -> Vec<Range<usize>> {
    let total: u32 = costs.iter().sum();
    if total <= capacity.single {
        let whole = 0..costs.len();
        return vec![whole];
    }
    let mut parts = Vec::new();
    let mut start = 0;
    let mut fill = 0;
    for (i, &cost) in costs.iter().enumerate() {
        if fill + cost > capacity.multi {
            parts.push(start..i);
            start = i;
            fill = 0;
        }
        fill += cost;
    }
    parts.push(start..costs.len());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(costs: &[u32], capacity: Capacity) -> Segmentation {
        let mut counter = SegmentCounter::new(capacity);
        for &c in costs {
            counter.push(c);
        }
        counter.finish(capacity)
    }

    #[test]
    fn escape_pair_moves_whole_to_the_next_part() {
        let mut costs = vec![1; 152];
        costs.push(2);
        costs.extend(std::iter::repeat_n(1, 152));
        let gsm = Capacity::gsm7(0);
        let parts = split(&costs, gsm);
        assert_eq!(parts, vec![0..152, 152..304, 304..305]);
        let seg = count(&costs, gsm);
        assert_eq!(seg.segments, 3);
        assert_eq!(seg.remaining_in_segment, 152);
    }

    #[test]
    fn counter_and_split_agree_on_single_messages() {
        let gsm = Capacity::gsm7(0);
        let seg = count(&[1; 160], gsm);
        assert_eq!(
            (seg.segments, seg.units_per_segment, seg.remaining_in_segment),
            (1, 160, 0)
        );
        assert_eq!(split(&[1; 160], gsm).len(), 1);
    }
}
