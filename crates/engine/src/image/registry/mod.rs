//! Images from registries: references, the Distribution API v2 client, and `pull`.

mod auth;
mod challenge;
mod client;
mod counting;
mod credentials;
mod login;
mod platform;
mod pull;
mod pump;
mod push;
mod reference;
mod resume;
mod search;
mod upload;

pub use credentials::{CredentialStore, Credentials, Found};
pub use login::{login, logout, registry_name};
pub use platform::Platform;
pub use pull::{Cancel, Progress, PullEvent, PullOptions, PulledImage};
pub use push::{PushEvent, PushOptions, PushedImage};
pub use reference::{Reference, DOCKER_HUB};
pub use search::search;
