//! An image's build history matched to its layers, as `docker history` shows it.
//!
//! The config's history has one entry per build step; steps that made no layer (ENV,
//! CMD, ...) say `empty_layer`, and the others match the image's layers in order.

use serde::Serialize;

use super::store::ImageRecord;
use crate::ids::Digest;
use crate::{Engine, Result};

/// One build step of an image, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub created: Option<String>,
    pub created_by: Option<String>,
    pub comment: Option<String>,
    /// Index (bottom first) of the layer this step made; None for a step that made none.
    pub layer: Option<usize>,
    /// Bytes of that layer's file content; 0 without a layer.
    pub size: u64,
}

/// An image's history: its ID and the steps, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct ImageHistory {
    pub id: Digest,
    pub entries: Vec<HistoryEntry>,
}

impl Engine {
    /// The build history of the image `name`, every layer matched to the step that made it.
    pub fn image_history(&self, name: &str) -> Result<ImageHistory> {
        let (record, _) = self.find_image(name)?;
        let entries = self.history_of(&record)?;
        Ok(ImageHistory {
            id: record.id,
            entries,
        })
    }

    /// Non-empty history entries match layers in order; layers the history does not
    /// account for (some tools write none) get an entry each, dated as the image.
    pub(super) fn history_of(&self, record: &ImageRecord) -> Result<Vec<HistoryEntry>> {
        let mut sizes = Vec::new();
        for chain in &record.chain_ids {
            sizes.push(self.layer_record(chain)?.size);
        }
        let config = self.image_config(&record.id)?;
        let mut entries = Vec::new();
        let mut next_layer = 0;
        for step in config.history().iter().flatten() {
            let layer = if step.empty_layer().unwrap_or(false) {
                None
            } else {
                next_layer += 1;
                // More steps than layers: the extra ones point at nothing.
                Some(next_layer - 1).filter(|&i| i < sizes.len())
            };
            entries.push(HistoryEntry {
                created: step.created().clone(),
                created_by: step.created_by().clone(),
                comment: step.comment().clone(),
                layer,
                size: layer.map_or(0, |i| sizes[i]),
            });
        }
        for (i, size) in sizes.iter().enumerate().skip(next_layer) {
            entries.push(HistoryEntry {
                created: record.created.clone(),
                created_by: None,
                comment: None,
                layer: Some(i),
                size: *size,
            });
        }
        Ok(entries)
    }
}
