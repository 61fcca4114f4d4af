//! The overlay root filesystem of a container.
