//! Published ports: Docker's `-p`/`-P` forms parsed once into types, and the holder that
//! keeps every host port bound for the container's life (as docker-proxy does), so a
//! second container asking for the same port fails at start instead of silently losing.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A transport protocol a port is published for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }

    fn parse(text: &str) -> Option<Proto> {
        match text.to_ascii_lowercase().as_str() {
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            _ => None,
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One port publication as asked for; `host_port: None` means any free host port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortSpec {
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: Option<u16>,
    pub container_port: u16,
    pub proto: Proto,
}

/// One publication as held: the host port is always concrete. `host_ip: None` is every
/// host address (0.0.0.0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortMapping {
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: Proto,
}

impl PortMapping {
    /// The address the host port is bound on: 0.0.0.0 when no IP was given.
    pub fn bind_ip(&self) -> Ipv4Addr {
        self.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED)
    }
}

/// Parses one `-p` value: `[IP:][HOST_PORT[-HOST_PORT]:]CONTAINER_PORT[-CONTAINER_PORT][/tcp|udp]`.
/// A range expands to one spec per port.
pub fn parse_publish(spec: &str) -> Result<Vec<PortSpec>> {
    let bad = |reason: String| Error::invalid("port specification", spec, reason);
    let (addr, proto) = split_proto(spec).map_err(bad)?;
    let parts: Vec<&str> = addr.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [container] => (None, None, *container),
        [host, container] => (None, Some(*host), *container),
        [ip, host, container] => (Some(*ip), Some(*host), *container),
        _ => {
            return Err(bad(
                "expected [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO] (IPv6 is not supported)".into(),
            ))
        }
    };
    let host_ip = ip.map(parse_ip).transpose().map_err(bad)?;
    // `IP::80` leaves the host port empty: a free one, as Docker does.
    let host = host.filter(|h| !h.is_empty() || ip.is_none());
    let (c_first, c_last) = parse_range("container port", container).map_err(bad)?;
    let host_range = host
        .map(|h| parse_range("host port", h))
        .transpose()
        .map_err(bad)?;
    if let Some((h_first, h_last)) = host_range {
        if h_last - h_first != c_last - c_first {
            return Err(bad(format!(
                "host port range {h_first}-{h_last} and container port range {c_first}-{c_last} differ in length"
            )));
        }
    }
    Ok((c_first..=c_last)
        .enumerate()
        .map(|(i, container_port)| PortSpec {
            host_ip,
            // In range: the lengths were checked equal above.
            host_port: host_range.map(|(first, _)| first + i as u16),
            container_port,
            proto,
        })
        .collect())
}

/// A port the container listens on, Docker's ExposedPorts key (`80/tcp`): from the
/// image's EXPOSE, `--expose` and the container side of each `-p`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExposedPort {
    pub port: u16,
    pub proto: Proto,
}

impl fmt::Display for ExposedPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.port, self.proto)
    }
}

impl From<&PortSpec> for ExposedPort {
    fn from(spec: &PortSpec) -> Self {
        ExposedPort {
            port: spec.container_port,
            proto: spec.proto,
        }
    }
}

/// Parses ExposedPorts keys and `--expose` values (`"80/tcp"`, `"53/udp"`, `"8000-8002"`):
/// one entry per port, sorted, each once.
pub fn parse_exposed<S: AsRef<str>>(keys: &[S]) -> Result<Vec<ExposedPort>> {
    let mut ports = Vec::new();
    for key in keys {
        let key = key.as_ref();
        let bad = |reason: String| Error::invalid("exposed port", key, reason);
        let (port, proto) = split_proto(key).map_err(bad)?;
        let (first, last) = parse_range("port", port).map_err(bad)?;
        ports.extend((first..=last).map(|port| ExposedPort { port, proto }));
    }
    ports.sort();
    ports.dedup();
    Ok(ports)
}

/// `-P`: each exposed port `-p` left unpublished, on a free host port on every address.
pub(crate) fn publish_all(exposed: &[ExposedPort], published: &[PortSpec]) -> Vec<PortSpec> {
    exposed
        .iter()
        .filter(|e| !published.iter().any(|p| ExposedPort::from(p) == **e))
        .map(|e| PortSpec {
            host_ip: None,
            host_port: None,
            container_port: e.port,
            proto: e.proto,
        })
        .collect()
}

fn split_proto(text: &str) -> std::result::Result<(&str, Proto), String> {
    match text.rsplit_once('/') {
        None => Ok((text, Proto::Tcp)),
        Some((rest, proto)) => Proto::parse(proto)
            .map(|p| (rest, p))
            .ok_or_else(|| format!("unknown protocol {proto:?} (use tcp or udp)")),
    }
}

fn parse_ip(text: &str) -> std::result::Result<Ipv4Addr, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not an IPv4 address"))
}

fn parse_range(what: &str, text: &str) -> std::result::Result<(u16, u16), String> {
    let (first, last) = match text.split_once('-') {
        Some((a, b)) => (parse_port(what, a)?, parse_port(what, b)?),
        None => {
            let port = parse_port(what, text)?;
            (port, port)
        }
    };
    if first > last {
        return Err(format!("{what} range {first}-{last} ends before it starts"));
    }
    Ok((first, last))
}

fn parse_port(what: &str, text: &str) -> std::result::Result<u16, String> {
    if text.is_empty() {
        return Err(format!("{what} is missing"));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} {text:?} is not a number"));
    }
    match text.parse::<u32>() {
        Ok(port @ 1..=65535) => Ok(port as u16),
        _ => Err(format!("{what} {text} is out of range (1-65535)")),
    }
}

/// One bound host socket; never read from: DNAT sends the traffic to the container, the
/// socket only keeps the port from being taken.
#[derive(Debug)]
enum Held {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

impl Held {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Held::Tcp(s) => s.as_fd(),
            Held::Udp(s) => s.as_fd(),
        }
    }
}

/// Every host port of one container, bound and held. Dropping it frees the ports.
#[derive(Debug, Default)]
pub struct PortHolder {
    mappings: Vec<PortMapping>,
    sockets: Vec<Held>,
}

impl PortHolder {
    /// Binds every spec (TCP: bind+listen, UDP: bind). A spec without a host port binds
    /// port 0 and keeps that socket, so the port the kernel picked cannot be taken between
    /// picking and holding. All or nothing: on an error every port bound so far is freed.
    pub fn bind(specs: &[PortSpec]) -> Result<PortHolder> {
        let mut holder = PortHolder::default();
        for spec in specs {
            let (held, mapping) = bind_one(spec)?;
            holder.sockets.push(held);
            holder.mappings.push(mapping);
        }
        Ok(holder)
    }

    /// The held publications, in the order they were asked for.
    pub fn mappings(&self) -> &[PortMapping] {
        &self.mappings
    }

    /// The held sockets, e.g. to keep them open in a process that outlives this one.
    pub fn fds(&self) -> Vec<BorrowedFd<'_>> {
        self.sockets.iter().map(Held::as_fd).collect()
    }
}

fn bind_one(spec: &PortSpec) -> Result<(Held, PortMapping)> {
    let ip = spec.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let addr = SocketAddr::V4(SocketAddrV4::new(ip, spec.host_port.unwrap_or(0)));
    let bound = match spec.proto {
        Proto::Tcp => TcpListener::bind(addr).and_then(|s| Ok((s.local_addr()?, Held::Tcp(s)))),
        Proto::Udp => UdpSocket::bind(addr).and_then(|s| Ok((s.local_addr()?, Held::Udp(s)))),
    };
    let (local, held) = bound.map_err(|err| bind_error(spec, ip, err))?;
    let mapping = PortMapping {
        host_ip: spec.host_ip,
        host_port: local.port(),
        container_port: spec.container_port,
        proto: spec.proto,
    };
    Ok((held, mapping))
}

fn bind_error(spec: &PortSpec, ip: Ipv4Addr, err: std::io::Error) -> Error {
    let port = match spec.host_port {
        Some(port) => format!("port {port}/{}", spec.proto),
        None => format!("a free {} port", spec.proto),
    };
    if err.kind() == std::io::ErrorKind::AddrInUse {
        return Error::PortAllocated(format!("{port} on {ip} is already in use"));
    }
    Error::Io {
        context: format!("cannot publish {port} on {ip}"),
        err,
    }
}

/// `PRIVATE_PORT[/PROTO]` as `docker port CONTAINER 80/udp` takes it (tcp when no
/// protocol is given).
pub fn parse_private_port(text: &str) -> Result<(u16, Proto)> {
    let bad = |reason: String| Error::invalid("port", text, reason);
    let (port, proto) = split_proto(text).map_err(bad)?;
    Ok((parse_port("port", port).map_err(bad)?, proto))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::testns::in_netns;

    fn spec(ip: Option<[u8; 4]>, host: Option<u16>, container: u16, proto: Proto) -> PortSpec {
        PortSpec {
            host_ip: ip.map(Ipv4Addr::from),
            host_port: host,
            container_port: container,
            proto,
        }
    }

    #[test]
    fn parses_every_publish_form() {
        use Proto::*;
        let cases: &[(&str, Vec<PortSpec>)] = &[
            ("8080:80", vec![spec(None, Some(8080), 80, Tcp)]),
            ("80", vec![spec(None, None, 80, Tcp)]),
            ("53/udp", vec![spec(None, None, 53, Udp)]),
            ("8080:80/TCP", vec![spec(None, Some(8080), 80, Tcp)]),
            (
                "127.0.0.1:8080:80/udp",
                vec![spec(Some([127, 0, 0, 1]), Some(8080), 80, Udp)],
            ),
            (
                "127.0.0.1::80",
                vec![spec(Some([127, 0, 0, 1]), None, 80, Tcp)],
            ),
            (
                "8000-8002:80-82",
                vec![
                    spec(None, Some(8000), 80, Tcp),
                    spec(None, Some(8001), 81, Tcp),
                    spec(None, Some(8002), 82, Tcp),
                ],
            ),
            (
                "80-81/udp",
                vec![spec(None, None, 80, Udp), spec(None, None, 81, Udp)],
            ),
            ("65535:1", vec![spec(None, Some(65535), 1, Tcp)]),
        ];
        for (text, want) in cases {
            assert_eq!(&parse_publish(text).expect(text), want, "{text}");
        }
    }

    #[test]
    fn refuses_bad_publish_forms_naming_the_spec() {
        let cases = [
            ("8000-8002:80-81", "differ in length"),
            ("8000-8001:80", "differ in length"),
            ("0:80", "host port 0 is out of range"),
            ("8080:0", "container port 0 is out of range"),
            ("8080:65536", "container port 65536 is out of range"),
            ("99999999999:80", "out of range"),
            ("8080:80/sctp", "unknown protocol \"sctp\""),
            ("8080:80/", "unknown protocol \"\""),
            ("300.1.1.1:8080:80", "\"300.1.1.1\" is not an IPv4 address"),
            ("::80", "\"\" is not an IPv4 address"),
            ("[::1]:80:80", "IPv6 is not supported"),
            (":80", "host port is missing"),
            ("8080:", "container port is missing"),
            ("", "container port is missing"),
            ("http", "container port \"http\" is not a number"),
            ("+80", "is not a number"),
            ("82-80", "ends before it starts"),
            ("1:2:3:4", "expected [IP:]"),
        ];
        for (text, cause) in cases {
            let err = parse_publish(text).expect_err(text).to_string();
            let named = format!("invalid port specification {text:?}: ");
            assert!(err.starts_with(&named), "{text}: {err}");
            assert!(err.contains(cause), "{text}: {err}");
            assert!(!err.contains('\n'), "{text}: {err}");
        }
    }

    #[test]
    fn exposed_ports_expand_ranges_and_publish_all_skips_published_ones() {
        let keys = ["80/tcp", "53/udp", "8000-8001", "80/tcp"];
        let got = parse_exposed(&keys).unwrap();
        use Proto::*;
        let port = |port, proto| ExposedPort { port, proto };
        assert_eq!(
            got,
            [
                port(53, Udp),
                port(80, Tcp),
                port(8000, Tcp),
                port(8001, Tcp)
            ]
        );
        assert_eq!(got[0].to_string(), "53/udp");
        let published = parse_publish("9000:8000").unwrap();
        assert_eq!(
            publish_all(&got, &published),
            [
                spec(None, None, 53, Udp),
                spec(None, None, 80, Tcp),
                spec(None, None, 8001, Tcp)
            ]
        );
        let err = parse_exposed(&["132/sctp"]).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid exposed port \"132/sctp\": unknown protocol"),
            "{err}"
        );
    }

    #[test]
    fn a_second_holder_of_a_port_fails_naming_it() {
        in_netns(|| {
            for proto in [Proto::Tcp, Proto::Udp] {
                let want = parse_publish(&format!("8080:80/{proto}")).unwrap();
                let first = PortHolder::bind(&want).unwrap();
                assert_eq!(first.mappings()[0].host_port, 8080);
                let err = PortHolder::bind(&want).unwrap_err();
                // Typed, for the callers that branch on it (the API's answer).
                assert_eq!(err.kind(), crate::ErrorKind::PortAllocated);
                assert_eq!(
                    err.to_string(),
                    format!("port 8080/{proto} on 0.0.0.0 is already in use")
                );
                // A specific address conflicts with the wildcard too, as in Docker.
                let local = parse_publish(&format!("127.0.0.1:8080:81/{proto}")).unwrap();
                let err = PortHolder::bind(&local).unwrap_err().to_string();
                assert_eq!(
                    err,
                    format!("port 8080/{proto} on 127.0.0.1 is already in use")
                );
                drop(first);
                // Freed with its holder.
                PortHolder::bind(&want).unwrap();
            }
        });
    }

    #[test]
    fn a_free_port_is_picked_and_held() {
        in_netns(|| {
            let specs: Vec<PortSpec> = ["80", "53/udp", "127.0.0.1::81"]
                .iter()
                .flat_map(|s| parse_publish(s).unwrap())
                .collect();
            let holder = PortHolder::bind(&specs).unwrap();
            let got = holder.mappings().to_vec();
            assert_eq!(got.len(), 3);
            for (m, s) in got.iter().zip(&specs) {
                assert_ne!(m.host_port, 0);
                assert_eq!(
                    (m.host_ip, m.container_port, m.proto),
                    (s.host_ip, s.container_port, s.proto)
                );
                // Held: asking for that exact port now fails.
                let again = PortSpec {
                    host_port: Some(m.host_port),
                    ..*s
                };
                let err = PortHolder::bind(&[again]).unwrap_err().to_string();
                assert!(err.contains("is already in use"), "{err}");
            }
            assert_eq!(holder.fds().len(), 3);
        });
    }

    #[test]
    fn a_failed_bind_frees_the_ports_already_bound() {
        in_netns(|| {
            let _taken = PortHolder::bind(&parse_publish("9000:90").unwrap()).unwrap();
            let specs = parse_publish("8999-9000:89-90").unwrap();
            let err = PortHolder::bind(&specs).unwrap_err().to_string();
            assert_eq!(err, "port 9000/tcp on 0.0.0.0 is already in use");
            PortHolder::bind(&parse_publish("8999:89").unwrap()).unwrap();
            let err = PortHolder::bind(&parse_publish("10.1.2.3:80:80").unwrap())
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("cannot publish port 80/tcp on 10.1.2.3: "),
                "{err}"
            );
        });
    }

    #[test]
    fn private_ports_parse_with_tcp_by_default() {
        assert_eq!(parse_private_port("80").unwrap(), (80, Proto::Tcp));
        assert_eq!(parse_private_port("53/udp").unwrap(), (53, Proto::Udp));
        let err = parse_private_port("80/sctp").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid port \"80/sctp\": unknown protocol \"sctp\" (use tcp or udp)"
        );
        let err = parse_private_port("http").unwrap_err().to_string();
        assert!(err.starts_with("invalid port \"http\": "), "{err}");
    }

    #[test]
    fn mappings_round_trip_through_json() {
        let m = PortMapping {
            host_ip: Some(Ipv4Addr::LOCALHOST),
            host_port: 8080,
            container_port: 80,
            proto: Proto::Udp,
        };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(
            text,
            r#"{"host_ip":"127.0.0.1","host_port":8080,"container_port":80,"proto":"udp"}"#
        );
        assert_eq!(serde_json::from_str::<PortMapping>(&text).unwrap(), m);
    }
}
