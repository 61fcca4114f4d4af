//! The Dockerfile parser (being written).
