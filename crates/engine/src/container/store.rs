//! Finding, reading and writing container records.

use std::collections::HashSet;
use std::path::PathBuf;

use super::record::ContainerRecord;
use crate::error::{Context, Error, Result};
use crate::ids::{ContainerId, Digest};
use crate::state::{read_json_opt, write_json_atomic};
use crate::Engine;

const RECORD_FILE: &str = "record.json";

impl Engine {
    pub(crate) fn container_dir(&self, id: &ContainerId) -> PathBuf {
        self.paths().container(id)
    }

    fn record_path(&self, id: &ContainerId) -> PathBuf {
        self.container_dir(id).join(RECORD_FILE)
    }

    /// Every container record, oldest first. Directories without a record (a create that
    /// is still in progress or was interrupted) are skipped.
    pub(crate) fn load_records(&self) -> Result<Vec<ContainerRecord>> {
        let dir = self.paths().containers_dir();
        let mut records = Vec::new();
        for entry in std::fs::read_dir(&dir).context(|| format!("listing {}", dir.display()))? {
            let entry = entry.context(|| format!("listing {}", dir.display()))?;
            let Some(id) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<ContainerId>().ok())
            else {
                continue;
            };
            if let Some(record) = read_json_opt::<ContainerRecord>(&self.record_path(&id))? {
                records.push(record);
            }
        }
        records.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        Ok(records)
    }

    pub(crate) fn load_record(&self, id: &ContainerId) -> Result<ContainerRecord> {
        read_json_opt(&self.record_path(id))?.ok_or_else(|| Error::NoSuchContainer(id.to_string()))
    }

    pub(crate) fn save_record(&self, record: &ContainerRecord) -> Result<()> {
        write_json_atomic(&self.record_path(&record.id), record)
    }

    /// Resolves a name, full ID or unique ID prefix, as Docker does: an exact ID wins,
    /// then an exact name, then a unique prefix.
    pub(crate) fn find_record(&self, name_or_id: &str) -> Result<ContainerRecord> {
        let wanted = name_or_id.strip_prefix('/').unwrap_or(name_or_id);
        if wanted.is_empty() {
            return Err(Error::NoSuchContainer(name_or_id.to_owned()));
        }
        let records = self.load_records()?;
        if let Some(r) = records.iter().find(|r| r.id.as_str() == wanted) {
            return Ok(r.clone());
        }
        if let Some(r) = records.iter().find(|r| r.name == wanted) {
            return Ok(r.clone());
        }
        let mut matches = records.iter().filter(|r| r.id.as_str().starts_with(wanted));
        match (matches.next(), matches.next()) {
            (Some(r), None) => Ok(r.clone()),
            (Some(_), Some(_)) => Err(Error::AmbiguousContainer(wanted.to_owned())),
            _ => Err(Error::NoSuchContainer(name_or_id.to_owned())),
        }
    }

    /// Containers created from the image with this ID, as (short ID, name).
    pub(crate) fn containers_using_image(
        &self,
        image_id: &Digest,
    ) -> Result<Vec<(ContainerId, String)>> {
        Ok(self
            .load_records()?
            .into_iter()
            .filter(|r| &r.image_id == image_id)
            .map(|r| (r.id, r.name))
            .collect())
    }

    /// Chain IDs of every layer some container stacks on; layer cleanup must keep them.
    pub(crate) fn layers_used_by_containers(&self) -> Result<HashSet<Digest>> {
        Ok(self
            .load_records()?
            .into_iter()
            .flat_map(|r| r.chain_ids)
            .collect())
    }
}
