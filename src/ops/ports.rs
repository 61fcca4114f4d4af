//! Docker's text for published ports: the PORTS column of `ps` and the lines of
//! `docker port`. The engine holds the typed mappings; this is how Docker shows them.

use crate::engine::{
    parse_private_port, ContainerRecord, NetworkMode, PortMapping, Proto, Result, Status,
};

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

/// One port of Docker's container list: a private port, bound on a host address or not.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListedPort {
    private: u16,
    proto: Proto,
    /// The host address and port, for a published one.
    public: Option<(String, u16)>,
}

impl ListedPort {
    /// Docker's order: private port, then host address as text, then host port, then
    /// protocol.
    fn sort_key(&self) -> (u16, &str, u16, &'static str) {
        let (ip, port) = self
            .public
            .as_ref()
            .map_or(("", 0), |(ip, port)| (ip.as_str(), *port));
        (self.private, ip, port, self.proto.as_str())
    }
}

/// The PORTS column of `docker ps` for a container: while it runs on a network, each
/// exposed port, bound ones with their host side (`0.0.0.0:8080->80/tcp, 443/tcp`).
pub fn ps_ports(record: &ContainerRecord) -> String {
    let on_a_network = record.state.status == Status::Running
        && record.config.network.mode == NetworkMode::Connected;
    if !on_a_network {
        return String::new();
    }
    let mapped: Vec<ListedPort> = record
        .state
        .ports
        .iter()
        .map(|m| ListedPort {
            private: m.container_port,
            proto: m.proto,
            public: Some((m.bind_ip().to_string(), m.host_port)),
        })
        .collect();
    let unbound = record
        .config
        .exposed_ports
        .iter()
        .filter(|e| {
            !mapped
                .iter()
                .any(|m| m.private == e.port && m.proto == e.proto)
        })
        .map(|e| ListedPort {
            private: e.port,
            proto: e.proto,
            public: None,
        });
    let mut ports: Vec<ListedPort> = unbound.chain(mapped.iter().cloned()).collect();
    displayable_ports(&mut ports)
}

/// Docker's grouping of listed ports: runs of consecutive unbound ports, or of ports
/// bound to the same number on one address, fold into ranges (`8000-8002/tcp`,
/// `0.0.0.0:80-81->80-81/tcp`); a port bound to another number is listed alone, after
/// the groups.
fn displayable_ports(ports: &mut [ListedPort]) -> String {
    ports.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    // Open groups in the order their keys first appeared.
    let mut open: Vec<(GroupKey, (u16, u16))> = Vec::new();
    let mut result = Vec::new();
    let mut remapped = Vec::new();
    for port in ports.iter() {
        let current = port.private;
        let key = match &port.public {
            Some((ip, public)) if *public != current => {
                remapped.push(format!("{ip}:{public}->{current}/{}", port.proto));
                continue;
            }
            Some((ip, _)) => (Some(ip.clone()), port.proto),
            None => (None, port.proto),
        };
        match open.iter_mut().find(|(k, _)| *k == key) {
            None => open.push((key, (current, current))),
            Some((_, range)) if u32::from(current) == u32::from(range.1) + 1 => range.1 = current,
            Some((key, range)) => {
                result.push(port_group(key, *range));
                *range = (current, current);
            }
        }
    }
    result.extend(open.iter().map(|(key, range)| port_group(key, *range)));
    result.extend(remapped);
    result.join(", ")
}

/// What ports share to fold into one range: the host address (none when unbound) and
/// the protocol.
type GroupKey = (Option<String>, Proto);

fn port_group((ip, proto): &GroupKey, (first, last): (u16, u16)) -> String {
    let span = if first == last {
        first.to_string()
    } else {
        format!("{first}-{last}")
    };
    match ip {
        Some(ip) => format!("{ip}:{span}->{span}/{proto}"),
        None => format!("{span}/{proto}"),
    }
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
        assert_eq!(port_lines_for(&maps, "80").unwrap(), ["0.0.0.0:8080"]);
        assert_eq!(port_lines_for(&maps, "53/udp").unwrap(), ["127.0.0.1:5353"]);
        assert!(port_lines_for(&maps, "53/tcp").unwrap().is_empty());
        let err = port_lines_for(&maps, "80/sctp").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid port \"80/sctp\": unknown protocol \"sctp\" (use tcp or udp)"
        );
    }

    /// Docker CLI's own cases for DisplayablePorts, and a mix of them.
    #[test]
    fn ps_groups_ports_as_docker_does() {
        let port = |private, proto: &str, public: Option<(&str, u16)>| ListedPort {
            private,
            proto: if proto == "udp" {
                Proto::Udp
            } else {
                Proto::Tcp
            },
            public: public.map(|(ip, p)| (ip.to_owned(), p)),
        };
        let cases = [
            (vec![port(9988, "tcp", None)], "9988/tcp"),
            (vec![port(9988, "udp", None)], "9988/udp"),
            (
                vec![port(9988, "tcp", Some(("4.3.2.1", 8899)))],
                "4.3.2.1:8899->9988/tcp",
            ),
            (
                vec![port(9988, "tcp", Some(("4.3.2.1", 9988)))],
                "4.3.2.1:9988->9988/tcp",
            ),
            (
                vec![port(9988, "udp", None), port(9988, "udp", None)],
                "9988/udp, 9988/udp",
            ),
            (
                vec![
                    port(9999, "udp", Some(("1.2.3.4", 9999))),
                    port(9998, "udp", Some(("1.2.3.4", 9998))),
                ],
                "1.2.3.4:9998-9999->9998-9999/udp",
            ),
            (
                vec![
                    port(9998, "udp", Some(("1.2.3.4", 8899))),
                    port(9999, "udp", Some(("1.2.3.4", 8900))),
                ],
                "1.2.3.4:8899->9998/udp, 1.2.3.4:8900->9999/udp",
            ),
            (
                vec![
                    port(6677, "tcp", None),
                    port(53, "udp", None),
                    port(80, "tcp", Some(("0.0.0.0", 8080))),
                    port(8000, "tcp", None),
                    port(8001, "tcp", None),
                    port(443, "tcp", Some(("0.0.0.0", 443))),
                    port(444, "tcp", Some(("0.0.0.0", 444))),
                ],
                // A group cut short is listed at once, the open ones after it, in
                // the order they were opened: Docker's order.
                "6677/tcp, 53/udp, 0.0.0.0:443-444->443-444/tcp, 8000-8001/tcp, \
                 0.0.0.0:8080->80/tcp",
            ),
            (vec![], ""),
        ];
        for (mut ports, want) in cases {
            assert_eq!(displayable_ports(&mut ports), want, "{ports:?}");
        }
    }
}
