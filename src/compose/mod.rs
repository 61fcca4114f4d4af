//! `berth compose`: multi-container applications from compose files.

pub mod load;
