//! Frame timings for `bench/ui.sh`. With `BERTH_UI_TRACE=FILE` set, the event loop appends
//! one line per drawn frame to FILE:
//!
//! `frame=N mono_us=T draw_us=D data=0|1 key=0|1 key_us=K update_us=U why=M,M,...`
//!
//! `mono_us` is CLOCK_MONOTONIC when the frame finished drawing (the bench subtracts the
//! stamp it took just before exec, giving the time since process start); `draw_us` is the
//! time spent in `Terminal::draw` (render, diff, write); `data` says whether the first
//! snapshot had arrived; `key` marks the first frame after a key, with `key_us` from
//! reading that key to the end of the frame; `update_us` is the time the messages since
//! the frame before took in `update` and the loop's bookkeeping, and `why` names them
//! (`key:j`, `loaded`, `stats`...), so a slow frame says what it answered. Unset, the
//! loop only tests an `Option`.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::msg::Msg;

#[derive(Default)]
pub struct Trace {
    out: Option<Tracer>,
}

struct Tracer {
    file: File,
    frames: u64,
    /// When the oldest key not yet shown on screen was read.
    key_at: Option<Instant>,
    /// Time spent handling the messages since the last frame.
    update: Duration,
    /// Their names, comma-separated.
    why: String,
}

impl Trace {
    /// Tracing on if `BERTH_UI_TRACE` names a file that can be opened for appending;
    /// a bad path turns tracing off rather than stopping the dashboard.
    pub fn from_env() -> Trace {
        match std::env::var_os("BERTH_UI_TRACE") {
            Some(path) if !path.is_empty() => Trace::to_file(Path::new(&path)),
            _ => Trace::default(),
        }
    }

    /// Tracing into `path` (appended to), or off if it can't be opened.
    pub fn to_file(path: &Path) -> Trace {
        let out = File::options()
            .create(true)
            .append(true)
            .open(path)
            .ok()
            .map(|file| Tracer {
                file,
                frames: 0,
                key_at: None,
                update: Duration::ZERO,
                why: String::new(),
            });
        Trace { out }
    }

    /// A key was read: the next frame is the one that answers it.
    pub fn key(&mut self) {
        if let Some(t) = &mut self.out {
            t.key_at.get_or_insert_with(Instant::now);
        }
    }

    /// Call before handling `msg`; pass the result to [`Trace::handled`].
    pub fn handling(&mut self, msg: &Msg) -> Option<Instant> {
        let t = self.out.as_mut()?;
        if !t.why.is_empty() {
            t.why.push(',');
        }
        label(msg, &mut t.why);
        Some(Instant::now())
    }

    /// Call when the message (its update and effects) is handled.
    pub fn handled(&mut self, started: Option<Instant>) {
        if let (Some(t), Some(started)) = (&mut self.out, started) {
            t.update += started.elapsed();
        }
    }

    /// Call before drawing; pass the result to [`Trace::frame`].
    pub fn start(&self) -> Option<Instant> {
        self.out.as_ref().map(|_| Instant::now())
    }

    /// Call after drawing: writes the frame's line.
    pub fn frame(&mut self, started: Option<Instant>, data: bool) {
        let (Some(t), Some(started)) = (&mut self.out, started) else {
            return;
        };
        let done = Instant::now();
        t.frames += 1;
        let key = t.key_at.take().map(|at| done.duration_since(at));
        let line = format!(
            "frame={} mono_us={} draw_us={} data={} key={} key_us={} update_us={} why={}\n",
            t.frames,
            monotonic_us(),
            done.duration_since(started).as_micros(),
            u8::from(data),
            u8::from(key.is_some()),
            key.map_or(0, |k| k.as_micros()),
            std::mem::take(&mut t.update).as_micros(),
            if t.why.is_empty() { "-" } else { &t.why },
        );
        t.why.clear();
        // A full disk only loses trace lines.
        let _ = t.file.write_all(line.as_bytes());
    }
}

/// A message's short name for the trace's `why`: the key itself for a key.
fn label(msg: &Msg, out: &mut String) {
    use crossterm::event::KeyCode;
    use std::fmt::Write as _;
    let name = match msg {
        Msg::Key(key) => {
            out.push_str("key:");
            let _ = match key.code {
                KeyCode::Char(c) => write!(out, "{c}"),
                other => write!(out, "{other:?}"),
            };
            return;
        }
        Msg::Mouse { .. } => "mouse",
        Msg::Resize => "resize",
        Msg::Tick => "tick",
        Msg::Loaded(_) => "loaded",
        Msg::Stats(_) => "stats",
        Msg::Events(_) => "events",
        Msg::LinksChanged => "links",
        Msg::Networks(_) => "networks",
        Msg::NetworkSample { .. } => "network-sample",
        Msg::VolumeSizes(_) => "volume-sizes",
        Msg::Detail(_) => "detail",
        Msg::Preview { .. } => "preview",
        Msg::Done { .. } => "done",
        Msg::VerbStarted { .. } | Msg::VerbChunk { .. } | Msg::VerbOutput { .. } => "verb",
        Msg::HandedBack { .. } => "handed-back",
        Msg::Listed { .. } | Msg::CopyEntry { .. } | Msg::CopyTick | Msg::Copied(_) => "files",
        Msg::PullEvents(_) | Msg::Pulled(_) => "pull",
        Msg::BuildEvents(_) | Msg::Built(_) | Msg::Efficiency(_) | Msg::BuildNotKept(_) => "build",
        Msg::ProjectFiles(_) | Msg::ProjectLogs(_) => "projects",
    };
    out.push_str(name);
}

/// CLOCK_MONOTONIC in microseconds: the clock Python's `time.monotonic_ns` reads, so the
/// bench can compare it with its own stamp.
fn monotonic_us() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid, exclusively borrowed `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u128 * 1_000_000 + ts.tv_nsec as u128 / 1_000
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numeric fields of a line (all but `why`).
    fn fields(line: &str) -> std::collections::HashMap<&str, u128> {
        line.split_whitespace()
            .filter_map(|f| f.split_once('='))
            .filter(|(k, _)| *k != "why")
            .map(|(k, v)| (k, v.parse().expect("a number")))
            .collect()
    }

    fn why(line: &str) -> &str {
        line.rsplit_once(" why=").expect("a why field").1
    }

    #[test]
    fn one_line_per_frame_and_the_key_only_on_the_frame_after_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("trace");
        let mut trace = Trace::to_file(&path);
        let started = trace.start();
        trace.frame(started, false);
        trace.key();
        trace.key();
        let handling = trace.handling(&Msg::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char('j'),
        )));
        std::thread::sleep(std::time::Duration::from_millis(1));
        trace.handled(handling);
        let handling = trace.handling(&Msg::Tick);
        trace.handled(handling);
        let started = trace.start();
        std::thread::sleep(std::time::Duration::from_millis(2));
        trace.frame(started, true);
        let started = trace.start();
        trace.frame(started, true);

        let text = std::fs::read_to_string(&path).expect("trace file");
        let lines: Vec<_> = text.lines().map(fields).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines
                .iter()
                .map(|l| (l["frame"], l["data"], l["key"]))
                .collect::<Vec<_>>(),
            [(1, 0, 0), (2, 1, 1), (3, 1, 0)]
        );
        assert!(lines[1]["draw_us"] >= 2000 && lines[1]["key_us"] >= lines[1]["draw_us"]);
        assert_eq!(lines[2]["key_us"], 0);
        // The messages each frame answered, and the time they took.
        let whys: Vec<&str> = text.lines().map(why).collect();
        assert_eq!(whys, ["-", "key:j,tick", "-"]);
        assert!(lines[1]["update_us"] >= 1000 && lines[1]["key_us"] >= 3000);
        assert_eq!(lines[2]["update_us"], 0);
        assert!(lines[0]["mono_us"] > 0 && lines[0]["mono_us"] <= lines[2]["mono_us"]);
    }

    #[test]
    fn off_when_the_file_cannot_be_opened() {
        let mut trace = Trace::to_file(Path::new("/nonexistent/dir/trace"));
        assert!(trace.start().is_none());
        trace.key();
        trace.frame(None, true);
    }
}
