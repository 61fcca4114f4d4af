//! A container interface's MAC address as `--mac-address` gives it: Docker's forms (Go's
//! `net.ParseMAC` for six bytes: `92:d0:c6:0a:29:33`, `92-d0-c6-0a-29-33`,
//! `92d0.c60a.2933`), and only what an Ethernet interface can carry (unicast, not zero:
//! the kernel refuses the rest with a bare EADDRNOTAVAIL at start).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    pub fn bytes(self) -> [u8; 6] {
        self.0
    }
}

impl FromStr for MacAddress {
    type Err = Error;

    fn from_str(text: &str) -> Result<MacAddress> {
        let bad = |why: &str| Error::invalid("MAC address", text, why);
        let trimmed = text.trim();
        let bytes = six_bytes(trimmed).ok_or_else(|| {
            bad("use six hex bytes, e.g. 92:d0:c6:0a:29:33 (or 92-d0-c6-0a-29-33, 92d0.c60a.2933)")
        })?;
        if bytes[0] & 1 == 1 {
            return Err(bad(
                "it is a multicast address: an interface needs a unicast one (the first byte even, e.g. 02:...)",
            ));
        }
        if bytes == [0; 6] {
            return Err(bad("the all-zero address can't be an interface's"));
        }
        Ok(MacAddress(bytes))
    }
}

/// Six bytes in one of Go's `net.ParseMAC` notations, or None.
fn six_bytes(text: &str) -> Option<[u8; 6]> {
    let hex = |pair: &str| {
        (pair.len() == 2 && pair.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u8::from_str_radix(pair, 16).ok())
            .flatten()
    };
    let parts: Vec<u8> = if text.contains('.') {
        // Three groups of four hex digits.
        let groups: Vec<&str> = text.split('.').collect();
        if groups.len() != 3 || groups.iter().any(|g| g.len() != 4) {
            return None;
        }
        groups
            .iter()
            .flat_map(|g| [g.get(..2), g.get(2..)])
            .map(|p| p.and_then(hex))
            .collect::<Option<_>>()?
    } else {
        let sep = if text.contains('-') { '-' } else { ':' };
        text.split(sep).map(hex).collect::<Option<_>>()?
    };
    parts.try_into().ok()
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl TryFrom<String> for MacAddress {
    type Error = Error;
    fn try_from(text: String) -> Result<MacAddress> {
        text.parse()
    }
}

impl From<MacAddress> for String {
    fn from(mac: MacAddress) -> String {
        mac.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_notations_parse_to_one_form() {
        let want = "92:d0:c6:0a:29:33";
        for text in [
            want,
            "92:D0:C6:0A:29:33",
            "92-d0-c6-0a-29-33",
            "92d0.c60a.2933",
        ] {
            assert_eq!(text.parse::<MacAddress>().unwrap().to_string(), want);
        }
    }

    #[test]
    fn only_six_unicast_bytes_are_taken() {
        for (bad, says) in [
            ("92:d0:c6:0a:29", "six hex bytes"),
            ("92:d0:c6:0a:29:33:44:55", "six hex bytes"),
            ("zz:d0:c6:0a:29:33", "six hex bytes"),
            ("92:d0:c6:0a:2:33", "six hex bytes"),
            ("92:d0-c6:0a:29:33", "six hex bytes"),
            ("", "six hex bytes"),
            ("01:00:5e:00:00:01", "multicast"),
            ("ff:ff:ff:ff:ff:ff", "multicast"),
            ("00:00:00:00:00:00", "all-zero"),
        ] {
            let err = bad.parse::<MacAddress>().unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
