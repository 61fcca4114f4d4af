//! `builder prune` and the "Build Cache" row of `system df`: the cache's entries, the
//! step images only they hold, and the RUN cache mounts.

use std::collections::HashSet;

use chrono::Utc;

use super::cache::{CacheEntry, CacheStore};
use crate::error::{Context, Result};
use crate::ids::Digest;
use crate::system::UsageTotals;
use crate::Engine;

/// What `builder prune` removed.
#[derive(Debug, Clone, Default)]
pub struct BuildPruned {
    /// The keys of the removed entries.
    pub removed: Vec<Digest>,
    /// Bytes freed (the removed steps' layers).
    pub reclaimed: u64,
}

impl Engine {
    /// The images that hold something for users (tagged, used by a container, or listed:
    /// a build's untagged result): a cache entry whose image is one of those is "in use",
    /// and a prune removes only the entry.
    fn images_in_use(&self) -> Result<HashSet<Digest>> {
        let tags = self.tags()?;
        let mut used: HashSet<Digest> = tags.values().cloned().collect();
        for record in self.load_records()? {
            used.insert(record.image_id.clone());
        }
        for image in self.image_records()? {
            if image.listed(&tags) {
                used.insert(image.id);
            }
        }
        Ok(used)
    }

    /// `builder prune`: entries not used since `until` ago (all without a filter); without
    /// `all`, only those whose image nobody uses (BuildKit's dangling cache). Step images
    /// only the removed entries held go too, and those no entry names, then their layers;
    /// with `all`, the RUN cache mounts as well.
    pub fn prune_build_cache(&self, all: bool, until: Option<i64>) -> Result<BuildPruned> {
        let cache = CacheStore::open(self.paths().root())?;
        let lock = self.lock()?;
        let in_use = self.images_in_use()?;
        let cutoff = until.map(|nanos| Utc::now() - chrono::Duration::nanoseconds(nanos));
        let entries = cache.entries()?;
        let (gone, kept): (Vec<CacheEntry>, Vec<CacheEntry>) = entries.into_iter().partition(|e| {
            cutoff.is_none_or(|c| e.last_used < c) && (all || !in_use.contains(&e.image))
        });
        let still_held: HashSet<&Digest> = kept.iter().map(|e| &e.image).collect();
        let mut pruned = BuildPruned::default();
        for entry in &gone {
            cache.remove(&entry.key)?;
            pruned.removed.push(entry.key.clone());
            if in_use.contains(&entry.image) || still_held.contains(&entry.image) {
                continue;
            }
            let path = self.image_record_path(&entry.image);
            if path.exists() {
                std::fs::remove_file(&path).context(|| format!("removing {}", path.display()))?;
                pruned.reclaimed += entry.size;
            }
        }
        // Step images no entry names any more (a `--no-cache` build's, whose entries
        // replaced theirs, or a build killed between a step and its entry): dangling
        // cache. One stored a moment ago may be a running build's, its entry not written.
        let settled = Utc::now() - chrono::Duration::seconds(60);
        let mut orphans = false;
        for image in self.image_records()? {
            let free = image.build_step
                && !in_use.contains(&image.id)
                && !still_held.contains(&image.id)
                && image.loaded < settled
                && cutoff.is_none_or(|c| image.loaded < c);
            let path = self.image_record_path(&image.id);
            if free && path.exists() {
                std::fs::remove_file(&path).context(|| format!("removing {}", path.display()))?;
                orphans = true;
            }
        }
        if all && until.is_none() {
            let mounts = cache.dir().join("mounts");
            if mounts.exists() {
                pruned.reclaimed += crate::storage::volumes::dir_size(&mounts);
                let aside = self
                    .paths()
                    .tmp_dir()
                    .join(format!("gc-{}", crate::ids::random_hex64()));
                std::fs::rename(&mounts, &aside)
                    .context(|| format!("removing {}", mounts.display()))?;
                std::fs::remove_dir_all(&aside)
                    .context(|| format!("removing {}", aside.display()))?;
            }
        }
        if !gone.is_empty() || orphans {
            self.collect_garbage(&lock)?;
        }
        Ok(pruned)
    }

    /// The "Build Cache" row of `system df`: entries, those whose image is in use, the
    /// bytes of their layers, and what a prune could free.
    pub fn build_cache_usage(&self) -> Result<UsageTotals> {
        // Nothing built yet: nothing to count (and no directory made for it).
        if !self.paths().root().join("build").exists() {
            return Ok(UsageTotals::default());
        }
        let cache = CacheStore::open(self.paths().root())?;
        let in_use = self.images_in_use()?;
        let mut totals = UsageTotals::default();
        for entry in cache.entries()? {
            totals.total += 1;
            totals.size += entry.size;
            if in_use.contains(&entry.image) {
                totals.active += 1;
            } else {
                totals.reclaimable += entry.size;
            }
        }
        let mounts = cache.dir().join("mounts");
        if mounts.exists() {
            let size = crate::storage::volumes::dir_size(&mounts);
            totals.size += size;
            totals.reclaimable += size;
        }
        Ok(totals)
    }
}
