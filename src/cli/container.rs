//! Container verbs: create, run, start, stop, kill, restart, rm, ps, logs, exec, wait, inspect.

use std::path::PathBuf;

use clap::Args;
use color_eyre::Result;

use crate::engine::Engine;

/// Flags shared by `create` and `run`.
#[derive(Debug, Args, Clone)]
pub struct ContainerFlags {
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables (KEY=VALUE, or KEY to take it from this environment)
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    pub env_file: Vec<PathBuf>,
    /// Working directory inside the container
    #[arg(short, long = "workdir")]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    pub user: Option<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Memory limit (e.g. 64m, 1g)
    #[arg(short, long)]
    pub memory: Option<String>,
    /// Number of CPUs (e.g. 0.5)
    #[arg(long)]
    pub cpus: Option<String>,
    /// Tune container pids limit (-1 for unlimited)
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Set metadata on the container (KEY=VALUE)
    #[arg(short, long = "label")]
    pub label: Vec<String>,
    /// The image to run
    pub image: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub flags: ContainerFlags,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run the container in the background and print its ID
    #[arg(short, long)]
    pub detach: bool,
    #[command(flatten)]
    pub flags: ContainerFlags,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short, long)]
    pub attach: bool,
    /// Attach the container's STDIN
    #[arg(short, long)]
    pub interactive: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container
    #[arg(short, long = "time", default_value_t = 10)]
    pub time: u32,
    /// Signal to send first (default SIGTERM)
    #[arg(short, long)]
    pub signal: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short, long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short, long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    pub all: bool,
    /// Only display container IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Filter output based on conditions provided (status=, name=, id=, ancestor=, label=)
    #[arg(short, long)]
    pub filter: Vec<String>,
    /// Output format: "table" or "json"
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs ("all" or a number)
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show timestamps
    #[arg(short, long)]
    pub timestamps: bool,
    pub container: String,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    pub tty: bool,
    /// Detached mode: run command in the background
    #[arg(short, long)]
    pub detach: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long = "workdir")]
    pub workdir: Option<String>,
    pub container: String,
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Return JSON for the given type only: "container" or "image"
    #[arg(long = "type")]
    pub kind: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MonitorArgs {
    pub id: String,
}
pub fn create(engine: &Engine, args: &CreateArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn run(engine: &Engine, args: &RunArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn start(engine: &Engine, args: &StartArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn stop(engine: &Engine, args: &StopArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn kill(engine: &Engine, args: &KillArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn restart(engine: &Engine, args: &StopArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn rm(engine: &Engine, args: &RmArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn ps(engine: &Engine, args: &PsArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn logs(engine: &Engine, args: &LogsArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn exec(engine: &Engine, args: &ExecArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn wait(engine: &Engine, args: &WaitArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn inspect(engine: &Engine, args: &InspectArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
pub fn monitor(engine: &Engine, args: &MonitorArgs) -> Result<i32> {
    let _ = (engine, args);
    todo!()
}
