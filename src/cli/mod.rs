//! The headless CLI: Docker's verbs and flags over the engine API.

pub mod attach;
pub mod build;
mod build_tty;
pub mod compose;
mod compose_verbs;
pub mod container;
pub mod container_prune;
pub mod cp;
pub mod diff;
pub mod events;
pub mod export;
pub mod filter;
pub mod image;
pub mod interrupt;
mod lazy;
pub mod login;
pub mod management;
pub mod network;
pub mod output;
pub mod ps;
mod pull_progress;
mod run_ahead;
pub mod search;
pub mod stats;
pub mod system;
pub mod template;
pub mod ui;
pub mod update;
pub mod usage;
pub mod volume;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use color_eyre::Result;
use lazy::{Lazy, LazyGroup};

use crate::engine::{Engine, EnginePaths};

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "A terminal workstation for containers, with its own daemonless engine"
)]
pub struct Cli {
    /// Engine state directory [default: /var/lib/berth for root]
    #[arg(long, global = true, env = "BERTH_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Without a command, berth opens the dashboard.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List images
    Images(Lazy<image::ImagesArgs>),
    /// Load an image from a docker-save archive or an OCI layout
    Load(Lazy<image::LoadArgs>),
    /// Download an image from a registry
    Pull(Lazy<image::PullArgs>),
    /// Upload an image to a registry
    Push(Lazy<image::PushArgs>),
    /// Import a root filesystem tar as an image
    Import(Lazy<image::ImportArgs>),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(Lazy<image::SaveArgs>),
    /// Create a tag TARGET that refers to SOURCE
    Tag(Lazy<image::TagArgs>),
    /// Remove images
    Rmi(Lazy<image::RmiArgs>),
    /// Build an image from a Dockerfile
    Build(Lazy<build::BuildArgs>),
    /// Manage builds (the build cache)
    #[command(subcommand)]
    Builder(LazyGroup<build::BuilderCommand>),
    /// Manage images
    #[command(subcommand)]
    Image(LazyGroup<image::ImageCommand>),
    /// Log in to a registry
    Login(Lazy<login::LoginArgs>),
    /// Log out from a registry
    Logout(Lazy<login::LogoutArgs>),
    /// Search a registry's catalog for images (Docker Hub's search is not reachable)
    Search(Lazy<search::SearchArgs>),

    /// Create a new container
    Create(Lazy<container::CreateArgs>),
    /// Create and start a new container
    Run(Lazy<container::RunArgs>),
    /// Start stopped containers
    Start(Lazy<container::StartArgs>),
    /// Stop running containers
    Stop(Lazy<container::StopArgs>),
    /// Send a signal to running containers
    Kill(Lazy<container::KillArgs>),
    /// Restart containers
    Restart(Lazy<container::StopArgs>),
    /// Remove containers
    Rm(Lazy<container::RmArgs>),
    /// Pause all processes within one or more containers
    Pause(Lazy<container::PauseArgs>),
    /// Unpause all processes within one or more containers
    Unpause(Lazy<container::PauseArgs>),
    /// List containers
    Ps(Lazy<container::PsArgs>),
    /// Fetch the logs of a container
    Logs(Lazy<container::LogsArgs>),
    /// Run a command in a running container
    Exec(Lazy<container::ExecArgs>),
    /// Attach local standard input, output, and error streams to a running container
    Attach(Lazy<attach::AttachArgs>),
    /// Block until containers stop, then print their exit codes
    Wait(Lazy<container::WaitArgs>),
    /// Display detailed information on containers or images
    Inspect(Lazy<container::InspectArgs>),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(Lazy<diff::DiffArgs>),
    /// Create a new image from a container's changes
    Commit(Lazy<container::CommitArgs>),
    /// Export a container's filesystem as a tar archive
    Export(Lazy<export::ExportArgs>),
    /// Show the history of an image
    History(Lazy<image::HistoryArgs>),

    /// Manage containers
    #[command(subcommand)]
    Container(LazyGroup<management::ContainerCommand>),
    /// Manage volumes
    #[command(subcommand)]
    Volume(LazyGroup<volume::VolumeCommand>),
    /// Manage networks
    #[command(subcommand)]
    Network(LazyGroup<network::NetworkCommand>),
    /// Copy files/folders between a container and the local filesystem
    Cp(Lazy<cp::CpArgs>),

    /// Manage berth itself
    #[command(subcommand)]
    System(LazyGroup<system::SystemCommand>),
    /// Define and run multi-container applications (Docker Compose's verbs)
    Compose(Lazy<compose::ComposeArgs>),

    /// Display a live stream of container(s) resource usage statistics
    Stats(Lazy<stats::StatsArgs>),
    /// Display the running processes of a container
    Top(Lazy<stats::TopArgs>),
    /// List port mappings of a container, or one of its ports
    Port(Lazy<container::PortArgs>),
    /// Rename a container
    Rename(Lazy<container::RenameArgs>),
    /// Update configuration of one or more containers
    Update(Lazy<update::UpdateArgs>),
    /// Get real time events from the engine
    Events(Lazy<events::EventsArgs>),
    /// Display system-wide information
    Info(Lazy<system::InfoArgs>),
    /// Show the berth version information
    Version(Lazy<system::VersionArgs>),
    /// Generate the shell completion script (bash, zsh, fish)
    Completion(Lazy<system::CompletionArgs>),
    /// Open the dashboard (what `berth` alone does)
    Ui(Lazy<ui::UiArgs>),

    /// Writes the manual page (roff) to stdout, for installers
    #[command(name = "__man", hide = true)]
    Man(Lazy<system::ManArgs>),
}

/// The whole command tree, every verb's flags in it: what completion, the manual page
/// and the dashboard's `:` line read. A parse builds only the verb it meets (see
/// [`lazy`]).
pub(crate) fn whole_command() -> clap::Command {
    let mut command = <Cli as clap::CommandFactory>::command();
    command.build();
    command
}

/// Runs one verb and returns the process exit code.
/// Starts a plain `berth run`'s monitor before the command line is parsed (see
/// `run_ahead`); nothing for any other command line.
pub fn start_run_ahead() {
    run_ahead::start_for_plain_run();
}

pub fn run(cli: Cli) -> Result<i32> {
    use Command::*;
    // These touch only the user's config or nothing at all, never an engine root.
    match &cli.command {
        Some(Login(args)) => return login::login(args),
        Some(Logout(args)) => return login::logout(args),
        Some(Search(args)) => return search::search(args),
        Some(Version(args)) => return system::version(args),
        Some(Completion(args)) => return system::completion(args),
        Some(Man(args)) => return system::man_page(args),
        _ => {}
    }
    // Everything below touches the engine, which needs root: say so before touching
    // anything, not with an EPERM from deep inside.
    if !nix::unistd::geteuid().is_root() {
        eprintln!("Error: berth needs root (rootless mode is not built yet)");
        // `run` fails as Docker's does when it cannot get going (125); the rest as
        // Docker's do when the daemon refuses the user (1).
        return Ok(if matches!(cli.command, Some(Run(_))) {
            125
        } else {
            1
        });
    }
    let root = cli.root.unwrap_or_else(EnginePaths::default_root);
    let engine = Engine::open(&root)?;
    match cli.command {
        None => ui::ui(&engine, root, &ui::UiArgs::default()),
        Some(command) => dispatch(&engine, root, command),
    }
}

fn dispatch(engine: &Engine, root: PathBuf, command: Command) -> Result<i32> {
    use Command::*;
    match command {
        Images(args) => image::images(engine, &args),
        Load(args) => image::load(engine, &args),
        Pull(args) => image::pull(engine, &args),
        Push(args) => image::push(engine, &args),
        Import(args) => image::import(engine, &args),
        Save(args) => image::save(engine, &args),
        Tag(args) => image::tag(engine, &args),
        Rmi(args) => image::rmi(engine, &args),
        Image(command) => image::image_command(engine, &command),
        Build(args) => build::build(engine, &args),
        Builder(command) => build::builder_command(engine, &command),
        Login(args) => login::login(&args),
        Logout(args) => login::logout(&args),
        Search(args) => search::search(&args),
        Create(args) => container::create(engine, &args),
        Run(args) => container::run(engine, &args),
        Start(args) => container::start(engine, &args),
        Stop(args) => container::stop(engine, &args),
        Kill(args) => container::kill(engine, &args),
        Restart(args) => container::restart(engine, &args),
        Rm(args) => container::rm(engine, &args),
        Ps(args) => container::ps(engine, &args),
        Logs(args) => container::logs(engine, &args),
        Exec(args) => container::exec(engine, &args),
        Wait(args) => container::wait(engine, &args),
        Inspect(args) => container::inspect(engine, &args),
        Volume(command) => volume::run(engine, &command),
        Network(command) => network::run(engine, &command),
        Diff(args) => diff::diff(engine, &args),
        Commit(args) => container::commit(engine, &args),
        Cp(args) => cp::cp(engine, &args),
        System(command) => system::run(engine, &command),
        Compose(args) => compose::compose(engine, &args),
        Events(args) => events::events(engine, &args),
        Stats(args) => stats::stats(engine, &args),
        Top(args) => stats::top(engine, &args),
        Port(args) => container::port(engine, &args),
        Rename(args) => container::rename(engine, &args),
        Update(args) => update::update(engine, &args),
        Info(args) => system::info(engine, &args),
        Version(args) => system::version(&args),
        Completion(args) => system::completion(&args),
        Man(args) => system::man_page(&args),
        Container(command) => match Command::try_from(command.0) {
            Ok(verb) => dispatch(engine, root, verb),
            Err(prune) => container_prune::prune(engine, &prune),
        },
        Pause(args) => container::pause(engine, &args),
        Unpause(args) => container::unpause(engine, &args),
        Attach(args) => attach::attach_command(engine, &args),
        Export(args) => export::export(engine, &args),
        History(args) => image::history(engine, &args),
        Ui(args) => ui::ui(engine, root, &args),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_tree_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
