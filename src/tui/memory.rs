//! What the dashboard keeps resident. It runs for hours beside the containers it watches,
//! so its footprint is measured (`bench/ui.sh`: RSS with 1,000 containers) and kept small
//! where glibc's defaults and a one-off start would leave memory behind:
//!
//! - one malloc arena: each thread that allocates (the loads on blocking threads, the
//!   snapshot's reader beside them) otherwise gets an arena of its own, whose freed pages
//!   stay with it; the dashboard allocates little and rarely, so contention is no cost;
//! - once the loop has gone quiet after a load (no key, no other load for a moment), a
//!   trim of what the start or the load freed (the snapshot replaced, the reads' buffers),
//!   and the mappings of the program's code run until then (argument parsing, the engine's
//!   opening, the views visited) are dropped: the pages stay in the page cache, and the
//!   loop faults back only the code it runs. Not at once after each load: a key arriving
//!   meanwhile would wait for the trim, and the start's second load (the events journal's
//!   backlog) comes right after the first, leaving the first one's pages behind.

use std::time::{Duration, Instant};

/// Makes every thread allocate from the main arena. Call before any thread starts.
pub fn one_arena() {
    // SAFETY: mallopt sets a tunable of glibc's allocator; no memory is touched.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// How long the loop stays without keys or loads before a load's leftovers go back.
pub const QUIET: Duration = Duration::from_secs(2);

/// When the memory a load leaves behind goes back: the loop tells it of loads and keys,
/// and asks after each frame.
#[derive(Debug, Default)]
pub struct Release {
    /// A load arrived since the last release.
    pending: bool,
    /// The last load or key.
    busy_at: Option<Instant>,
}

impl Release {
    /// A load arrived (`load`) or a key: the release waits for the loop to be quiet.
    pub fn busy(&mut self, load: bool, now: Instant) {
        self.pending |= load;
        self.busy_at = Some(now);
    }

    /// True once, when a load is pending and nothing kept the loop busy for [`QUIET`].
    pub fn due(&mut self, now: Instant) -> bool {
        let quiet = self
            .busy_at
            .is_none_or(|at| now.saturating_duration_since(at) >= QUIET);
        let due = self.pending && quiet;
        if due {
            self.pending = false;
        }
        due
    }
}

/// Gives back what the loop no longer uses: the allocator's free pages and the program's
/// code pages (see the module's comment). Call between frames, when [`Release::due`].
pub fn release() {
    // SAFETY: malloc_trim only returns free memory; nothing in use moves.
    unsafe {
        libc::malloc_trim(0);
    }
    drop_code_pages();
}

/// Unmaps this program's executable pages from the page tables (`MADV_DONTNEED` on its
/// `r-xp` mapping): a private file mapping never written, so the pages come back from the
/// page cache as the code runs. Only the mapping that holds this function is touched, and
/// nothing if it can't be found.
fn drop_code_pages() {
    let here = drop_code_pages as *const () as usize;
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return;
    };
    let Some((start, end)) = maps.lines().find_map(|line| code_mapping(line, here)) else {
        return;
    };
    // SAFETY: [start, end) is a whole mapping of this process's code, read and executed
    // but never written: dropping its pages loses nothing, the next use faults them in.
    unsafe {
        libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
    }
}

/// The range of a `/proc/self/maps` line if it is an executable, unwritable mapping of a
/// file holding `address`.
fn code_mapping(line: &str, address: usize) -> Option<(usize, usize)> {
    let mut fields = line.split_whitespace();
    let (start, end) = fields.next()?.split_once('-')?;
    let perms = fields.next()?;
    let start = usize::from_str_radix(start, 16).ok()?;
    let end = usize::from_str_radix(end, 16).ok()?;
    // Private, executable, not writable: the pages are the file's, unchanged.
    let code = perms.starts_with("r-xp");
    (code && start <= address && address < end).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The release comes once a load is followed by a quiet moment: not while keys or
    /// loads keep coming, not without a load, and once per load.
    #[test]
    fn the_release_waits_for_a_quiet_moment_after_a_load() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut release = Release::default();
        // No load yet: nothing to give back, however quiet.
        assert!(!release.due(at(10_000)));
        release.busy(true, at(0));
        assert!(!release.due(at(1_000)));
        // A key meanwhile puts it off; so does the start's second load.
        release.busy(false, at(1_500));
        assert!(!release.due(at(3_000)));
        release.busy(true, at(3_000));
        assert!(!release.due(at(4_999)));
        assert!(release.due(at(5_000)));
        // Once: keys alone bring no second release.
        assert!(!release.due(at(9_000)));
        release.busy(false, at(9_000));
        assert!(!release.due(at(20_000)));
    }

    #[test]
    fn only_the_code_mapping_holding_the_address_is_dropped() {
        let maps = "558f30213000-558f3048c000 r--p 00000000 00:179 5415871 /berth\n\
                    558f3048c000-558f3124e000 r-xp 00278000 00:179 5415871 /berth\n\
                    558f312c6000-558f312c8000 rw-p 010b0000 00:179 5415871 /berth\n";
        let inside = 0x558f3048c000 + 10;
        let found: Vec<_> = maps
            .lines()
            .filter_map(|l| code_mapping(l, inside))
            .collect();
        assert_eq!(found, [(0x558f3048c000, 0x558f3124e000)]);
        // Written or read-only data holding the address is never touched.
        assert_eq!(
            code_mapping(maps.lines().next().unwrap(), 0x558f30213000),
            None
        );
        assert_eq!(
            code_mapping(maps.lines().nth(2).unwrap(), 0x558f312c6000),
            None
        );
        assert_eq!(code_mapping("garbage", inside), None);
    }

    /// Resident kB of the mapping starting at `start`, from /proc/self/smaps.
    fn resident_kb(start: usize) -> u64 {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let head = format!("{start:x}-");
        let mut lines = smaps.lines().skip_while(|l| !l.starts_with(&head));
        lines
            .find_map(|l| l.strip_prefix("Rss:"))
            .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    #[test]
    fn the_code_pages_are_dropped_and_the_code_runs_on() {
        let here = drop_code_pages as *const () as usize;
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let (start, _) = maps.lines().find_map(|l| code_mapping(l, here)).unwrap();
        let before = resident_kb(start);
        drop_code_pages();
        // Other tests' threads fault back what they run meanwhile, not all a test
        // binary's start touched.
        let after = resident_kb(start);
        assert!(
            after < before,
            "{after} kB resident after the drop, {before} kB before"
        );
        // And this thread's code came back as it ran.
        assert_eq!(
            code_mapping("1000-2000 r-xp 0 0:0 0 /x", 0x1800),
            Some((0x1000, 0x2000))
        );
    }
}
