//! `berth import`: a root filesystem tar becomes a one-layer image, as `docker import`.

use std::io::Read;

use chrono::{SecondsFormat, Utc};
use oci_spec::image::{
    Arch, Config, HistoryBuilder, ImageConfiguration, ImageConfigurationBuilder, Os, RootFsBuilder,
};

use super::changes;
use super::layers::Expected;
use super::rollback::Rollback;
use super::store::ImageRecord;
use crate::error::{Error, Result};
use crate::events::{Event, ObjectType};
use crate::ids::{Digest, ImageRef};
use crate::Engine;

/// What `berth import` was asked for besides the tar.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `-m`: the history entry's comment (Docker's default: "Imported from -").
    pub message: Option<String>,
    /// `-c`: Dockerfile instructions (CMD, ENTRYPOINT, ENV, ...) for the image's config.
    pub changes: Vec<String>,
    /// The name to give the image.
    pub reference: Option<ImageRef>,
}

impl Engine {
    /// Imports the (gzip, zstd or plain) tar `stream`; `origin` names it in errors.
    pub fn import_rootfs(
        &self,
        stream: impl Read,
        origin: &str,
        opts: &ImportOptions,
    ) -> Result<Digest> {
        // The changes first, so a typo fails before the tar is read.
        let config = import_settings(&opts.changes)?;
        let reference = opts.reference.as_ref();
        let lock = self.lock()?;
        let mut rollback = Rollback::journaled(self.paths())?;
        let expected = Expected {
            blob: None,
            diff_id: None,
            parent: None,
            label: "rootfs",
        };
        let layer = self.add_layer(
            &lock,
            stream,
            &expected,
            std::path::Path::new(origin),
            &mut rollback,
        )?;
        let config = import_config(&layer.diff_id, config, opts.message.as_deref())?;
        let bytes = serde_json::to_vec(&config)
            .map_err(|e| Error::Runtime(format!("encoding image config: {e}")))?;
        let id = self.put_blob(&bytes, &mut rollback)?;
        let record = ImageRecord::new(
            id.clone(),
            vec![layer.diff_id.clone()],
            vec![layer.chain_id.clone()],
            config.created().clone(),
            layer.size,
        );
        self.add_image_record(record, None, &mut rollback)?;
        if let Some(reference) = reference {
            self.set_tags(&lock, std::slice::from_ref(reference), &id)?;
        }
        rollback.commit();
        let mut event = Event::new(ObjectType::Image, "import", id.to_string());
        if let Some(reference) = reference {
            event = event.with("name", reference.to_string());
        }
        self.record_event(&event);
        Ok(id)
    }
}

/// The image's `config` section from `-c` instructions; none when there are none.
fn import_settings(instructions: &[String]) -> Result<Option<Config>> {
    if instructions.is_empty() {
        return Ok(None);
    }
    let mut config = serde_json::json!({});
    for change in instructions {
        changes::apply(&mut config, change)?;
    }
    serde_json::from_value(config)
        .map(Some)
        .map_err(|e| Error::Runtime(format!("building image config: {e}")))
}

fn import_config(
    diff_id: &Digest,
    settings: Option<Config>,
    message: Option<&str>,
) -> Result<ImageConfiguration> {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
    let spec_err =
        |e: oci_spec::OciSpecError| Error::Runtime(format!("building image config: {e}"));
    let history = HistoryBuilder::default()
        .created(now.clone())
        .comment(message.unwrap_or("Imported from -"))
        .build()
        .map_err(spec_err)?;
    let mut config = ImageConfigurationBuilder::default()
        .created(now)
        .architecture(Arch::default())
        .os(Os::default())
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(vec![diff_id.to_string()])
                .build()
                .map_err(spec_err)?,
        )
        .history(vec![history])
        .build()
        .map_err(spec_err)?;
    config.set_config(settings);
    Ok(config)
}
