//! Undo for multi-step image writes: everything a load or import creates is registered
//! here and removed again unless the whole operation succeeds, so a failure leaves no
//! half-made layer, blob or record behind.

use std::path::PathBuf;

#[derive(Default)]
pub struct Rollback {
    created: Vec<PathBuf>,
    committed: bool,
}

impl Rollback {
    /// Registers a file or directory that did not exist before this operation.
    pub fn created(&mut self, path: PathBuf) {
        self.created.push(path);
    }

    pub fn commit(mut self) {
        self.committed = true;
    }
}

impl Drop for Rollback {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // Newest first: records go before the layers they name.
        for path in self.created.iter().rev() {
            let _ = match std::fs::symlink_metadata(path) {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
                Ok(_) => std::fs::remove_file(path),
                Err(_) => Ok(()),
            };
        }
    }
}
