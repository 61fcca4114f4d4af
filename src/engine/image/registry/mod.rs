//! Images from registries: references, the Distribution API v2 client, and `pull`.

mod client;
mod platform;
mod pull;
mod reference;

pub use platform::Platform;
pub use pull::{Progress, PullEvent, PullOptions, PulledImage};
pub use reference::Reference;
