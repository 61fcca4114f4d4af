//! A build started from the dashboard: the form that asks for it, and the thread that runs
//! it, apart from the shared worker, so the dashboard goes on while it builds. Its state
//! (the rows the build view shows, kept as the last build) is `ops::build_record`'s,
//! shared with `berth build`; re-exported here for the dashboard's views.

use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Mutex;

use chrono::Utc;
use tokio::sync::mpsc::UnboundedSender;

use super::msg::Msg;
use super::pull::FLUSH_EVERY;
use super::update::split_words;
use crate::engine::{BuildEvent, Cancel, Engine, TOP_WASTED};
use crate::ops::build_record::save_last;
pub use crate::ops::build_record::{
    load_last, short_id, BuildRequest, BuildState, Measured, Phase, StepRow, StepState,
};

/// Bytes of output gathered between two flushes; older output of a chatty step is dropped
/// (the view shows only its tail).
const GATHERED_LOG_BYTES: usize = 64 << 10;

/// The build form's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Context,
    Dockerfile,
    Tags,
    Target,
    Args,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Context,
        Field::Dockerfile,
        Field::Tags,
        Field::Target,
        Field::Args,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Context => "Context directory",
            Field::Dockerfile => "Dockerfile",
            Field::Tags => "Tags (name:tag ...)",
            Field::Target => "Target stage",
            Field::Args => "Build args (K=V ...)",
        }
    }
}

/// The build form: one line per field, the focused one with a cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildForm {
    pub values: [String; 5],
    pub focus: usize,
    /// Why the form was refused, shown in it until the next try.
    pub error: Option<String>,
}

impl Default for BuildForm {
    fn default() -> BuildForm {
        BuildForm {
            values: [
                ".".into(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
            focus: 0,
            error: None,
        }
    }
}

impl BuildForm {
    /// The form holding what `request` asked for (the last build's, to build again).
    pub fn from_request(request: &BuildRequest) -> BuildForm {
        let quote = |w: &str| {
            if w.contains(char::is_whitespace) {
                format!("'{w}'")
            } else {
                w.to_owned()
            }
        };
        BuildForm {
            values: [
                request.context.clone(),
                request.dockerfile.clone(),
                request.tags.join(" "),
                request.target.clone().unwrap_or_default(),
                request
                    .args
                    .iter()
                    .map(|(k, v)| quote(&format!("{k}={v}")))
                    .collect::<Vec<_>>()
                    .join(" "),
            ],
            focus: 0,
            error: None,
        }
    }

    /// The form filled from `build`'s words (`-t app:1 -f Dockerfile.dev --target x
    /// --build-arg K=V DIR`), as `:build ...` opens it.
    pub fn from_words(words: &[String]) -> Result<BuildForm, String> {
        let mut request = BuildRequest {
            context: ".".into(),
            ..Default::default()
        };
        let mut words = words.iter();
        let mut positional = Vec::new();
        while let Some(word) = words.next() {
            let (flag, inline) = match word.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
                _ => (word.as_str(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| words.next().cloned())
                    .ok_or_else(|| format!("flag needs an argument: {name}"))
            };
            match flag {
                "-t" | "--tag" => request.tags.push(value(flag)?),
                "-f" | "--file" => request.dockerfile = value(flag)?,
                "--target" => request.target = Some(value(flag)?),
                "--build-arg" => {
                    let arg = value(flag)?;
                    let (k, v) = arg.split_once('=').unwrap_or((&arg, ""));
                    request.args.push((k.to_owned(), v.to_owned()));
                }
                f if f.starts_with('-') && f.len() > 1 => {
                    return Err(format!("the build form has no field for {f}"))
                }
                _ => positional.push(word.clone()),
            }
        }
        match positional.as_slice() {
            [] => {}
            [context] => request.context = context.clone(),
            _ => return Err("build takes one context directory".into()),
        }
        Ok(BuildForm::from_request(&request))
    }

    pub fn focused_mut(&mut self) -> &mut String {
        &mut self.values[self.focus]
    }

    pub fn move_focus(&mut self, by: isize) {
        let n = Field::ALL.len() as isize;
        self.focus = (self.focus as isize + by).rem_euclid(n) as usize;
    }

    /// The build the form asks for, or what is wrong with it.
    pub fn request(&self) -> Result<BuildRequest, String> {
        let value = |f: Field| self.values[f as usize].trim();
        let context = value(Field::Context);
        if context.is_empty() {
            return Err("the build form needs a context directory".into());
        }
        let mut args = Vec::new();
        for arg in split_words(value(Field::Args))? {
            match arg.split_once('=') {
                Some((k, v)) if !k.is_empty() => args.push((k.to_owned(), v.to_owned())),
                _ => return Err(format!("build arg {arg:?}: write it as KEY=VALUE")),
            }
        }
        let target = Some(value(Field::Target).to_owned()).filter(|t| !t.is_empty());
        let request = BuildRequest {
            context: context.to_owned(),
            dockerfile: value(Field::Dockerfile).to_owned(),
            tags: split_words(value(Field::Tags))?,
            target,
            args,
        };
        // Tags that don't parse are refused here, with the form still open.
        request.options(Cancel::default())?;
        Ok(request)
    }
}

/// Events gathered between two flushes; output beyond `GATHERED_LOG_BYTES` drops its
/// oldest pieces (the view keeps only the tail).
#[derive(Debug, Default)]
pub struct Gathered {
    events: Vec<BuildEvent>,
    log_bytes: usize,
}

impl Gathered {
    pub fn push(&mut self, event: BuildEvent) {
        if let BuildEvent::Log { text, .. } = &event {
            self.log_bytes += text.len();
            while self.log_bytes > GATHERED_LOG_BYTES {
                let Some(at) = self
                    .events
                    .iter()
                    .position(|e| matches!(e, BuildEvent::Log { .. }))
                else {
                    break;
                };
                if let BuildEvent::Log { text, .. } = self.events.remove(at) {
                    self.log_bytes -= text.len();
                }
            }
        }
        self.events.push(event);
    }

    pub fn take(&mut self) -> Vec<BuildEvent> {
        self.log_bytes = 0;
        std::mem::take(&mut self.events)
    }
}

/// Builds `request` on a thread of its own: its events arrive as [`Msg::BuildEvents`],
/// gathered for [`FLUSH_EVERY`], then its end as [`Msg::Built`] and the image's
/// efficiency as [`Msg::Efficiency`]; the state is kept as the last build's.
pub fn spawn(engine: Engine, request: BuildRequest, cancel: Cancel, tx: UnboundedSender<Msg>) {
    let thread = std::thread::Builder::new().name("berth-build".into());
    let reported = tx.clone();
    let started = thread.spawn(move || run(&engine, request, cancel, &tx));
    if let Err(e) = started {
        let _ = reported.send(Msg::Built(Err(format!("starting the build: {e}"))));
    }
}

fn run(engine: &Engine, request: BuildRequest, cancel: Cancel, tx: &UnboundedSender<Msg>) {
    // The thread keeps a state of its own from the same events, to keep at the end.
    let mut state = BuildState::new(request.clone(), Utc::now());
    let result = build(engine, &request, cancel, &mut state, tx);
    let ended = result
        .as_ref()
        .map(|(id, ran, cached)| (id.to_string(), *ran, *cached))
        .map_err(Clone::clone);
    state.end(ended.clone(), Utc::now());
    // The loop is gone only when the dashboard is closing.
    let _ = tx.send(Msg::Built(ended));
    if let Ok((id, _, _)) = &result {
        let measured = engine
            .image_efficiency(&id.to_string(), TOP_WASTED)
            .map_err(|e| e.to_string());
        state.efficiency = Some(match &measured {
            Ok(e) => Measured::Done(Box::new(e.clone())),
            Err(e) => Measured::Failed(e.clone()),
        });
        let _ = tx.send(Msg::Efficiency(measured.map(Box::new)));
    }
    if let Err(e) = save_last(engine.paths().root(), &state) {
        let _ = tx.send(Msg::BuildNotKept(e));
    }
}

fn build(
    engine: &Engine,
    request: &BuildRequest,
    cancel: Cancel,
    state: &mut BuildState,
    tx: &UnboundedSender<Msg>,
) -> Result<(crate::engine::Digest, usize, usize), String> {
    let options = request.options(cancel.clone())?;
    let gathered = &Mutex::new(Gathered::default());
    let (stop, stopped) = channel::<()>();
    std::thread::scope(|scope| {
        // Sends what was gathered every FLUSH_EVERY, and the rest once the build ends
        // (the scope waits for it, so the events arrive before the end). Once cancelled,
        // it kills the build's step containers at each tick until the build returns: a
        // step's container may be between its creation and its start at the first kill.
        scope.spawn(move || loop {
            let last = !matches!(
                stopped.recv_timeout(FLUSH_EVERY),
                Err(RecvTimeoutError::Timeout)
            );
            if cancel.is_cancelled() && !last {
                engine.kill_own_build_containers();
            }
            let events = gathered.lock().map(|mut g| g.take()).unwrap_or_default();
            let gone = !events.is_empty() && tx.send(Msg::BuildEvents(events)).is_err();
            if last || gone {
                return;
            }
        });
        let mut observer = |event: BuildEvent| {
            state.apply(&event, Utc::now());
            if let Ok(mut g) = gathered.lock() {
                g.push(event);
            }
        };
        let result = engine.build(&options, &mut observer);
        drop(stop);
        result
            .map(|outcome| (outcome.image, outcome.ran, outcome.cached))
            .map_err(|e| e.to_string())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::DockerfileSource;
    pub(crate) use crate::ops::build_record::tests::{at, done, log, started};
    use std::path::Path;

    #[test]
    fn gathered_output_is_bounded_and_other_events_kept() {
        let mut gathered = Gathered::default();
        gathered.push(started(1, "[a 1/1] RUN yes"));
        let chunk = "y\n".repeat(1024);
        for _ in 0..100 {
            gathered.push(log(1, &chunk));
        }
        gathered.push(done(1, 5, 0));
        let events = gathered.take();
        assert!(matches!(events.first(), Some(BuildEvent::Started(_))));
        assert!(matches!(events.last(), Some(BuildEvent::Done { .. })));
        let bytes: usize = events
            .iter()
            .map(|e| match e {
                BuildEvent::Log { text, .. } => text.len(),
                _ => 0,
            })
            .sum();
        assert!(bytes <= GATHERED_LOG_BYTES, "{bytes}");
        assert!(gathered.take().is_empty());
    }

    #[test]
    fn the_form_becomes_a_request_and_words_fill_the_form() {
        let mut form = BuildForm::default();
        form.values[2] = "app:1 app:latest".into();
        form.values[3] = "final".into();
        form.values[4] = "V=2 'MSG=hello world'".into();
        let request = form.request().unwrap();
        assert_eq!(request.context, ".");
        assert_eq!(request.tags, ["app:1", "app:latest"]);
        assert_eq!(request.target.as_deref(), Some("final"));
        assert_eq!(
            request.args,
            [
                ("V".into(), "2".into()),
                ("MSG".into(), "hello world".into())
            ]
        );
        let options = request.options(Cancel::default()).unwrap();
        assert!(
            matches!(&options.dockerfile, DockerfileSource::Path(p) if p == Path::new("./Dockerfile"))
        );
        form.values[2] = "Bad/Name".into();
        assert!(form.request().unwrap_err().contains("Bad/Name"));
        form.values[2] = String::new();
        form.values[4] = "novalue".into();
        assert!(form.request().unwrap_err().contains("KEY=VALUE"));
        form.values[0] = " ".into();
        assert!(form.request().unwrap_err().contains("context"));

        let words: Vec<String> = [
            "-t",
            "web:2",
            "--build-arg=V=3",
            "-f",
            "Dockerfile.dev",
            "app",
        ]
        .map(String::from)
        .to_vec();
        let form = BuildForm::from_words(&words).unwrap();
        assert_eq!(form.values, ["app", "Dockerfile.dev", "web:2", "", "V=3"]);
        assert_eq!(form, BuildForm::from_request(&form.request().unwrap()));
        assert!(BuildForm::from_words(&["--squash".into()])
            .unwrap_err()
            .contains("--squash"));
    }
}
