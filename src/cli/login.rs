//! `login` and `logout`: credentials for registries, kept in berth's config directory.
// The doc comments of the flag structs here are clap's --help text, printed as written:
// `[:TAG]` in them is Docker's usage, not an intra-doc link.
#![allow(rustdoc::broken_intra_doc_links)]

use std::io::{BufRead, IsTerminal, Read, Write};
use std::os::fd::AsFd;

use clap::Args;
use color_eyre::eyre::eyre;
use color_eyre::Result;

use crate::engine::{
    registry_login, registry_logout, registry_name, CredentialStore, Credentials, DOCKER_HUB,
};
use crate::settings::Settings;

/// A password on stdin longer than this is refused.
const MAX_PASSWORD: u64 = 64 << 10;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The registry (host[:port]); Docker Hub when omitted
    pub server: Option<String>,
    /// Username
    #[arg(short, long)]
    pub username: Option<String>,
    /// Password (visible to other users in the process list: prefer --password-stdin)
    #[arg(short, long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from stdin
    #[arg(long)]
    pub password_stdin: bool,
    /// Speak plain HTTP to this registry (host[:port]); localhost always may
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry (host[:port]); Docker Hub when omitted
    pub server: Option<String>,
}

pub fn login(args: &LoginArgs) -> Result<i32> {
    let server = args.server.as_deref().unwrap_or(DOCKER_HUB);
    let username = match &args.username {
        Some(name) => name.clone(),
        None => {
            // As Docker's: ask on a terminal, refuse without one.
            if args.password_stdin {
                return Err(eyre!(
                    "login to {server}: --password-stdin needs the username (-u)"
                ));
            }
            interactive()?;
            prompt("Username: ", true)?
        }
    };
    if username.is_empty() {
        return Err(eyre!("login to {server}: the username is empty"));
    }
    let password = if args.password_stdin {
        read_password_stdin()?
    } else if let Some(password) = &args.password {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
        password.clone()
    } else {
        interactive()?;
        prompt("Password: ", false)?
    };
    if password.is_empty() {
        return Err(eyre!("login to {server}: the password is empty"));
    }
    let credentials = Credentials { username, password };
    let store = CredentialStore::user();
    let insecure = Settings::load()?.insecure_registries(&args.insecure_registries);
    let file = registry_login(&store, server, &credentials, &insecure)?;
    eprintln!("Credentials saved in {}", file.display());
    println!("Login Succeeded");
    Ok(0)
}

pub fn logout(args: &LogoutArgs) -> Result<i32> {
    let server = args.server.as_deref().unwrap_or(DOCKER_HUB);
    let name = registry_name(server);
    if registry_logout(&CredentialStore::user(), server)? {
        println!("Removing login credentials for {name}");
    } else {
        println!("Not logged in to {name}");
    }
    Ok(0)
}

/// Prompts can only be answered on a terminal; Docker's words otherwise.
fn interactive() -> Result<()> {
    if std::io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(eyre!(
            "Cannot perform an interactive login from a non TTY device"
        ))
    }
}

/// Asks on stdout (as Docker's) and reads one line from the terminal on stdin, with the
/// terminal's echo off for a password (and back on afterwards, whatever happens).
fn prompt(question: &str, echo: bool) -> Result<String> {
    use nix::sys::termios::{self, LocalFlags, SetArg};
    let mut out = std::io::stdout().lock();
    write!(out, "{question}")?;
    out.flush()?;
    let stdin = std::io::stdin();
    let saved = if echo {
        None
    } else {
        let saved = termios::tcgetattr(stdin.as_fd())
            .map_err(|e| eyre!("reading the terminal's settings: {e}"))?;
        let mut quiet = saved.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &quiet)
            .map_err(|e| eyre!("turning the terminal's echo off: {e}"))?;
        Some(saved)
    };
    let mut bytes = Vec::new();
    let read = stdin
        .lock()
        .take(MAX_PASSWORD + 1)
        .read_until(b'\n', &mut bytes);
    if let Some(saved) = saved {
        if let Err(e) = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &saved) {
            eprintln!("warning: restoring the terminal's echo: {e}");
        }
        // The Enter typed was not echoed.
        writeln!(out)?;
    }
    read.map_err(|e| eyre!("reading the answer to {:?}: {e}", question.trim()))?;
    if bytes.len() as u64 > MAX_PASSWORD {
        return Err(eyre!("the answer is longer than {MAX_PASSWORD} bytes"));
    }
    let text = String::from_utf8(bytes).map_err(|_| eyre!("the answer is not UTF-8"))?;
    Ok(text.trim_end_matches(['\n', '\r']).trim().to_owned())
}

/// The password: stdin up to its end, without the trailing line break.
fn read_password_stdin() -> Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_PASSWORD + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| eyre!("reading the password from stdin: {e}"))?;
    if bytes.len() as u64 > MAX_PASSWORD {
        return Err(eyre!(
            "the password on stdin is longer than {MAX_PASSWORD} bytes"
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| eyre!("the password is not UTF-8"))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}
