//! Layer compression, detected from the stream's magic bytes: media types in manifests
//! are often wrong (docker save labels everything a plain tar), so they are not trusted.

use std::io::{BufRead, Read};

use crate::error::{Context, Result};

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Looks at the first bytes without consuming them.
    pub(crate) fn detect(reader: &mut impl BufRead) -> std::io::Result<Compression> {
        let head = reader.fill_buf()?;
        Ok(if head.starts_with(GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        })
    }
}

/// Wraps `reader` in the decompressor its magic bytes call for.
pub(crate) fn decompress<'a, R: BufRead + 'a>(mut reader: R) -> Result<Box<dyn Read + 'a>> {
    let kind = Compression::detect(&mut reader).context(|| "reading layer".to_owned())?;
    Ok(match kind {
        Compression::None => Box::new(reader),
        // MultiGzDecoder: concatenated gzip members are valid (pigz, some registries).
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(reader)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(reader)
                .context(|| "starting zstd decoder".to_owned())?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Write};

    fn round_trip(data: &[u8], packed: Vec<u8>, want: Compression) {
        let mut reader = BufReader::new(&packed[..]);
        assert_eq!(Compression::detect(&mut reader).unwrap(), want);
        let mut out = Vec::new();
        decompress(reader).unwrap().read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn detects_gzip_zstd_and_plain_by_magic() {
        let data = b"some tar bytes, or anything else".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&data).unwrap();
        round_trip(&data, gz.finish().unwrap(), Compression::Gzip);
        round_trip(
            &data,
            zstd::encode_all(&data[..], 1).unwrap(),
            Compression::Zstd,
        );
        round_trip(&data, data.clone(), Compression::None);
    }
}
