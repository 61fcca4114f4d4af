//! A Dockerfile parsed into typed instructions, with BuildKit's meanings
//! (`frontend/dockerfile/instructions/parse.go`): stages, global ARGs, each instruction's
//! flags and arguments, here-documents, and the errors BuildKit gives, located by line.
//!
//! Values are kept as written (quotes included where BuildKit keeps them); the builder
//! calls [`Instruction::expanded`] / [`FromSpec::expanded`] with the variables in scope,
//! which is where quotes go and variables are replaced.

use std::fmt;
use std::time::Duration;

use super::expand::{expand, expand_heredoc, expand_words, no_vars, ExpandError};
use super::syntax::{parse_heredoc_word, read_lines, RawHeredoc, RawInstruction};
use crate::container::parse_go_duration;

/// A Dockerfile BuildKit would refuse, located by file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The Dockerfile's name as the user gave it (`Dockerfile`, `build/app.Dockerfile`).
    pub file: String,
    /// The line (1-based) where the offending instruction starts; 0 for the whole file.
    pub line: usize,
    /// BuildKit's message (`unknown instruction: RUNN`).
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for ParseError {}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq)]
pub struct Dockerfile {
    /// The escape character (`\`, or `` ` `` from `# escape=`), for expansion.
    pub escape: char,
    /// The `# syntax=` directive's value, which berth does not follow (see `notes`).
    pub syntax: Option<String>,
    /// The ARGs before the first FROM, which FROM lines may use.
    pub global_args: Vec<Located<ArgDecl>>,
    /// The stages in order; never empty.
    pub stages: Vec<Stage>,
    /// Things worth telling the user that are not errors (an ignored `# syntax=`, a
    /// duplicate stage name, an empty continuation line).
    pub notes: Vec<String>,
}

/// One stage: its FROM and what follows until the next FROM.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// The stage's position (0-based), which `COPY --from=0` names.
    pub index: usize,
    /// The `AS` name, lower-cased as BuildKit does.
    pub name: Option<String>,
    /// The FROM line.
    pub from: Located<FromSpec>,
    /// The stage's instructions after FROM.
    pub instructions: Vec<Located<Instruction>>,
}

/// A value with the line it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The first line (1-based) of the instruction.
    pub line: usize,
    /// The instruction as written, continuation lines joined, for progress and history.
    pub source: String,
    /// The parsed value.
    pub value: T,
}

/// FROM's image and platform, unexpanded (they may use global ARGs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromSpec {
    /// The image reference, a stage name, or `scratch`.
    pub image: String,
    /// `--platform=...`.
    pub platform: Option<String>,
}

impl FromSpec {
    /// The image and platform with `vars` (the global ARGs) expanded.
    pub fn expanded(
        &self,
        vars: &dyn Fn(&str) -> Option<String>,
        escape: char,
    ) -> Result<FromSpec, ExpandError> {
        Ok(FromSpec {
            image: expand(&self.image, vars, escape)?,
            platform: self
                .platform
                .as_deref()
                .map(|p| expand(p, vars, escape))
                .transpose()?,
        })
    }
}

/// An instruction inside a stage (FROM starts a stage and is not one of these).
#[derive(Debug, Clone, PartialEq)]
pub enum Instruction {
    /// RUN.
    Run(Run),
    /// COPY and ADD (`add` tells which).
    Copy(Copy),
    /// ENV, in order; the legacy `ENV name value` form is one pair.
    Env(Vec<(String, String)>),
    /// ARG inside a stage.
    Arg(Vec<ArgDecl>),
    /// WORKDIR.
    Workdir(String),
    /// USER.
    User(String),
    /// SHELL (JSON form only).
    Shell(Vec<String>),
    /// EXPOSE, as written (BuildKit sorts them).
    Expose(Vec<String>),
    /// LABEL, in order.
    Label(Vec<(String, String)>),
    /// VOLUME.
    Volume(Vec<String>),
    /// CMD.
    Cmd(CommandForm),
    /// ENTRYPOINT.
    Entrypoint(CommandForm),
    /// HEALTHCHECK.
    Healthcheck(Healthcheck),
    /// STOPSIGNAL.
    Stopsignal(String),
    /// ONBUILD: the trigger as written without `ONBUILD ` (here-documents appended),
    /// stored in the image for builds that use it as a base.
    Onbuild(String),
    /// MAINTAINER (deprecated).
    Maintainer(String),
}

/// Shell form (run by the stage's SHELL) or exec form (a JSON array).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandForm {
    /// The command line as written (continuations joined).
    Shell(String),
    /// The argument vector.
    Exec(Vec<String>),
}

/// `ARG name[=default]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    /// The name.
    pub name: String,
    /// The default as written (quotes kept until expansion).
    pub default: Option<String>,
}

/// RUN.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The command.
    pub command: CommandForm,
    /// Here-documents, in order (`RUN <<EOF`, `RUN cat <<A <<B`).
    pub heredocs: Vec<Heredoc>,
    /// `--mount=...`; values holding a variable are final only after
    /// [`Instruction::expanded`].
    pub mounts: Vec<RunMount>,
    /// `--network=...`.
    pub network: Option<RunNetwork>,
    /// The `--mount` values as written, which [`Instruction::expanded`] re-reads.
    pub mount_specs: Vec<String>,
}

/// `RUN --network=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunNetwork {
    /// `default`: the build's network.
    Default,
    /// `none`.
    None,
    /// `host`.
    Host,
}

/// Cache mount sharing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheSharing {
    /// Concurrent builds share it (BuildKit's default).
    #[default]
    Shared,
    /// Each concurrent user gets its own.
    Private,
    /// One at a time.
    Locked,
}

/// `RUN --mount=type=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunMount {
    /// `type=cache`: a directory kept across builds.
    Cache {
        /// Where in the container.
        target: String,
        /// The cache's id (default: the target).
        id: Option<String>,
        /// Sharing between concurrent builds.
        sharing: CacheSharing,
        /// A stage or image to seed it from.
        from: Option<String>,
        /// A path in `from`.
        source: Option<String>,
        /// The directory's mode (octal in the Dockerfile).
        mode: Option<u32>,
        /// The directory's owner.
        uid: Option<u32>,
        /// The directory's group.
        gid: Option<u32>,
        /// `ro`.
        read_only: bool,
    },
    /// `type=bind` (the default type): the context, a stage or an image, read-only unless
    /// `rw` (writes are thrown away).
    Bind {
        /// Where in the container.
        target: String,
        /// The path in the context or `from`.
        source: Option<String>,
        /// A stage or image.
        from: Option<String>,
        /// `rw`.
        read_write: bool,
    },
    /// `type=tmpfs`.
    Tmpfs {
        /// Where in the container.
        target: String,
        /// `size=` in bytes.
        size: Option<u64>,
    },
}

/// COPY or ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// ADD rather than COPY.
    pub add: bool,
    /// Source paths (or URLs for ADD), in order; here-documents are in `heredocs`.
    pub sources: Vec<String>,
    /// The destination.
    pub dest: String,
    /// `--from=` (COPY only).
    pub from: Option<String>,
    /// `--chown=`.
    pub chown: Option<String>,
    /// `--chmod=`.
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// Here-documents used as sources (`COPY <<EOF /dest`), each a file named after its
    /// delimiter.
    pub heredocs: Vec<Heredoc>,
    /// `--keep-git-dir` (ADD only).
    pub keep_git_dir: bool,
    /// `--checksum=` (ADD only).
    pub checksum: Option<String>,
    /// `--exclude=` patterns.
    pub exclude: Vec<String>,
    /// `--parents` (COPY only).
    pub parents: bool,
    /// `--unpack=` (ADD only): None leaves BuildKit's default (local archives unpack).
    pub unpack: Option<bool>,
}

/// A here-document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter, unquoted (also the file name for COPY).
    pub name: String,
    /// The body; with `<<-`, leading tabs already stripped from each line.
    pub content: String,
    /// Whether variables in the body expand (the delimiter was not quoted).
    pub expand: bool,
    /// `<<-`.
    pub strip_tabs: bool,
}

/// HEALTHCHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disable the base image's check.
    None,
    /// `HEALTHCHECK [options] CMD ...`.
    Cmd {
        /// The test command (shell form → `CMD-SHELL`).
        test: CommandForm,
        /// `--interval`; None when absent or 0 (inherit).
        interval: Option<Duration>,
        /// `--timeout`.
        timeout: Option<Duration>,
        /// `--start-period`.
        start_period: Option<Duration>,
        /// `--start-interval`.
        start_interval: Option<Duration>,
        /// `--retries`.
        retries: Option<u32>,
    },
}

impl Instruction {
    /// The instruction's keyword, upper-case.
    pub fn name(&self) -> &'static str {
        match self {
            Instruction::Run(_) => "RUN",
            Instruction::Copy(c) if c.add => "ADD",
            Instruction::Copy(_) => "COPY",
            Instruction::Env(_) => "ENV",
            Instruction::Arg(_) => "ARG",
            Instruction::Workdir(_) => "WORKDIR",
            Instruction::User(_) => "USER",
            Instruction::Shell(_) => "SHELL",
            Instruction::Expose(_) => "EXPOSE",
            Instruction::Label(_) => "LABEL",
            Instruction::Volume(_) => "VOLUME",
            Instruction::Cmd(_) => "CMD",
            Instruction::Entrypoint(_) => "ENTRYPOINT",
            Instruction::Healthcheck(_) => "HEALTHCHECK",
            Instruction::Stopsignal(_) => "STOPSIGNAL",
            Instruction::Onbuild(_) => "ONBUILD",
            Instruction::Maintainer(_) => "MAINTAINER",
        }
    }

    /// A copy with every field BuildKit expands replaced using `vars`: ENV and LABEL keys
    /// and values, ARG names and defaults, COPY/ADD sources, destination, `--chown`,
    /// `--chmod`, `--checksum` and unquoted here-document bodies, EXPOSE (split into
    /// words), STOPSIGNAL, USER, VOLUME, WORKDIR and RUN's `--mount` values. RUN, CMD,
    /// ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD and MAINTAINER are returned unchanged (the
    /// shell expands commands at run time). `COPY --from` must not use variables, as in
    /// BuildKit.
    pub fn expanded(
        &self,
        vars: &dyn Fn(&str) -> Option<String>,
        escape: char,
    ) -> Result<Instruction, ExpandError> {
        let one = |word: &str| expand(word, vars, escape);
        let pairs = |list: &[(String, String)]| -> Result<Vec<(String, String)>, ExpandError> {
            list.iter().map(|(k, v)| Ok((one(k)?, one(v)?))).collect()
        };
        Ok(match self {
            Instruction::Env(list) => Instruction::Env(pairs(list)?),
            Instruction::Label(list) => Instruction::Label(pairs(list)?),
            Instruction::Arg(args) => Instruction::Arg(
                args.iter()
                    .map(|a| {
                        Ok(ArgDecl {
                            name: one(&a.name)?,
                            default: a.default.as_deref().map(one).transpose()?,
                        })
                    })
                    .collect::<Result<_, ExpandError>>()?,
            ),
            Instruction::Workdir(p) => Instruction::Workdir(one(p)?),
            Instruction::User(u) => Instruction::User(one(u)?),
            Instruction::Stopsignal(s) => Instruction::Stopsignal(one(s)?),
            Instruction::Volume(list) => {
                Instruction::Volume(list.iter().map(|v| one(v)).collect::<Result<_, _>>()?)
            }
            Instruction::Expose(ports) => {
                let mut out = Vec::new();
                for port in ports {
                    out.extend(expand_words(port, vars, escape)?);
                }
                Instruction::Expose(out)
            }
            Instruction::Copy(c) => Instruction::Copy(c.expanded(vars, escape)?),
            Instruction::Run(r) => {
                let mut run = r.clone();
                run.mounts = r
                    .mount_specs
                    .iter()
                    .map(|spec| {
                        parse_mount(spec, Some(&|w: &str| expand(w, vars, escape))).map_err(|e| {
                            match e {
                                MountError::Expand(e) => e,
                                MountError::Invalid(message) => ExpandError {
                                    word: spec.clone(),
                                    message,
                                },
                            }
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Instruction::Run(run)
            }
            other => other.clone(),
        })
    }
}

impl Copy {
    fn expanded(
        &self,
        vars: &dyn Fn(&str) -> Option<String>,
        escape: char,
    ) -> Result<Copy, ExpandError> {
        let one = |word: &str| expand(word, vars, escape);
        let opt = |word: &Option<String>| word.as_deref().map(one).transpose();
        if let Some(from) = &self.from {
            // BuildKit refuses variables in --from (a stage must be named literally).
            if expand(from, &no_vars, escape)? != *from {
                return Err(ExpandError {
                    word: from.clone(),
                    message: "variable expansion is not supported for --from, define a new \
                              stage with FROM using ARG from global scope as a workaround"
                        .into(),
                });
            }
        }
        let heredocs = self
            .heredocs
            .iter()
            .map(|h| {
                Ok(Heredoc {
                    content: if h.expand {
                        expand_heredoc(&h.content, vars)?
                    } else {
                        h.content.clone()
                    },
                    ..h.clone()
                })
            })
            .collect::<Result<_, ExpandError>>()?;
        Ok(Copy {
            sources: self
                .sources
                .iter()
                .map(|s| one(s))
                .collect::<Result<_, _>>()?,
            dest: one(&self.dest)?,
            chown: opt(&self.chown)?,
            chmod: opt(&self.chmod)?,
            checksum: opt(&self.checksum)?,
            heredocs,
            ..self.clone()
        })
    }
}

// ---- parsing ----

/// Parses `text`, the Dockerfile named `file_name` (for messages).
pub fn parse(file_name: &str, text: &str) -> Result<Dockerfile, ParseError> {
    let fail = |line: usize, message: String| ParseError {
        file: file_name.to_string(),
        line,
        message,
    };
    let lines = read_lines(text).map_err(|e| fail(e.line, e.message))?;
    if lines.instructions.is_empty() {
        return Err(fail(0, "file with no instructions".into()));
    }
    let escape = lines.escape;
    let mut notes = Vec::new();
    if let Some(syntax) = &lines.directives.syntax {
        notes.push(format!(
            "# syntax={syntax} ignored: berth builds with its own Dockerfile frontend"
        ));
    }
    if let Some(check) = &lines.directives.check {
        notes.push(format!(
            "# check={check} ignored: berth does not run build checks"
        ));
    }
    let mut global_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    for raw in &lines.instructions {
        let line = raw.start_line;
        let parsed = parse_instruction(raw, escape).map_err(|m| fail(line, m))?;
        match parsed {
            Parsed::From { spec, name } => {
                if let Some(name) = &name {
                    if stages.iter().any(|s| s.name.as_ref() == Some(name)) {
                        notes.push(format!(
                            "{file_name}:{line}: duplicate stage name {name:?}: the first one is used"
                        ));
                    }
                }
                stages.push(Stage {
                    index: stages.len(),
                    name,
                    from: Located {
                        line,
                        source: raw.original.clone(),
                        value: spec,
                    },
                    instructions: Vec::new(),
                });
            }
            Parsed::Instruction(instruction) => {
                let located = Located {
                    line,
                    source: raw.original.clone(),
                    value: instruction,
                };
                match (stages.last_mut(), located.value) {
                    (Some(stage), value) => stage.instructions.push(Located { value, ..located }),
                    (None, Instruction::Arg(args)) => {
                        global_args.extend(args.into_iter().map(|value| Located {
                            line,
                            source: located.source.clone(),
                            value,
                        }))
                    }
                    (None, _) => {
                        return Err(fail(line, "no build stage in current context".into()))
                    }
                }
            }
        }
    }
    if stages.is_empty() {
        return Err(fail(0, "dockerfile contains no stages to build".into()));
    }
    Ok(Dockerfile {
        escape,
        syntax: lines.directives.syntax.clone(),
        global_args,
        stages,
        notes,
    })
}

enum Parsed {
    From {
        spec: FromSpec,
        name: Option<String>,
    },
    Instruction(Instruction),
}

/// The flags an instruction accepts, BuildKit's BFlags: a string, a bool, or a repeatable
/// string.
#[derive(Clone, Copy, PartialEq)]
enum FlagKind {
    Str,
    Bool,
    Many,
}

#[derive(Default)]
struct FlagValues {
    values: Vec<(&'static str, String)>,
}

impl FlagValues {
    fn string(&self, name: &str) -> Option<String> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }
    fn bool(&self, name: &str) -> Option<bool> {
        self.string(name).map(|v| v == "true")
    }
    fn many(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// BuildKit's flag rules: `--name=value`, bools bare or `=true|false`, unknown names and
/// repeats (but for lists) refused with its messages.
fn parse_flags(flags: &[String], known: &[(&'static str, FlagKind)]) -> Result<FlagValues, String> {
    let mut out = FlagValues::default();
    for flag in flags {
        let Some(body) = flag.strip_prefix("--") else {
            return Err(format!("arg should start with -- : {flag}"));
        };
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let Some(&(known_name, kind)) = known.iter().find(|(n, _)| *n == name) else {
            return Err(format!("unknown flag: --{name}"));
        };
        if kind != FlagKind::Many && out.values.iter().any(|(n, _)| *n == known_name) {
            return Err(format!("duplicate flag specified: --{name}"));
        }
        let value = match (kind, value) {
            (FlagKind::Bool, Some("")) | (FlagKind::Str | FlagKind::Many, None) => {
                return Err(format!("missing a value on flag: --{name}"))
            }
            (FlagKind::Bool, None) => "true".to_string(),
            (FlagKind::Bool, Some(v)) => match v.to_ascii_lowercase().as_str() {
                "true" => "true".into(),
                "false" => "false".into(),
                _ => {
                    return Err(format!(
                        "expecting boolean value for flag --{name}, not: {v}"
                    ))
                }
            },
            (_, Some(v)) => v.to_string(),
        };
        out.values.push((known_name, value));
    }
    Ok(out)
}

fn exactly_one(command: &str) -> String {
    format!("{command} requires exactly one argument")
}

fn at_least_one(command: &str) -> String {
    format!("{command} requires at least one argument")
}

/// RUN, CMD, ENTRYPOINT and HEALTHCHECK's command: exec form from a JSON array, else the
/// shell form's text.
fn command_form(args: &[String], json: bool) -> CommandForm {
    if json {
        CommandForm::Exec(args.to_vec())
    } else {
        CommandForm::Shell(args.join(" "))
    }
}

fn parse_instruction(raw: &RawInstruction, escape: char) -> Result<Parsed, String> {
    let keyword = raw.keyword.to_ascii_lowercase();
    let args = &raw.node.args;
    let no_flags = || parse_flags(&raw.flags, &[]);
    let instruction = match keyword.as_str() {
        "from" => {
            let name = match args.len() {
                1 => None,
                3 if args[1].eq_ignore_ascii_case("as") => {
                    let name = args[2].to_lowercase();
                    if !valid_stage_name(&name) {
                        return Err(format!(
                            "invalid name for build stage: {:?}, name can't start with a number or contain symbols",
                            args[2]
                        ));
                    }
                    Some(name)
                }
                _ => return Err("FROM requires either one or three arguments".into()),
            };
            let flags = parse_flags(&raw.flags, &[("platform", FlagKind::Str)])?;
            return Ok(Parsed::From {
                spec: FromSpec {
                    image: args[0].clone(),
                    platform: flags.string("platform").filter(|p| !p.is_empty()),
                },
                name,
            });
        }
        "env" => {
            no_flags()?;
            Instruction::Env(pairs(args, "ENV")?)
        }
        "label" => {
            no_flags()?;
            Instruction::Label(pairs(args, "LABEL")?)
        }
        "arg" => {
            if args.is_empty() {
                return Err(at_least_one("ARG"));
            }
            no_flags()?;
            let decls = args
                .iter()
                .map(|w| match w.split_once('=') {
                    Some(("", _)) => Err("ARG names can not be blank".to_string()),
                    Some((k, v)) => Ok(ArgDecl {
                        name: k.to_string(),
                        default: Some(v.to_string()),
                    }),
                    None => Ok(ArgDecl {
                        name: w.clone(),
                        default: None,
                    }),
                })
                .collect::<Result<_, _>>()?;
            Instruction::Arg(decls)
        }
        "maintainer" | "workdir" | "user" | "stopsignal" => {
            if args.len() != 1 {
                return Err(exactly_one(&keyword.to_uppercase()));
            }
            no_flags()?;
            let value = args[0].clone();
            match keyword.as_str() {
                "maintainer" => Instruction::Maintainer(value),
                "workdir" => Instruction::Workdir(value),
                "user" => Instruction::User(value),
                _ => Instruction::Stopsignal(value),
            }
        }
        "expose" => {
            if args.is_empty() {
                return Err(at_least_one("EXPOSE"));
            }
            no_flags()?;
            Instruction::Expose(args.clone())
        }
        "volume" => {
            if args.is_empty() {
                return Err(at_least_one("VOLUME"));
            }
            no_flags()?;
            let mut volumes = Vec::new();
            for v in args {
                let v = v.trim();
                if v.is_empty() {
                    return Err("VOLUME specified can not be an empty string".into());
                }
                volumes.push(v.to_string());
            }
            Instruction::Volume(volumes)
        }
        "cmd" => {
            no_flags()?;
            Instruction::Cmd(command_form(args, raw.node.json))
        }
        "entrypoint" => {
            no_flags()?;
            Instruction::Entrypoint(command_form(args, raw.node.json))
        }
        "shell" => {
            no_flags()?;
            if args.is_empty() {
                return Err(at_least_one("SHELL"));
            }
            if !raw.node.json {
                return Err("SHELL requires the arguments to be in JSON form".into());
            }
            Instruction::Shell(args.clone())
        }
        "run" => Instruction::Run(parse_run(raw)?),
        "copy" | "add" => Instruction::Copy(parse_copy(raw, keyword == "add")?),
        "healthcheck" => Instruction::Healthcheck(parse_healthcheck(raw)?),
        "onbuild" => Instruction::Onbuild(parse_onbuild(raw, escape)?),
        _ => return Err(unknown_instruction(&raw.keyword)),
    };
    Ok(Parsed::Instruction(instruction))
}

const INSTRUCTIONS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// BuildKit's message, with its "did you mean" when an instruction is within two edits
/// (case-insensitive; the suggestion in the word's case when it is all one case).
fn unknown_instruction(word: &str) -> String {
    let lower = word.to_lowercase();
    let close = INSTRUCTIONS
        .iter()
        .map(|name| (edit_distance(&lower, &name.to_lowercase()), *name))
        .filter(|(d, _)| *d < 3)
        .min_by_key(|(d, _)| *d);
    match close {
        Some((_, name)) => {
            let name = if word == lower {
                name.to_lowercase()
            } else {
                name.to_string()
            };
            format!("unknown instruction: {word} (did you mean {name}?)")
        }
        None => format!("unknown instruction: {word}"),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

fn valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// ENV and LABEL pairs from the node's `name value separator` triples.
fn pairs(args: &[String], command: &str) -> Result<Vec<(String, String)>, String> {
    if args.is_empty() {
        return Err(at_least_one(command));
    }
    args.chunks(3)
        .map(|triple| match triple {
            [name, ..] if name.is_empty() => Err(format!("{command} names can not be blank")),
            [name, value, ..] => Ok((name.clone(), value.clone())),
            _ => Err(format!("Bad input to {command}, too many arguments")),
        })
        .collect()
}

fn heredoc(raw: &RawHeredoc) -> Heredoc {
    let content = if raw.chomp {
        raw.content
            .split_inclusive('\n')
            .map(|l| l.trim_start_matches('\t'))
            .collect()
    } else {
        raw.content.clone()
    };
    Heredoc {
        name: raw.name.clone(),
        content,
        expand: raw.expand,
        strip_tabs: raw.chomp,
    }
}

fn parse_run(raw: &RawInstruction) -> Result<Run, String> {
    let flags = parse_flags(
        &raw.flags,
        &[
            ("mount", FlagKind::Many),
            ("network", FlagKind::Str),
            ("security", FlagKind::Str),
            ("device", FlagKind::Many),
        ],
    )?;
    if flags.string("security").is_some() {
        return Err("RUN --security is not supported by berth build".into());
    }
    if !flags.many("device").is_empty() {
        return Err("RUN --device is not supported by berth build".into());
    }
    let network = match flags.string("network").as_deref() {
        None => None,
        Some("default") => Some(RunNetwork::Default),
        Some("none") => Some(RunNetwork::None),
        Some("host") => Some(RunNetwork::Host),
        Some(other) => return Err(format!("invalid network mode {other:?}")),
    };
    let mount_specs = flags.many("mount");
    let mounts = mount_specs
        .iter()
        .map(|spec| {
            parse_mount(spec, None).map_err(|e| match e {
                MountError::Invalid(m) => m,
                MountError::Expand(e) => e.to_string(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Run {
        command: command_form(&raw.node.args, raw.node.json),
        heredocs: raw.heredocs.iter().map(heredoc).collect(),
        mounts,
        network,
        mount_specs,
    })
}

enum MountError {
    Invalid(String),
    Expand(ExpandError),
}

type WordExpander<'a> = &'a dyn Fn(&str) -> Result<String, ExpandError>;

/// One `--mount` value (CSV of key=value). Without an expander (at parse time) values
/// holding a `$` are left for [`Instruction::expanded`]: kept as written where a string,
/// unset where a number.
fn parse_mount(spec: &str, expander: Option<WordExpander<'_>>) -> Result<RunMount, MountError> {
    let invalid = |m: String| MountError::Invalid(m);
    let mut kind = "bind".to_string();
    let (mut target, mut source, mut from, mut id) = (None, None, None, None);
    let mut read_only: Option<bool> = None;
    let mut sharing = None;
    let (mut mode, mut uid, mut gid, mut size) = (None, None, None, None);
    for field in csv_fields(spec).map_err(invalid)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v.to_string())),
            None => (field.to_ascii_lowercase(), None),
        };
        let Some(mut value) = value else {
            match key.as_str() {
                "readonly" | "ro" => read_only = Some(true),
                "readwrite" | "rw" => read_only = Some(false),
                _ => {
                    return Err(invalid(format!(
                        "invalid field '{field}' must be a key=value pair"
                    )))
                }
            }
            continue;
        };
        let deferred = match expander {
            Some(expander) => {
                value = expander(&value).map_err(MountError::Expand)?;
                false
            }
            None => value.contains('$'),
        };
        if key == "from" && deferred {
            if let Some(i) = value.find('$') {
                if i != value.len() - 1 {
                    return Err(invalid(
                        "'from' doesn't support variable expansion, define alias stage instead"
                            .into(),
                    ));
                }
            }
        }
        let bad = |key: &str, value: &str| invalid(format!("invalid value for {key}: {value}"));
        match key.as_str() {
            "type" if !deferred => {
                let v = value.to_ascii_lowercase();
                match v.as_str() {
                    "bind" | "cache" | "tmpfs" => kind = v,
                    "secret" | "ssh" => {
                        return Err(invalid(format!(
                            "RUN --mount=type={v} is not supported by berth build yet"
                        )))
                    }
                    _ => return Err(invalid(format!("unsupported mount type {value:?}"))),
                }
            }
            "type" => {}
            "from" => from = Some(value),
            "source" | "src" => source = Some(value),
            "target" | "dst" | "destination" => target = Some(value),
            "id" => id = Some(value),
            "readonly" | "ro" if !deferred => {
                read_only = Some(parse_go_bool(&value).ok_or_else(|| bad(&key, &value))?)
            }
            "readwrite" | "rw" if !deferred => {
                read_only = Some(!parse_go_bool(&value).ok_or_else(|| bad(&key, &value))?)
            }
            "size" if !deferred => size = Some(value),
            "sharing" if !deferred => {
                sharing = Some(match value.to_ascii_lowercase().as_str() {
                    "shared" => CacheSharing::Shared,
                    "private" => CacheSharing::Private,
                    "locked" => CacheSharing::Locked,
                    _ => return Err(invalid(format!("unsupported sharing value {value:?}"))),
                })
            }
            "mode" if !deferred => {
                mode = Some(
                    u32::from_str_radix(&value, 8)
                        .map_err(|_| invalid(format!("invalid value {value} for mode")))?,
                )
            }
            "uid" if !deferred => {
                uid = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| invalid(format!("invalid value {value} for uid")))?,
                )
            }
            "gid" if !deferred => {
                gid = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| invalid(format!("invalid value {value} for gid")))?,
                )
            }
            "readonly" | "ro" | "readwrite" | "rw" | "size" | "sharing" | "mode" | "uid"
            | "gid" => {}
            "required" | "env" => {
                return Err(invalid(format!(
                    "unexpected key '{key}' for mount type '{kind}'"
                )))
            }
            _ => return Err(invalid(format!("unexpected key '{key}' in '{field}'"))),
        }
    }
    if kind != "cache" {
        for (name, set) in [
            ("mode", mode.is_some()),
            ("uid", uid.is_some()),
            ("gid", gid.is_some()),
        ] {
            if set {
                return Err(invalid(format!(
                    "{name} not allowed for {kind:?} type mounts"
                )));
            }
        }
        if sharing.is_some() {
            return Err(invalid(format!(
                "invalid cache sharing set for {kind} mount"
            )));
        }
    }
    if size.is_some() && kind != "tmpfs" {
        return Err(invalid(format!(
            "unexpected key 'size' for mount type '{kind}'"
        )));
    }
    let target = target.ok_or_else(|| invalid("mount target must be specified".into()))?;
    Ok(match kind.as_str() {
        "cache" => RunMount::Cache {
            target,
            id,
            sharing: sharing.unwrap_or_default(),
            from,
            source,
            mode,
            uid,
            gid,
            read_only: read_only.unwrap_or(false),
        },
        "tmpfs" => RunMount::Tmpfs {
            target,
            size: match size {
                Some(s) => Some(
                    crate::units::parse_binary_size(&s)
                        .ok_or_else(|| invalid(format!("invalid value for size: {s}")))?,
                ),
                None => None,
            },
        },
        _ => RunMount::Bind {
            target,
            source,
            from,
            read_write: read_only == Some(false),
        },
    })
}

/// Go's strconv.ParseBool.
fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A CSV record (Go's encoding/csv rules for one line: fields split at commas, a field
/// may be double-quoted with `""` for a quote).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => {
                        return Err(format!(
                            "failed to parse csv mounts: extraneous or missing \" in quoted-field: {line}"
                        ))
                    }
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => {}
                Some(_) => {
                    return Err(format!(
                    "failed to parse csv mounts: extraneous or missing \" in quoted-field: {line}"
                ))
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
        }
        fields.push(field);
    }
}

fn parse_copy(raw: &RawInstruction, add: bool) -> Result<Copy, String> {
    let command = if add { "ADD" } else { "COPY" };
    let (args, json) = (&raw.node.args, raw.node.json);
    if args.len() < 2 {
        return Err(format!(
            "{command} requires at least two arguments, but only one was provided. Destination could not be determined"
        ));
    }
    let known: &[(&'static str, FlagKind)] = if add {
        &[
            ("chown", FlagKind::Str),
            ("chmod", FlagKind::Str),
            ("link", FlagKind::Bool),
            ("keep-git-dir", FlagKind::Bool),
            ("checksum", FlagKind::Str),
            ("unpack", FlagKind::Bool),
            ("exclude", FlagKind::Many),
        ]
    } else {
        &[
            ("chown", FlagKind::Str),
            ("from", FlagKind::Str),
            ("chmod", FlagKind::Str),
            ("link", FlagKind::Bool),
            ("exclude", FlagKind::Many),
            ("parents", FlagKind::Bool),
        ]
    };
    let flags = parse_flags(&raw.flags, known)?;
    let (dest, sources) = args.split_last().expect("two arguments or more");
    if !json && parse_heredoc_word(dest).is_some() {
        return Err(format!(
            "{command} cannot accept a heredoc as a destination"
        ));
    }
    let mut paths = Vec::new();
    let mut heredocs = Vec::new();
    for source in sources {
        match parse_heredoc_word(source).filter(|_| !json) {
            Some(marker) => {
                let body = raw
                    .heredocs
                    .iter()
                    .find(|h| h.name == marker.name)
                    .map(|h| h.content.clone())
                    .unwrap_or_default();
                heredocs.push(heredoc(&RawHeredoc {
                    content: body,
                    ..marker
                }));
            }
            None => paths.push(source.clone()),
        }
    }
    Ok(Copy {
        add,
        sources: paths,
        dest: dest.clone(),
        from: flags.string("from"),
        chown: flags.string("chown").filter(|v| !v.is_empty()),
        chmod: flags.string("chmod").filter(|v| !v.is_empty()),
        link: flags.bool("link").unwrap_or(false),
        heredocs,
        keep_git_dir: flags.bool("keep-git-dir").unwrap_or(false),
        checksum: flags.string("checksum").filter(|v| !v.is_empty()),
        exclude: flags.many("exclude"),
        parents: flags.bool("parents").unwrap_or(false),
        unpack: flags.bool("unpack"),
    })
}

fn parse_healthcheck(raw: &RawInstruction) -> Result<Healthcheck, String> {
    let Some((kind, command)) = raw.node.args.split_first() else {
        return Err(at_least_one("HEALTHCHECK"));
    };
    let kind = kind.to_uppercase();
    if kind == "NONE" {
        if !command.is_empty() {
            return Err("HEALTHCHECK NONE takes no arguments".into());
        }
        return Ok(Healthcheck::None);
    }
    let flags = parse_flags(
        &raw.flags,
        &[
            ("interval", FlagKind::Str),
            ("timeout", FlagKind::Str),
            ("start-period", FlagKind::Str),
            ("start-interval", FlagKind::Str),
            ("retries", FlagKind::Str),
        ],
    )?;
    if kind != "CMD" {
        return Err(format!("Unknown type {kind:?} in HEALTHCHECK (try CMD)"));
    }
    if command.is_empty() {
        return Err("Missing command after HEALTHCHECK CMD".into());
    }
    let duration = |name: &str| -> Result<Option<Duration>, String> {
        let Some(text) = flags.string(name).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let nanos =
            parse_go_duration(&text).ok_or_else(|| format!("time: invalid duration {text:?}"))?;
        if nanos == 0 {
            return Ok(None);
        }
        if nanos < 1_000_000 {
            return Err(format!("Interval {name:?} cannot be less than 1ms"));
        }
        Ok(Some(Duration::from_nanos(nanos as u64)))
    };
    let retries =
        match flags.string("retries").filter(|v| !v.is_empty()) {
            None => None,
            Some(text) => {
                let n: i64 = text
                    .parse()
                    .map_err(|_| format!("strconv.ParseInt: parsing {text:?}: invalid syntax"))?;
                if n < 0 {
                    return Err(format!("--retries cannot be negative ({n})"));
                }
                Some(u32::try_from(n).map_err(|_| {
                    format!("strconv.ParseInt: parsing {text:?}: value out of range")
                })?)
            }
        };
    Ok(Healthcheck::Cmd {
        test: command_form(command, raw.node.json),
        interval: duration("interval")?,
        timeout: duration("timeout")?,
        start_period: duration("start-period")?,
        start_interval: duration("start-interval")?,
        retries,
    })
}

fn parse_onbuild(raw: &RawInstruction, escape: char) -> Result<String, String> {
    let Some(child) = &raw.node.child else {
        return Err(at_least_one("ONBUILD"));
    };
    parse_flags(&raw.flags, &[])?;
    let (keyword, flags, node) = child.as_ref();
    let trigger = keyword.to_uppercase();
    match trigger.as_str() {
        "ONBUILD" => return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into()),
        "MAINTAINER" | "FROM" => {
            return Err(format!("{trigger} isn't allowed as an ONBUILD trigger"))
        }
        _ => {}
    }
    // The trigger runs in a later build; check now that it would parse.
    let inner = RawInstruction {
        keyword: keyword.clone(),
        flags: flags.clone(),
        node: node.clone(),
        ..raw.clone()
    };
    parse_instruction(&inner, escape)?;
    let mut expression = raw.rest.clone();
    for h in &raw.heredocs {
        expression.push('\n');
        expression.push_str(&h.content);
        expression.push_str(&h.name);
    }
    Ok(expression)
}

#[cfg(test)]
#[path = "dockerfile_tests.rs"]
mod tests;
