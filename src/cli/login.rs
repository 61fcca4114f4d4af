//! `login` and `logout`: credentials for registries, kept in berth's config directory.

use std::io::Read;

use clap::Args;
use color_eyre::eyre::eyre;
use color_eyre::Result;

use crate::engine::image::registry::{self, CredentialStore, Credentials};
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
    let server = args.server.as_deref().unwrap_or(registry::DOCKER_HUB);
    let username = args.username.clone().ok_or_else(|| {
        eyre!("login to {server}: give a username (-u) and a password (--password-stdin or -p); berth does not prompt")
    })?;
    let password = if args.password_stdin {
        read_password_stdin()?
    } else if let Some(password) = &args.password {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
        password.clone()
    } else {
        return Err(eyre!(
            "login to {server}: give the password with --password-stdin (or -p); berth does not prompt"
        ));
    };
    if password.is_empty() {
        return Err(eyre!("login to {server}: the password is empty"));
    }
    let credentials = Credentials { username, password };
    let store = CredentialStore::user();
    let insecure = Settings::load()?.insecure_registries(&args.insecure_registries);
    let file = registry::login(&store, server, &credentials, &insecure)?;
    eprintln!("Credentials saved in {}", file.display());
    println!("Login Succeeded");
    Ok(0)
}

pub fn logout(args: &LogoutArgs) -> Result<i32> {
    let server = args.server.as_deref().unwrap_or(registry::DOCKER_HUB);
    let name = registry::registry_name(server);
    if registry::logout(&CredentialStore::user(), server)? {
        println!("Removing login credentials for {name}");
    } else {
        println!("Not logged in to {name}");
    }
    Ok(0)
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
