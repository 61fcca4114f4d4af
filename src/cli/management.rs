//! Docker's management commands (`berth container ls`, `berth container run`, ...): each
//! is the short verb under another name, turned into it before it runs, so both run the
//! same code with the same flags. `container prune` alone has no short verb.

use clap::Subcommand;

use super::container_prune::ContainerPruneArgs;
use super::lazy::Lazy;
use super::{attach, container, cp, diff, export, stats, Command};

/// `berth container <verb>`.
#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    /// List containers
    #[command(visible_alias = "ps", alias = "list")]
    Ls(Lazy<container::PsArgs>),
    /// Create a new container
    Create(Lazy<container::CreateArgs>),
    /// Create and run a new container from an image
    Run(Lazy<container::RunArgs>),
    /// Start one or more stopped containers
    Start(Lazy<container::StartArgs>),
    /// Stop one or more running containers
    Stop(Lazy<container::StopArgs>),
    /// Restart one or more containers
    Restart(Lazy<container::StopArgs>),
    /// Kill one or more running containers
    Kill(Lazy<container::KillArgs>),
    /// Remove one or more containers
    #[command(alias = "remove")]
    Rm(Lazy<container::RmArgs>),
    /// Fetch the logs of a container
    Logs(Lazy<container::LogsArgs>),
    /// Execute a command in a running container
    Exec(Lazy<container::ExecArgs>),
    /// Display detailed information on one or more containers
    Inspect(Lazy<container::InspectArgs>),
    /// Copy files/folders between a container and the local filesystem
    Cp(Lazy<cp::CpArgs>),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(Lazy<diff::DiffArgs>),
    /// Block until one or more containers stop, then print their exit codes
    Wait(Lazy<container::WaitArgs>),
    /// Display the running processes of a container
    Top(Lazy<stats::TopArgs>),
    /// Display a live stream of container(s) resource usage statistics
    Stats(Lazy<stats::StatsArgs>),
    /// List port mappings or a specific mapping for the container
    Port(Lazy<container::PortArgs>),
    /// Rename a container
    Rename(Lazy<container::RenameArgs>),
    /// Update configuration of one or more containers
    Update(Lazy<super::update::UpdateArgs>),
    /// Create a new image from a container's changes
    Commit(Lazy<container::CommitArgs>),
    /// Pause all processes within one or more containers
    Pause(Lazy<container::PauseArgs>),
    /// Unpause all processes within one or more containers
    Unpause(Lazy<container::PauseArgs>),
    /// Attach local standard input, output, and error streams to a running container
    Attach(Lazy<attach::AttachArgs>),
    /// Export a container's filesystem as a tar archive
    Export(Lazy<export::ExportArgs>),
    /// Remove all stopped containers
    Prune(Lazy<ContainerPruneArgs>),
}

/// The short verb a management command is; `container prune`, which has none, comes
/// back as its arguments.
impl TryFrom<ContainerCommand> for Command {
    type Error = ContainerPruneArgs;

    fn try_from(command: ContainerCommand) -> Result<Command, ContainerPruneArgs> {
        use ContainerCommand as C;
        Ok(match command {
            C::Ls(args) => Command::Ps(args),
            C::Create(args) => Command::Create(args),
            C::Run(args) => Command::Run(args),
            C::Start(args) => Command::Start(args),
            C::Stop(args) => Command::Stop(args),
            C::Restart(args) => Command::Restart(args),
            C::Kill(args) => Command::Kill(args),
            C::Rm(args) => Command::Rm(args),
            C::Logs(args) => Command::Logs(args),
            C::Exec(args) => Command::Exec(args),
            // `container inspect` looks at containers only.
            C::Inspect(mut args) => {
                args.kind = Some("container".into());
                Command::Inspect(args)
            }
            C::Cp(args) => Command::Cp(args),
            C::Diff(args) => Command::Diff(args),
            C::Wait(args) => Command::Wait(args),
            C::Top(args) => Command::Top(args),
            C::Stats(args) => Command::Stats(args),
            C::Port(args) => Command::Port(args),
            C::Rename(args) => Command::Rename(args),
            C::Update(args) => Command::Update(args),
            C::Commit(args) => Command::Commit(args),
            C::Pause(args) => Command::Pause(args),
            C::Unpause(args) => Command::Unpause(args),
            C::Attach(args) => Command::Attach(args),
            C::Export(args) => Command::Export(args),
            C::Prune(args) => return Err(args.0),
        })
    }
}
