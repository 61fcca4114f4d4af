//! COPY and ADD: sources from the context (after `.dockerignore`), from a here-document,
//! or from a stage or image (`--from`), placed as BuildKit places them, owned by
//! `--chown` (default root) with `--chmod`'s mode; ADD unpacks local archives.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::*;
use crate::build::chmod::Chmod;
use crate::build::context::Manifest;
use crate::build::dockerfile::Copy;
use crate::build::image_fs::Found;
use crate::build::selection::TarOptions;

/// What a URL source looks like (ADD's remote sources, git contexts).
fn is_remote(source: &str) -> bool {
    ["http://", "https://", "git@", "git://"]
        .iter()
        .any(|p| source.starts_with(p))
}

impl Builder<'_> {
    pub(super) fn copy_step(
        &mut self,
        state: &mut StageState,
        copy: &Copy,
        shown: &str,
        scope: &str,
        results: &[Option<ImageState>],
        context: &BuildContext,
    ) -> Result<()> {
        let what = if copy.add { "ADD" } else { "COPY" };
        if let Some(remote) = copy.sources.iter().find(|s| is_remote(s)) {
            return Err(build_error(format!(
                "{what} {remote}: remote sources are not supported: berth builds from local files only"
            )));
        }
        let number = self.start_counted(state, shown);
        let fail = |builder: &mut Self, e: Error| {
            builder.observer.event(BuildEvent::Error {
                number,
                message: e.to_string(),
            });
            e
        };
        let workdir = {
            let w = state.image.string("WorkingDir");
            if w.is_empty() {
                "/".to_owned()
            } else {
                w
            }
        };
        let mut dest = if copy.dest.starts_with('/') {
            copy.dest.clone()
        } else {
            format!("{}/{}", workdir.trim_end_matches('/'), copy.dest)
        };
        if copy.dest.ends_with('/') || copy.dest == "." || copy.dest.ends_with("/.") {
            dest = format!("{}/", cfg::clean_path(&dest).trim_end_matches('/'));
        }
        let chown = match &copy.chown {
            Some(spec) => {
                Some(resolve_chown(self.engine, &state.image, spec).map_err(|e| fail(self, e))?)
            }
            None => None,
        };
        let chmod = copy
            .chmod
            .as_deref()
            .map(Chmod::parse)
            .transpose()
            .map_err(|e| fail(self, e))?;
        let mut inputs = KeyInputs::new();
        inputs.add(InputKind::Parent, state.key.to_string()).add(
            InputKind::Instruction,
            format!("{what} {:?} {dest}", copy.sources),
        );
        let created_by = copy_history(what, copy);
        if let Some((u, g)) = chown {
            inputs.add(InputKind::Setting("--chown".into()), format!("{u}:{g}"));
        }
        if let Some(text) = &copy.chmod {
            inputs.add(InputKind::Setting("--chmod".into()), text.clone());
        }
        inputs.add(InputKind::Setting("platform".into()), platform_text());
        if copy.link {
            inputs.add(InputKind::Setting("--link".into()), "true");
        }
        for h in &copy.heredocs {
            inputs.add(
                InputKind::Setting(format!("heredoc {}", h.name)),
                h.content.clone(),
            );
        }
        // The sources: the context's selection, or a stage's or image's files.
        let source_image = match &copy.from {
            Some(from) => Some(
                self.source_image(from, results)
                    .map_err(|e| fail(self, e))?,
            ),
            None => None,
        };
        let selection = match (&source_image, copy.sources.is_empty()) {
            (None, false) => Some(context.select(&copy.sources).map_err(|e| fail(self, e))?),
            _ => None,
        };
        let mut manifest = None;
        if let Some(selection) = &selection {
            let digest = selection.digest().map_err(|e| fail(self, e))?;
            inputs.add(InputKind::Sources, digest.to_string());
            manifest = Some(selection.manifest().map_err(|e| fail(self, e))?);
        }
        if let (Some(from), Some(image)) = (&copy.from, &source_image) {
            inputs.add(
                InputKind::FromImage(from.clone()),
                image.id.as_ref().map(|d| d.to_string()).unwrap_or_default(),
            );
        }
        let started = Instant::now();
        let now_manifest = manifest.clone();
        let explain = move |older: &CacheEntry| -> Option<String> {
            let older: Manifest = serde_json::from_value(older.manifest.clone()?).ok()?;
            now_manifest.as_ref()?.first_difference(&older)
        };
        // `--link`: the layer does not depend on the parent (nothing of it is looked at;
        // an owner by name is resolved above and is in the inputs), so it is also kept
        // under a key without the parent, and a changed base reuses it.
        let link_inputs = copy.link.then(|| KeyInputs {
            inputs: inputs
                .inputs
                .iter()
                .filter(|i| i.kind != InputKind::Parent)
                .cloned()
                .collect(),
        });
        let link_hit = match &link_inputs {
            Some(li) if !self.opts.no_cache => self
                .cache
                .get(&li.key())?
                .filter(|e| self.engine.image_record(&e.image).is_ok()),
            _ => None,
        };
        // A reusable layer is no miss to explain: the step shows CACHED.
        let shown_miss = link_hit.is_none().then_some(number);
        if let Some(hit) = self.lookup(shown_miss, scope, &inputs, &explain)? {
            state.image = self.engine.image_state(&hit.image)?;
            state.key = inputs.key();
            self.cached += 1;
            self.observer.event(BuildEvent::Cached { number });
            return Ok(());
        }
        if let (Some(hit), Some(link_inputs)) = (&link_hit, &link_inputs) {
            let rebased = self
                .engine
                .rebase_layer_step(&state.image, &hit.image, &created_by)
                .map_err(|e| fail(self, e))?;
            if let Some((next, size)) = rebased {
                let manifest = manifest.as_ref().and_then(|m| serde_json::to_value(m).ok());
                for keyed in [&inputs, link_inputs] {
                    self.store(keyed, &next, &created_by, size, started, manifest.clone())?;
                }
                state.image = next;
                state.key = inputs.key();
                self.cached += 1;
                self.observer.event(BuildEvent::Cached { number });
                return Ok(());
            }
        }
        let image_fs = ImageFs::open(self.engine, &state.image).map_err(|e| fail(self, e))?;
        // `--link` copies onto an empty tree, as BuildKit's merged layer: nothing of the
        // base is looked at (a destination without `/` is a file's path, every parent
        // is made afresh, no link of the base is followed).
        let link = copy.link;
        // Where the files land: the destination with the image's links followed inside
        // the image (BuildKit's), so nothing is written through a link.
        if !link {
            let slash = dest.ends_with('/');
            let real = image_fs.real_path(&dest).map_err(|e| fail(self, e))?;
            dest = match (real.is_empty(), slash) {
                (false, true) => format!("/{real}/"),
                _ => format!("/{real}"),
            };
        }
        let dest_is_dir = if link {
            dest.ends_with('/')
        } else {
            image_has_dir(&image_fs, &dest).map_err(|e| fail(self, e))?
        };
        // A parent BuildKit's MkdirAll would find (through the image's links); a loop
        // counts as present, so nothing is made over it and the extraction fails on it.
        let exists = |p: &str| !link && image_fs.resolve(p).map_or(true, |f| f.is_some());
        let from_name = source_image.as_ref().and(copy.from.clone());
        let sources = copy.sources.clone();
        let heredocs = copy.heredocs.clone();
        let add = copy.add;
        let heredocs_empty = copy.heredocs.is_empty();
        let fill = |out: &mut dyn Write| -> Result<()> {
            if let Some(selection) = selection {
                let (selection, archives) = if add {
                    selection.split_archives()?
                } else {
                    (selection, Vec::new())
                };
                let opts = TarOptions {
                    dest: &dest,
                    dest_is_dir,
                    chown,
                    chmod: chmod.clone(),
                    exists: Some(&exists),
                };
                // The tar's end blocks would end the stream: write it through a filter
                // that drops them when archives follow.
                if archives.is_empty() {
                    selection.write_tar_with(&opts, out)?;
                } else {
                    let mut buf = Vec::new();
                    selection.write_tar_with(&opts, &mut buf)?;
                    out.write_all(strip_tar_end(&buf))
                        .map_err(|e| io_error("writing the copy", e))?;
                    for archive in archives {
                        let mut plain = archive.tar_stream()?;
                        rebase_tar(&mut plain, dest.trim_end_matches('/'), out)?;
                    }
                    out.write_all(&[0u8; 1024])
                        .map_err(|e| io_error("writing the copy", e))?;
                }
                return Ok(());
            }
            if !heredocs.is_empty() {
                let into_dir = heredocs.len() > 1 || dest.ends_with('/') || dest_is_dir;
                let mut buf = Vec::new();
                for h in &heredocs {
                    let path = if into_dir {
                        format!("{}/{}", dest.trim_end_matches('/'), h.name)
                    } else {
                        dest.clone()
                    };
                    let mut one = Vec::new();
                    heredoc_tar(
                        &mut one,
                        &path,
                        h.content.as_bytes(),
                        chmod.as_ref().map_or(0o644, |c| c.apply(0o644, false)),
                        chown.unwrap_or((0, 0)),
                    )?;
                    buf.extend_from_slice(strip_tar_end(&one));
                }
                buf.extend_from_slice(&[0u8; 1024]);
                return out
                    .write_all(&buf)
                    .map_err(|e| io_error("writing the copy", e));
            }
            let _ = (&from_name, &sources);
            Ok(())
        };
        let result = if let (Some(image), Some(_)) = (&source_image, &copy.from) {
            self.copy_from_image(
                state,
                image,
                &copy.sources,
                &dest,
                dest_is_dir,
                chown,
                chmod,
                link,
                &created_by,
            )
        } else if state.image.chain_ids.is_empty() || link {
            // Scratch or `--link`: no tree to copy into; the tar is the layer.
            let tmp = self
                .engine
                .paths()
                .tmp_dir()
                .join(format!("layer-build-{}.tar", crate::ids::random_hex64()));
            let written = (|| {
                let mut file =
                    std::fs::File::create(&tmp).map_err(|e| io_error("creating a layer", e))?;
                fill(&mut file)?;
                file.flush().map_err(|e| io_error("writing a layer", e))?;
                std::fs::File::open(&tmp).map_err(|e| io_error("reading a layer", e))
            })();
            let result = written.and_then(|f| {
                self.engine
                    .store_layer_step(&state.image, &created_by, std::io::BufReader::new(f))
            });
            let _ = std::fs::remove_file(&tmp);
            result
        } else if let Some(parents) = (!add && heredocs_empty)
            .then(|| direct_parents(&image_fs, &dest))
            .transpose()
            .map_err(|e| fail(self, e))?
            .flatten()
        {
            self.copy_as_layer(state, &image_fs, &parents, &dest, fill, &created_by)
        } else {
            let base = self.materialize(state)?;
            self.engine
                .copy_into_build_container(&base, fill)
                .and_then(|c| {
                    self.engine
                        .commit_build_container(&c, &state.image, &created_by)
                })
        };
        let (next, size) = result.map_err(|e| fail(self, e))?;
        let manifest = manifest.and_then(|m| serde_json::to_value(m).ok());
        if let Some(link_inputs) = &link_inputs {
            self.store(
                link_inputs,
                &next,
                &created_by,
                size,
                started,
                manifest.clone(),
            )?;
        }
        self.store(&inputs, &next, &created_by, size, started, manifest)?;
        state.image = next;
        state.key = inputs.key();
        self.ran += 1;
        self.observer.event(BuildEvent::Done {
            number,
            elapsed: started.elapsed(),
            size,
        });
        Ok(())
    }

    /// A context COPY whose tar can be the layer itself (no build container, no second
    /// copy of every file): the tar `fill` writes, after entries that keep the image's
    /// metadata of the existing directories it lands in (overlayfs shows an upper
    /// directory's owner and mode). When an entry would land on something of another
    /// kind in the image (a file over a directory, anything under a symlink), the tar is
    /// extracted in a build container instead, as before.
    fn copy_as_layer(
        &mut self,
        state: &mut StageState,
        image_fs: &ImageFs,
        parents: &[Found],
        dest: &str,
        fill: impl FnOnce(&mut dyn Write) -> Result<()>,
        created_by: &str,
    ) -> Result<(ImageState, u64)> {
        let tmp = self
            .engine
            .paths()
            .tmp_dir()
            .join(format!("layer-build-{}.tar", crate::ids::random_hex64()));
        let _remove = RemoveOnDrop(&tmp);
        let file = std::fs::File::create(&tmp).map_err(|e| io_error("creating a layer", e))?;
        let mut out = std::io::BufWriter::new(file);
        out.write_all(&parent_entries(parents)?)
            .map_err(|e| io_error("writing a layer", e))?;
        fill(&mut out)?;
        out.into_inner()
            .map_err(|e| io_error("writing a layer", e.into_error()))?;
        let layer = || {
            std::fs::File::open(&tmp)
                .map(std::io::BufReader::new)
                .map_err(|e| io_error("reading a layer", e))
        };
        // Only a destination that already holds something (the root always does) can
        // conflict.
        let dest_rel = dest.trim_matches('/');
        let conflicts = (dest_rel.is_empty() || parents.iter().any(|p| p.path == dest_rel))
            && has_conflicts(image_fs, layer()?)?;
        self.tar_as_step(state, &tmp, !conflicts, created_by)
    }

    /// `--from=`: an earlier stage's result or an image (pulled if missing).
    pub(super) fn source_image(
        &mut self,
        from: &str,
        results: &[Option<ImageState>],
    ) -> Result<ImageState> {
        let lower = from.to_ascii_lowercase();
        // Stages by name or index; the dockerfile's stages were resolved into `results`.
        if let Ok(i) = from.parse::<usize>() {
            if let Some(Some(image)) = results.get(i) {
                return Ok(image.clone());
            }
        }
        if let Some(image) = self
            .stage_names
            .get(&lower)
            .and_then(|i| results.get(*i))
            .cloned()
            .flatten()
        {
            return Ok(image);
        }
        let id = self.base_image(from)?;
        self.engine.image_state(&id)
    }

    /// COPY --from: each source read out of a build container of `image`, renamed to its
    /// place under `dest`, owned and moded as asked, then copied in.
    #[allow(clippy::too_many_arguments)]
    fn copy_from_image(
        &mut self,
        state: &mut StageState,
        image: &ImageState,
        sources: &[String],
        dest: &str,
        dest_is_dir: bool,
        chown: Option<(u32, u32)>,
        chmod: Option<Chmod>,
        link: bool,
        created_by: &str,
    ) -> Result<(ImageState, u64)> {
        let source_id = match &image.id {
            Some(id) => id.clone(),
            None => return Err(build_error("COPY --from a stage with no files")),
        };
        let spec = RunSpec {
            network: Some("none".into()),
            ..Default::default()
        };
        // Wildcards match in the source's own filesystem, read by descriptor.
        let mut paths = Vec::new();
        let mut image_fs = None;
        for src in sources {
            let cleaned = cfg::clean_path(&format!("/{src}"));
            if !crate::build::ignore::has_wildcards(src) {
                paths.push(cleaned);
                continue;
            }
            let fs = match image_fs.take() {
                Some(fs) => fs,
                None => ImageFs::open(self.engine, image)?,
            };
            let matched = fs.glob(&cleaned)?;
            image_fs = Some(fs);
            if matched.is_empty() {
                return Err(build_error(format!(
                    "failed to compute cache key: \"{cleaned}\": not found"
                )));
            }
            paths.extend(matched.into_iter().map(|p| format!("/{p}")));
        }
        let source = self.engine.build_container(&source_id, &spec, false)?;
        let into_dir = sources.len() > 1 || paths.len() > 1 || dest.ends_with('/') || dest_is_dir;
        // The renamed entries go to a file of tmp/ (a stage's files may be large), one
        // tar for all sources.
        let tmp = self
            .engine
            .paths()
            .tmp_dir()
            .join(format!("build-copy-{}.tar", crate::ids::random_hex64()));
        struct Remove<'p>(&'p Path);
        impl Drop for Remove<'_> {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(self.0);
            }
        }
        let _remove = Remove(&tmp);
        let file = std::fs::File::create(&tmp).map_err(|e| io_error("creating the copy", e))?;
        let mut builder = tar::Builder::new(std::io::BufWriter::new(file));
        for path in paths {
            let stat = self
                .engine
                .stat_container_path(source.record.id.as_str(), &path)
                .map_err(|_| {
                    build_error(format!(
                        "failed to compute cache key: \"{path}\": not found"
                    ))
                })?;
            let is_dir = matches!(
                stat.resolved.as_ref().map(|r| r.1).unwrap_or(stat.kind),
                crate::storage::copy::PathKind::Dir
            );
            let mut out =
                self.engine
                    .copy_from_container(source.record.id.as_str(), &path, true)?;
            let base = if is_dir || into_dir {
                dest.trim_end_matches('/').to_owned()
            } else {
                dest.to_owned()
            };
            // The archive names entries under the source's own name, except a source
            // named `.` (`/`, `dir/.`): its entries are the directory's contents as they
            // are (hard links' targets may keep a `./`).
            let unnamed = crate::storage::copy::archive_name(&path) == ".";
            // Where an entry of the source's archive lands (hard links' targets too).
            let place = |name: &str| -> String {
                let (first, rest) = if unnamed {
                    let mut rel = name;
                    while let Some(r) = rel.strip_prefix("./") {
                        rel = r;
                    }
                    ("", if rel == "." { "" } else { rel })
                } else {
                    name.split_once('/').unwrap_or((name, ""))
                };
                let rest = rest.trim_end_matches('/');
                let target = if is_dir {
                    if rest.is_empty() {
                        base.clone()
                    } else {
                        format!("{base}/{rest}")
                    }
                } else if into_dir {
                    format!("{base}/{first}")
                } else {
                    base.clone()
                };
                target.trim_start_matches('/').to_owned()
            };
            let mut archive = tar::Archive::new(&mut out);
            for entry in archive
                .entries()
                .map_err(|e| io_error("reading the copy", e))?
            {
                let mut entry = entry.map_err(|e| io_error("reading the copy", e))?;
                let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                let target = place(&name);
                if target.is_empty() {
                    continue;
                }
                let mut header = entry.header().clone();
                // Without --chown, a stage's files keep their owners (BuildKit copies them
                // as they are; only the context's files are root's).
                if let Some((u, g)) = chown {
                    header.set_uid(u as u64);
                    header.set_gid(g as u64);
                }
                if let Some(c) = &chmod {
                    if header.entry_type() != tar::EntryType::Symlink {
                        let is_dir = header.entry_type() == tar::EntryType::Directory;
                        header.set_mode(c.apply(header.mode().unwrap_or(0o644), is_dir));
                    }
                }
                match header.entry_type() {
                    tar::EntryType::Symlink | tar::EntryType::Link => {
                        let link = header.link_name().ok().flatten().map(|l| l.into_owned());
                        let Some(link) = link else { continue };
                        let link = if header.entry_type() == tar::EntryType::Link {
                            PathBuf::from(place(&link.to_string_lossy()))
                        } else {
                            link
                        };
                        builder
                            .append_link(&mut header, &target, link)
                            .map_err(|e| io_error("writing the copy", e))?;
                    }
                    _ => builder
                        .append_data(&mut header, &target, &mut entry)
                        .map_err(|e| io_error("writing the copy", e))?,
                }
            }
        }
        drop(source);
        builder
            .into_inner()
            .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
            .map_err(|e| io_error("writing the copy", e))?;
        // `--link`: the entries are the layer (missing parents made root's, 0755).
        let direct = state.image.chain_ids.is_empty() || link;
        self.tar_as_step(state, &tmp, direct, created_by)
    }

    /// The layer tar at `tmp` as the step's result: stored as the layer itself when
    /// `direct`, else extracted over the stage's image in a build container and
    /// committed from there.
    fn tar_as_step(
        &mut self,
        state: &mut StageState,
        tmp: &Path,
        direct: bool,
        created_by: &str,
    ) -> Result<(ImageState, u64)> {
        let layer = || {
            std::fs::File::open(tmp)
                .map(std::io::BufReader::new)
                .map_err(|e| io_error("reading a layer", e))
        };
        if direct {
            return self
                .engine
                .store_layer_step(&state.image, created_by, layer()?);
        }
        let base = self.materialize(state)?;
        let container = self.engine.copy_into_build_container(&base, |out| {
            std::io::copy(&mut layer()?, out)
                .map(drop)
                .map_err(|e| io_error("writing the copy", e))
        })?;
        self.engine
            .commit_build_container(&container, &state.image, created_by)
    }
}

/// Removes a temp file when dropped (also on errors).
struct RemoveOnDrop<'p>(&'p Path);

impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

/// A COPY's or ADD's history line as BuildKit's dockerfile2llb writes it: the instruction,
/// `--parents`, `--chown=` and `--chmod=` as given (after expansion), the sources, each
/// here-document as `<<NAME`, the destination. `--from` and `--link` are not shown.
fn copy_history(what: &str, copy: &Copy) -> String {
    let mut line = what.to_owned();
    if copy.parents {
        line.push_str(" --parents");
    }
    if let Some(chown) = &copy.chown {
        line.push_str(&format!(" --chown={chown}"));
    }
    if let Some(chmod) = &copy.chmod {
        line.push_str(&format!(" --chmod={chmod}"));
    }
    for source in &copy.sources {
        line.push(' ');
        line.push_str(source);
    }
    for h in &copy.heredocs {
        line.push_str(" <<");
        line.push_str(&h.name);
    }
    format!("{line} {} # buildkit", copy.dest)
}

/// The existing directories a COPY to `dest` lands in, its parents and `dest` itself,
/// when its tar can be the layer: every existing one a real directory (no symlink on the
/// way), `dest` absent or a directory. `None`: extract it in a build container.
fn direct_parents(fs: &ImageFs, dest: &str) -> Result<Option<Vec<Found>>> {
    let parts: Vec<&str> = dest.split('/').filter(|p| !p.is_empty()).collect();
    let mut found = Vec::new();
    let mut prefix = String::new();
    for part in parts {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(part);
        match fs.lookup(&prefix)? {
            Some(entry) if entry.kind == Kind::Dir => found.push(entry),
            Some(_) => return Ok(None),
            None => break,
        }
    }
    Ok(Some(found))
}

/// Directory entries with the image's owner, mode and time for `parents` (a tar without
/// its end blocks).
fn parent_entries(parents: &[Found]) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for dir in parents {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(dir.mode);
        header.set_uid(u64::from(dir.uid));
        header.set_gid(u64::from(dir.gid));
        header.set_mtime(dir.mtime.max(0) as u64);
        header.set_size(0);
        builder
            .append_data(&mut header, format!("{}/", dir.path), std::io::empty())
            .map_err(|e| io_error("writing a layer", e))?;
    }
    let buf = builder
        .into_inner()
        .map_err(|e| io_error("writing a layer", e))?;
    Ok(strip_tar_end(&buf).to_vec())
}

/// Whether an entry of the tar lands on something of another kind in the image (a file
/// over a directory, a directory over a file or symlink), where a layer and an extraction
/// differ.
fn has_conflicts(fs: &ImageFs, tar: impl Read) -> Result<bool> {
    let mut archive = tar::Archive::new(tar);
    for entry in archive
        .entries()
        .map_err(|e| io_error("reading a layer", e))?
    {
        let entry = entry.map_err(|e| io_error("reading a layer", e))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let is_dir = entry.header().entry_type() == tar::EntryType::Directory;
        if let Some(found) = fs.lookup(&name)? {
            if (found.kind == Kind::Dir) != is_dir {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn io_error(context: &str, err: std::io::Error) -> Error {
    Error::Io {
        context: context.to_owned(),
        err,
    }
}

/// A tar without its end-of-archive blocks (so another can follow in one stream).
fn strip_tar_end(buf: &[u8]) -> &[u8] {
    let mut end = buf.len();
    while end >= 512 && buf[end - 512..end].iter().all(|b| *b == 0) {
        end -= 512;
    }
    &buf[..end]
}

/// ADD's archive: its entries re-written under `dest`, owners kept (as Docker's ADD).
fn rebase_tar(input: &mut dyn Read, dest: &str, out: &mut dyn Write) -> Result<()> {
    let mut archive = tar::Archive::new(input);
    // Streamed into `out` (an archive may be large); its end blocks are held back, as
    // more entries follow in the same stream.
    let sealed = std::rc::Rc::new(std::cell::Cell::new(false));
    let mut builder = tar::Builder::new(Sealable {
        out,
        sealed: sealed.clone(),
    });
    for entry in archive
        .entries()
        .map_err(|e| io_error("reading the archive", e))?
    {
        let mut entry = entry.map_err(|e| io_error("reading the archive", e))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let clean = cfg::clean_path(&format!("/{name}"));
        let target = format!("{}{}", dest.trim_end_matches('/'), clean);
        let target = target.trim_start_matches('/').to_owned();
        if target.is_empty() {
            continue;
        }
        let mut header = entry.header().clone();
        match header.entry_type() {
            tar::EntryType::Link | tar::EntryType::Symlink => {
                let link = header.link_name().ok().flatten().map(|l| l.into_owned());
                if let Some(mut link) = link {
                    if header.entry_type() == tar::EntryType::Link {
                        let l = cfg::clean_path(&format!("/{}", link.display()));
                        link = format!("{}{}", dest.trim_end_matches('/'), l)
                            .trim_start_matches('/')
                            .into();
                    }
                    builder
                        .append_link(&mut header, &target, link)
                        .map_err(|e| io_error("writing the archive", e))?;
                }
            }
            _ => {
                builder
                    .append_data(&mut header, &target, &mut entry)
                    .map_err(|e| io_error("writing the archive", e))?;
            }
        }
    }
    sealed.set(true);
    builder
        .finish()
        .map_err(|e| io_error("writing the archive", e))
}

/// A writer that drops what is written once sealed (a tar's end blocks).
struct Sealable<'a> {
    out: &'a mut dyn Write,
    sealed: std::rc::Rc<std::cell::Cell<bool>>,
}

impl Write for Sealable<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.sealed.get() {
            return Ok(buf.len());
        }
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
