//! `cp`: copies between the host and a container with docker cp's rules, which live in
//! [`crate::ops::cp`]; this module reads the flags, draws the progress line, turns
//! ctrl-c into a cancel and prints.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use color_eyre::Result;

use super::interrupt::Interrupt;
use super::output::human_size;
use crate::engine::{sealed, Engine, Progress};
use crate::ops::cp::{self as ops, CpError, Dest, Options, Source, Transfer, Watch};

#[derive(Debug, Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short, long)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link")]
    pub follow_link: bool,
    /// Suppress progress output during copy
    #[arg(short, long)]
    pub quiet: bool,
    /// CONTAINER:SRC_PATH, a host path, or - (a tar stream on stdin)
    pub src: String,
    /// CONTAINER:DEST_PATH, a host path, or - (a tar stream to stdout)
    pub dest: String,
}

pub fn cp(engine: &Engine, args: &CpArgs) -> Result<i32> {
    let transfer = Transfer::parse(&args.src, &args.dest).map_err(report)?;
    let (name, path) = transfer.container();
    enter_sealed_if_running(engine, name, path)?;
    let counter = Progress::new();
    // Ctrl-C, SIGTERM and SIGHUP cancel the copy rather than kill berth in the middle of
    // a file, so the file being written is removed and the old one stays (a SIGKILL
    // leaves the temporary file); a second one ends berth at once.
    let cancel = counter.clone();
    let interrupt = Interrupt::start(move || cancel.cancel())?;
    let options = Options {
        archive: args.archive,
        follow_link: args.follow_link,
    };
    // A tar stream on stdout is data: Docker draws and says nothing around it.
    let quiet = args.quiet || matches!(&transfer, Transfer::Out { dest, .. } if dest == "-");
    let mut line = ProgressLine::new(quiet, transfer.target(), counter.clone());
    let mut watch = Watch::with_tick(counter, |p| line.draw(p));
    let copied = match &transfer {
        Transfer::Out { name, path, dest } => {
            let mut warn = |path: std::path::PathBuf, kind| {
                eprintln!("berth cp: skipped {kind} {}", path.display());
            };
            if dest == "-" {
                let mut stdout = std::io::stdout().lock();
                let tar = Dest::Tar(&mut stdout);
                ops::copy_out(engine, name, path, tar, options, &mut watch, &mut warn)
            } else {
                let to = Dest::Path(dest);
                ops::copy_out(engine, name, path, to, options, &mut watch, &mut warn)
            }
        }
        Transfer::In { src, name, path } => {
            if src == "-" {
                let mut stdin = std::io::stdin().lock();
                let tar = Source::Tar(&mut stdin);
                ops::copy_in(engine, tar, name, path, options, &mut watch)
            } else {
                ops::copy_in(engine, Source::Path(src), name, path, options, &mut watch)
            }
        }
    };
    drop(watch);
    drop(interrupt);
    copied.map_err(report)?;
    line.done();
    Ok(0)
}

/// The engine's and the system's errors go on as themselves, so `main` still finds a
/// broken pipe among them.
fn report(e: CpError) -> color_eyre::Report {
    match e {
        CpError::Engine(e) => e.into(),
        CpError::Io(e) => e.into(),
        e => e.into(),
    }
}

/// A process entering a running container runs from a sealed copy of berth
/// (CVE-2019-5736); this re-executes the same command that way.
fn enter_sealed_if_running(engine: &Engine, name: &str, path: &str) -> Result<()> {
    if ops::is_running(engine, name, path).map_err(report)? && !sealed::running_sealed() {
        sealed::reexec_sealed()?;
    }
    Ok(())
}

/// Progress on a terminal: bytes and rate of the engine's shared counter, redrawn at most
/// ten times a second, then Docker's closing line. Silent when stderr is not a terminal.
struct ProgressLine {
    enabled: bool,
    target: String,
    counter: Arc<Progress>,
    drawn: Option<Instant>,
}

impl ProgressLine {
    fn new(quiet: bool, target: String, counter: Arc<Progress>) -> ProgressLine {
        ProgressLine {
            enabled: !quiet && std::io::stderr().is_terminal(),
            target,
            counter,
            drawn: None,
        }
    }

    fn draw(&mut self, counter: &Progress) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .drawn
            .is_some_and(|t| now - t < Duration::from_millis(100))
        {
            return;
        }
        // Small copies finish before a line is worth drawing.
        if counter.elapsed() < Duration::from_millis(200) {
            return;
        }
        self.drawn = Some(now);
        eprint!(
            "\r\x1b[KCopying to {}  {}  {}/s",
            self.target,
            human_size(counter.bytes()),
            human_size(counter.rate())
        );
    }

    fn done(&self) {
        if self.enabled {
            eprintln!(
                "\r\x1b[KSuccessfully copied {} to {}",
                human_size(self.counter.bytes()),
                self.target
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_have_three_significant_digits() {
        assert_eq!(human_size(512), "512B");
        assert_eq!(human_size(12_345), "12.3kB");
        assert_eq!(human_size(2_560), "2.56kB");
        assert_eq!(human_size(300_002_000), "300MB");
        assert_eq!(human_size(1_000), "1kB");
    }
}
