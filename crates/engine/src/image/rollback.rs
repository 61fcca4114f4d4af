//! Undo for multi-step image writes: everything a load or import creates is registered
//! here and removed again unless the whole operation succeeds, so a failure leaves no
//! half-made layer, blob or record behind.
//!
//! A crash runs no undo, so the list is also kept on disk, in a journal `tmp/txn-<random>`
//! written before the operation makes anything visible and removed when it commits (or
//! rolls back). `system check --repair` finishes the undo of a journal it finds.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use crate::error::{Context, Result};
use crate::ids::random_hex64;
use crate::EnginePaths;

/// Prefix of a journal's file name in `tmp/`.
pub(crate) const JOURNAL_PREFIX: &str = "txn-";

#[derive(Default)]
pub struct Rollback {
    created: Vec<PathBuf>,
    committed: bool,
    journal: Option<(PathBuf, File)>,
}

impl Rollback {
    /// A rollback whose list is also written to a journal in `tmp/`.
    pub(crate) fn journaled(paths: &EnginePaths) -> Result<Rollback> {
        let path = paths
            .tmp_dir()
            .join(format!("{JOURNAL_PREFIX}{}", random_hex64()));
        let file = crate::state::open_private(&path, true)
            .context(|| format!("creating journal {}", path.display()))?;
        Ok(Rollback {
            created: Vec::new(),
            committed: false,
            journal: Some((path, file)),
        })
    }

    /// Registers a file or directory that did not exist before this operation.
    pub fn created(&mut self, path: PathBuf) -> Result<()> {
        if let Some((journal, file)) = self.journal.as_mut() {
            let mut line = path.to_string_lossy().into_owned();
            line.push('\n');
            file.write_all(line.as_bytes())
                .context(|| format!("writing journal {}", journal.display()))?;
        }
        self.created.push(path);
        Ok(())
    }

    pub fn commit(mut self) {
        self.committed = true;
    }
}

impl Drop for Rollback {
    fn drop(&mut self) {
        if !self.committed {
            // Newest first: records go before the layers they name.
            for path in self.created.iter().rev() {
                let _ = match std::fs::symlink_metadata(path) {
                    Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
                    Ok(_) => std::fs::remove_file(path),
                    Err(_) => Ok(()),
                };
            }
        }
        if let Some((journal, _)) = self.journal.take() {
            let _ = std::fs::remove_file(journal);
        }
    }
}
