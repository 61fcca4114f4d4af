//! `berth import`: a root filesystem tar becomes a one-layer image, as `docker import`.

use std::io::Read;

use chrono::{SecondsFormat, Utc};
use oci_spec::image::{
    Arch, HistoryBuilder, ImageConfiguration, ImageConfigurationBuilder, Os, RootFsBuilder,
};

use super::layers::Expected;
use super::rollback::Rollback;
use super::store::ImageRecord;
use crate::error::{Error, Result};
use crate::events::{Event, ObjectType};
use crate::ids::{Digest, ImageRef};
use crate::Engine;

impl Engine {
    /// Imports the (gzip, zstd or plain) tar `stream`; `origin` names it in errors.
    pub fn import_rootfs(
        &self,
        stream: impl Read,
        origin: &str,
        reference: Option<&ImageRef>,
    ) -> Result<Digest> {
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
        let config = import_config(&layer.diff_id)?;
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

fn import_config(diff_id: &Digest) -> Result<ImageConfiguration> {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true);
    let spec_err =
        |e: oci_spec::OciSpecError| Error::Runtime(format!("building image config: {e}"));
    let history = HistoryBuilder::default()
        .created(now.clone())
        .created_by("berth import")
        .comment("Imported from tar")
        .build()
        .map_err(spec_err)?;
    ImageConfigurationBuilder::default()
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
        .map_err(spec_err)
}
