//! Docker's text for published ports: the PORTS column of `ps` and the lines of
//! `docker port`. The engine holds the typed mappings; this is how Docker shows them.

use crate::engine::{parse_private_port, PortMapping, Result};

/// `docker port` lines, sorted by container port: `80/tcp -> 0.0.0.0:8080`.
pub fn port_lines(mappings: &[PortMapping]) -> Vec<String> {
    let mut sorted = mappings.to_vec();
    sorted.sort_by_key(|m| (m.container_port, m.proto, m.bind_ip(), m.host_port));
    sorted
        .iter()
        .map(|m| {
            format!(
                "{}/{} -> {}:{}",
                m.container_port,
                m.proto,
                m.bind_ip(),
                m.host_port
            )
        })
        .collect()
}

/// `docker port CONTAINER PRIVATE_PORT[/PROTO]`: just the host side of each matching
/// mapping (`0.0.0.0:8080`); empty when nothing matches (Docker then says "No public port
/// '80/tcp' published for NAME", which names the container, so the caller words it).
pub fn port_lines_for(mappings: &[PortMapping], filter: &str) -> Result<Vec<String>> {
    let (port, proto) = parse_private_port(filter)?;
    let mut matching: Vec<&PortMapping> = mappings
        .iter()
        .filter(|m| m.container_port == port && m.proto == proto)
        .collect();
    matching.sort_by_key(|m| (m.bind_ip(), m.host_port));
    Ok(matching
        .iter()
        .map(|m| format!("{}:{}", m.bind_ip(), m.host_port))
        .collect())
}

/// The PORTS column of `docker ps`: `0.0.0.0:8080->80/tcp`, with runs of consecutive
/// ports folded into ranges (`0.0.0.0:8000-8002->80-82/tcp`), joined by ", ".
pub fn ps_ports(mappings: &[PortMapping]) -> String {
    let mut sorted = mappings.to_vec();
    sorted.sort_by_key(|m| (m.bind_ip(), m.proto, m.container_port, m.host_port));
    let mut runs: Vec<(PortMapping, u16)> = Vec::new();
    for m in sorted {
        if let Some((first, len)) = runs.last_mut() {
            let next = u32::from(*len);
            let continues = first.bind_ip() == m.bind_ip()
                && first.proto == m.proto
                && u32::from(first.container_port) + next == u32::from(m.container_port)
                && u32::from(first.host_port) + next == u32::from(m.host_port);
            if continues {
                *len += 1;
                continue;
            }
        }
        runs.push((m, 1));
    }
    runs.iter()
        .map(|(m, len)| {
            let span = |first: u16| match len {
                1 => first.to_string(),
                n => format!("{first}-{}", u32::from(first) + u32::from(*n) - 1),
            };
            format!(
                "{}:{}->{}/{}",
                m.bind_ip(),
                span(m.host_port),
                span(m.container_port),
                m.proto
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::engine::Proto;

    #[test]
    fn formats_like_docker_port_and_ps() {
        let m = |ip: Option<[u8; 4]>, host, container, proto| PortMapping {
            host_ip: ip.map(Ipv4Addr::from),
            host_port: host,
            container_port: container,
            proto,
        };
        let maps = [
            m(None, 8081, 81, Proto::Tcp),
            m(Some([127, 0, 0, 1]), 5353, 53, Proto::Udp),
            m(None, 8080, 80, Proto::Tcp),
            m(None, 8082, 82, Proto::Tcp),
            m(None, 9000, 90, Proto::Tcp),
        ];
        assert_eq!(
            port_lines(&maps),
            [
                "53/udp -> 127.0.0.1:5353",
                "80/tcp -> 0.0.0.0:8080",
                "81/tcp -> 0.0.0.0:8081",
                "82/tcp -> 0.0.0.0:8082",
                "90/tcp -> 0.0.0.0:9000",
            ]
        );
        assert_eq!(
            ps_ports(&maps),
            "0.0.0.0:8080-8082->80-82/tcp, 0.0.0.0:9000->90/tcp, 127.0.0.1:5353->53/udp"
        );
        assert_eq!(ps_ports(&[]), "");
        assert_eq!(port_lines_for(&maps, "80").unwrap(), ["0.0.0.0:8080"]);
        assert_eq!(port_lines_for(&maps, "53/udp").unwrap(), ["127.0.0.1:5353"]);
        assert!(port_lines_for(&maps, "53/tcp").unwrap().is_empty());
        let err = port_lines_for(&maps, "80/sctp").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid port \"80/sctp\": unknown protocol \"sctp\" (use tcp or udp)"
        );
    }
}
