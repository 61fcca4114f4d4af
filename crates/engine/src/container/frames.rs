//! The attach protocol between a monitor and its clients (`run`, `start -a`, `attach`,
//! later the dashboard and the API): length-prefixed frames, each a kind byte, the
//! payload's length (u32 little-endian) and the payload. Encoding and decoding only;
//! who sends what is the monitor's and the clients' business.

use std::io::{self, Read, Write};

/// Frame kinds; the monitor sends the first five, the client the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// The container's process runs; payload: its PID (decimal text).
    Started = 1,
    /// The container could not start; payload: exit code byte, then the message.
    Failed = 2,
    Stdout = 3,
    Stderr = 4,
    /// The container exited; payload: the exit code, i32 little-endian.
    Exited = 5,
    Stdin = 10,
    StdinEof = 11,
    /// A terminal size change; payload: rows and columns, u16 little-endian each.
    Resize = 12,
    /// The client leaves on purpose (`run -d`, `start`): the container's stdin stays
    /// open for a later `attach`, as Docker keeps it for `run -d -i`.
    Detach = 13,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        use Kind::*;
        [
            Started, Failed, Stdout, Stderr, Exited, Stdin, StdinEof, Resize, Detach,
        ]
        .into_iter()
        .find(|k| *k as u8 == b)
    }
}

/// Largest payload accepted, so a confused peer can't make us allocate without bound.
const MAX_FRAME: usize = 1 << 20;

/// A frame as it goes on the wire: kind, payload length (u32 little-endian), payload.
pub(crate) fn encode_frame(kind: Kind, payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(5 + payload.len());
    buf.push(kind as u8);
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(payload);
    buf
}

pub fn write_frame(w: &mut impl Write, kind: Kind, payload: &[u8]) -> io::Result<()> {
    w.write_all(&encode_frame(kind, payload))
}

/// A frame's kind and payload length, from its 5-byte header.
fn parse_header(header: &[u8]) -> io::Result<(Kind, usize)> {
    let kind = Kind::from_u8(header[0])
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unknown frame kind"))?;
    let len = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    Ok((kind, len))
}

/// Takes one whole frame off the front of `buf`, if it holds one yet.
pub(crate) fn take_frame(buf: &mut Vec<u8>) -> io::Result<Option<(Kind, Vec<u8>)>> {
    let Some(header) = buf.get(..5) else {
        return Ok(None);
    };
    let (kind, len) = parse_header(header)?;
    if buf.len() < 5 + len {
        return Ok(None);
    }
    let payload = buf[5..5 + len].to_vec();
    buf.drain(..5 + len);
    Ok(Some((kind, payload)))
}

/// Reads one frame; `Ok(None)` at a clean end of stream.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<(Kind, Vec<u8>)>> {
    let mut header = [0u8; 5];
    match r.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let (kind, len) = parse_header(&header)?;
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok(Some((kind, payload)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_end_cleanly() {
        let mut buf = Vec::new();
        write_frame(&mut buf, Kind::Stdout, b"hello").unwrap();
        write_frame(&mut buf, Kind::Exited, &3i32.to_le_bytes()).unwrap();
        let mut r = &buf[..];
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Some((Kind::Stdout, b"hello".to_vec()))
        );
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Some((Kind::Exited, 3i32.to_le_bytes().to_vec()))
        );
        assert_eq!(read_frame(&mut r).unwrap(), None);
    }

    #[test]
    fn frames_are_taken_whole_from_a_buffer_filled_piecemeal() {
        let wire = [
            encode_frame(Kind::Stdin, b"abc"),
            encode_frame(Kind::Detach, &[]),
        ]
        .concat();
        let mut buf = Vec::new();
        let mut taken = Vec::new();
        for byte in wire {
            buf.push(byte);
            while let Some(frame) = take_frame(&mut buf).unwrap() {
                taken.push(frame);
            }
        }
        assert_eq!(
            taken,
            [(Kind::Stdin, b"abc".to_vec()), (Kind::Detach, Vec::new())]
        );
        assert!(buf.is_empty());
        let mut huge = vec![Kind::Stdin as u8];
        huge.extend_from_slice(&(MAX_FRAME as u32 + 1).to_le_bytes());
        assert!(take_frame(&mut huge).is_err());
        assert!(take_frame(&mut vec![99, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn each_kind_keeps_its_wire_byte() {
        use Kind::*;
        let bytes: Vec<u8> = [
            Started, Failed, Stdout, Stderr, Exited, Stdin, StdinEof, Resize, Detach,
        ]
        .iter()
        .map(|k| encode_frame(*k, &[])[0])
        .collect();
        assert_eq!(bytes, [1, 2, 3, 4, 5, 10, 11, 12, 13]);
        assert_eq!(encode_frame(Stdout, b"ab"), [3, 2, 0, 0, 0, b'a', b'b']);
    }

    #[test]
    fn a_frame_cut_short_is_an_error_not_an_end() {
        let wire = encode_frame(Kind::Stdout, b"hello");
        let mut r = &wire[..wire.len() - 1];
        assert!(read_frame(&mut r).is_err());
        let mut half_header = &wire[..3];
        assert_eq!(read_frame(&mut half_header).unwrap(), None);
    }
}
