//! The build context: a directory read by descriptor.
