//! `berth compose`: compose files loaded into a model (`load`), typed as berth's subset
//! (`model`), and run on the engine with Docker Compose's semantics (`project`). Front
//! doors (the CLI, later the dashboard's Projects pane) only parse and render.

pub mod load;
pub mod model;
pub mod project;
