//! IP address management, pure: Docker's default pools, choosing a subnet that overlaps
//! neither a host route nor another network, and picking addresses within a subnet.
//! The engine side (records, the lock) is in `store.rs`.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::record::SkippedPool;
use crate::error::{Context, Error, Result};

/// Docker's default address pools, each with the prefix length its subnets get, in the
/// order Docker takes them.
const DEFAULT_POOLS: [(Ipv4Addr, u8, u8); 7] = [
    (Ipv4Addr::new(172, 17, 0, 0), 16, 16),
    (Ipv4Addr::new(172, 18, 0, 0), 16, 16),
    (Ipv4Addr::new(172, 19, 0, 0), 16, 16),
    (Ipv4Addr::new(172, 20, 0, 0), 14, 16),
    (Ipv4Addr::new(172, 24, 0, 0), 14, 16),
    (Ipv4Addr::new(172, 28, 0, 0), 14, 16),
    (Ipv4Addr::new(192, 168, 0, 0), 16, 20),
];

/// Smallest subnet (largest prefix) a network may have: a gateway and one container.
pub(crate) const MAX_PREFIX: u8 = 30;

/// The subnets a new network may get when none is given, in order (31 of them).
pub(crate) fn default_pools() -> Vec<Ipv4Net> {
    let mut pools = Vec::new();
    for (addr, prefix, size) in DEFAULT_POOLS {
        if let Ok(pool) = Ipv4Net::new(addr, prefix) {
            if let Ok(subnets) = pool.subnets(size) {
                pools.extend(subnets);
            }
        }
    }
    pools
}

/// One IPv4 route of the host: where it leads and through which interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub interface: String,
    pub destination: Ipv4Net,
}

/// Parses `/proc/net/route`: a header, then per route the interface, destination, gateway,
/// flags, refcount, use, metric, mask... with addresses as the hex of the raw network-order
/// word. Damaged lines are skipped; default routes (0.0.0.0/0) are left out, since they
/// overlap everything and say nothing about which subnets are in use.
pub(crate) fn parse_routes(text: &str) -> Vec<Route> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (interface, dest, mask) = (fields.first()?, fields.get(1)?, fields.get(7)?);
            let destination = Ipv4Net::with_netmask(proc_addr(dest)?, proc_addr(mask)?).ok()?;
            (destination.prefix_len() > 0).then(|| Route {
                interface: (*interface).to_owned(),
                destination: destination.trunc(),
            })
        })
        .collect()
}

/// An address as `/proc/net/route` prints it: the in-memory (network order) word as a
/// native integer in hex.
fn proc_addr(hex: &str) -> Option<Ipv4Addr> {
    let word = u32::from_str_radix(hex, 16).ok()?;
    Some(Ipv4Addr::from(word.to_ne_bytes()))
}

/// The IPv4 routes of the calling thread's network namespace (berth's own).
pub(crate) fn read_routes() -> Result<Vec<Route>> {
    let path = if std::path::Path::new("/proc/thread-self/net/route").exists() {
        "/proc/thread-self/net/route"
    } else {
        "/proc/net/route"
    };
    let text = std::fs::read_to_string(path).context(|| format!("reading {path}"))?;
    Ok(parse_routes(&text))
}

pub fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The outcome of looking for a free default pool: the first that fits, and every one
/// passed over before it (or all of them, if none fits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolChoice {
    pub subnet: Option<Ipv4Net>,
    pub skipped: Vec<SkippedPool>,
}

/// The first pool that overlaps neither an existing network (`networks`: name, subnet)
/// nor a host route. Networks are checked first, so a pool taken by a berth network
/// whose bridge also routes it is reported as that network's.
pub(crate) fn choose_pool(
    pools: &[Ipv4Net],
    networks: &[(&str, Ipv4Net)],
    routes: &[Route],
) -> PoolChoice {
    let mut skipped = Vec::new();
    for &pool in pools {
        let reason = if let Some((name, net)) = networks.iter().find(|(_, n)| overlaps(pool, *n)) {
            format!("overlaps network {name} ({net})")
        } else if let Some(route) = routes.iter().find(|r| overlaps(pool, r.destination)) {
            format!(
                "overlaps host route {} on {}",
                route.destination, route.interface
            )
        } else {
            return PoolChoice {
                subnet: Some(pool),
                skipped,
            };
        };
        skipped.push(SkippedPool {
            subnet: pool,
            reason,
        });
    }
    PoolChoice {
        subnet: None,
        skipped,
    }
}

/// Parses a CIDR given by the user (`--subnet`, `--ip-range`), which must name a network
/// (no host bits set), as Docker requires.
pub fn parse_cidr(what: &'static str, text: &str) -> Result<Ipv4Net> {
    let net: Ipv4Net = text.parse().map_err(|_| {
        Error::invalid(
            what,
            text,
            "use an IPv4 network in CIDR form, e.g. 192.168.10.0/24",
        )
    })?;
    if net != net.trunc() {
        return Err(Error::invalid(
            what,
            text,
            format!("host bits are set: it should be {}", net.trunc()),
        ));
    }
    Ok(net)
}

pub fn parse_ip(what: &'static str, text: &str) -> Result<Ipv4Addr> {
    text.parse()
        .map_err(|_| Error::invalid(what, text, "use an IPv4 address, e.g. 172.18.0.10"))
}

/// A network's address plan: its subnet, the gateway, and where dynamic addresses come
/// from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPlan {
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub ip_range: Option<Ipv4Net>,
}

/// The first host address of a subnet: Docker's default gateway.
pub(crate) fn default_gateway(subnet: Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network()).saturating_add(1))
}

impl AddressPlan {
    /// Checks a subnet with an optional gateway and range: the gateway (default: the
    /// first host address) must be a host address of the subnet, the range inside it.
    pub fn new(
        subnet: Ipv4Net,
        gateway: Option<Ipv4Addr>,
        ip_range: Option<Ipv4Net>,
    ) -> Result<AddressPlan> {
        if subnet.prefix_len() > MAX_PREFIX {
            return Err(Error::invalid(
                "subnet",
                subnet.to_string(),
                format!(
                    "it is too small for a gateway and a container: use /{MAX_PREFIX} or larger"
                ),
            ));
        }
        let plan = AddressPlan {
            subnet,
            gateway: gateway.unwrap_or_else(|| default_gateway(subnet)),
            ip_range,
        };
        if !subnet.contains(&plan.gateway) || plan.is_edge(plan.gateway) {
            return Err(Error::invalid(
                "gateway",
                plan.gateway.to_string(),
                format!("it must be a host address of the subnet {subnet}"),
            ));
        }
        if let Some(range) = ip_range {
            if !subnet.contains(&range) {
                return Err(Error::invalid(
                    "ip-range",
                    range.to_string(),
                    format!("it must lie within the subnet {subnet}"),
                ));
            }
        }
        Ok(plan)
    }

    /// The subnet's network or broadcast address.
    fn is_edge(&self, ip: Ipv4Addr) -> bool {
        ip == self.subnet.network() || ip == self.subnet.broadcast()
    }

    /// Addresses no container may have: network, broadcast, gateway.
    pub(crate) fn is_reserved(&self, ip: Ipv4Addr) -> bool {
        self.is_edge(ip) || ip == self.gateway
    }

    /// The lowest address of the range (or subnet) that is neither reserved nor `used`.
    pub(crate) fn first_free(&self, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
        let range = self.ip_range.unwrap_or(self.subnet);
        // Each step passes a used or reserved address, so this ends after at most
        // used.len() + 3 steps once a free one exists.
        (u32::from(range.network())..=u32::from(range.broadcast()))
            .map(Ipv4Addr::from)
            .find(|ip| !self.is_reserved(*ip) && !used.contains(ip))
    }

    /// Checks an address asked for with `--ip`: a host address of the subnet, not the
    /// gateway (it may lie outside `--ip-range`, as in Docker).
    pub(crate) fn check_requested(&self, ip: Ipv4Addr) -> Result<()> {
        if !self.subnet.contains(&ip) {
            return Err(Error::invalid(
                "IP address",
                ip.to_string(),
                format!("it is not in the network's subnet {}", self.subnet),
            ));
        }
        if self.is_reserved(ip) {
            let what = if ip == self.gateway {
                "the gateway"
            } else {
                "the subnet's network or broadcast address"
            };
            return Err(Error::invalid(
                "IP address",
                ip.to_string(),
                format!("it is {what} of {}", self.subnet),
            ));
        }
        Ok(())
    }
}

/// A container interface's MAC address from its IP, as Docker: the locally administered
/// prefix 02:42 and the four bytes of the address.
pub(crate) fn mac_for(ip: Ipv4Addr) -> String {
    let [a, b, c, d] = ip.octets();
    format!("02:42:{a:02x}:{b:02x}:{c:02x}:{d:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    /// A `/proc/net/route` line for a route, in this machine's byte order.
    fn route_line(iface: &str, dest: &str) -> String {
        let n = net(dest);
        let hex = |a: Ipv4Addr| format!("{:08X}", u32::from_ne_bytes(a.octets()));
        format!(
            "{iface}\t{}\t00000000\t0001\t0\t0\t0\t{}\t0\t0\t0",
            hex(n.network()),
            hex(n.netmask())
        )
    }

    fn routes(list: &[(&str, &str)]) -> Vec<Route> {
        let mut text = String::from(
            "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n",
        );
        for (iface, dest) in list {
            text.push_str(&route_line(iface, dest));
            text.push('\n');
        }
        parse_routes(&text)
    }

    #[test]
    fn pools_come_in_dockers_order() {
        let pools = default_pools();
        let shown: Vec<String> = pools.iter().map(|p| p.to_string()).collect();
        assert_eq!(pools.len(), 3 + 3 * 4 + 16);
        assert_eq!(
            shown[..8],
            [
                "172.17.0.0/16",
                "172.18.0.0/16",
                "172.19.0.0/16",
                "172.20.0.0/16",
                "172.21.0.0/16",
                "172.22.0.0/16",
                "172.23.0.0/16",
                "172.24.0.0/16"
            ]
        );
        assert_eq!(shown[14], "172.31.0.0/16");
        // 192.168.0.0/16 in /20s.
        assert_eq!(shown[15], "192.168.0.0/20");
        assert_eq!(shown[16], "192.168.16.0/20");
        assert_eq!(shown[30], "192.168.240.0/20");
    }

    #[test]
    fn routes_parse_and_skip_default() {
        let found = routes(&[
            ("eth0", "0.0.0.0/0"),
            ("eth0", "10.0.2.0/24"),
            ("docker0", "172.17.0.0/16"),
        ]);
        assert_eq!(
            found,
            [
                Route {
                    interface: "eth0".into(),
                    destination: net("10.0.2.0/24")
                },
                Route {
                    interface: "docker0".into(),
                    destination: net("172.17.0.0/16")
                }
            ]
        );
        assert!(parse_routes("header\ngarbage line\n\teth0 XYZ\n").is_empty());
    }

    #[test]
    fn pools_overlapping_routes_or_networks_are_skipped_with_a_reason() {
        let pools = default_pools();
        let r = routes(&[("docker0", "172.17.0.0/16"), ("wg0", "172.16.0.0/12")]);
        // 172.16/12 covers every 172 pool: the first free one is 192.168.0.0/20.
        let choice = choose_pool(&pools, &[], &r);
        assert_eq!(choice.subnet, Some(net("192.168.0.0/20")));
        assert_eq!(choice.skipped.len(), 15);
        assert_eq!(
            choice.skipped[0].reason,
            "overlaps host route 172.17.0.0/16 on docker0"
        );
        assert_eq!(
            choice.skipped[1].reason,
            "overlaps host route 172.16.0.0/12 on wg0"
        );

        let taken = [
            ("bridge", net("172.17.0.0/16")),
            ("app", net("172.18.0.0/24")),
        ];
        let choice = choose_pool(&pools, &taken, &routes(&[("eth0", "172.19.5.0/24")]));
        assert_eq!(choice.subnet, Some(net("172.20.0.0/16")));
        let reasons: Vec<&str> = choice.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "overlaps network bridge (172.17.0.0/16)",
                "overlaps network app (172.18.0.0/24)",
                "overlaps host route 172.19.5.0/24 on eth0"
            ]
        );
    }

    #[test]
    fn the_192_168_pools_are_20s_and_exhaustion_is_none() {
        let pools = default_pools();
        let mut taken: Vec<(String, Ipv4Net)> = Vec::new();
        for i in 0..pools.len() {
            let names: Vec<(&str, Ipv4Net)> = taken.iter().map(|(n, s)| (n.as_str(), *s)).collect();
            let choice = choose_pool(&pools, &names, &[]);
            let subnet = choice.subnet.expect("a free pool");
            assert_eq!(subnet, pools[i]);
            assert_eq!(choice.skipped.len(), i);
            taken.push((format!("n{i}"), subnet));
        }
        assert_eq!(taken[15].1, net("192.168.0.0/20"));
        let names: Vec<(&str, Ipv4Net)> = taken.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        let choice = choose_pool(&pools, &names, &[]);
        assert_eq!(choice.subnet, None);
        assert_eq!(choice.skipped.len(), 31);
        // A user subnet inside 192.168.0.0/16 takes only the /20 it falls in.
        let choice = choose_pool(&pools[15..], &[("lan", net("192.168.10.0/24"))], &[]);
        assert_eq!(choice.subnet, Some(net("192.168.16.0/20")));
    }

    #[test]
    fn gateway_rules() {
        let plan = AddressPlan::new(net("192.168.10.0/24"), None, None).unwrap();
        assert_eq!(plan.gateway, ip("192.168.10.1"));
        let plan = AddressPlan::new(net("10.1.0.0/16"), Some(ip("10.1.255.254")), None).unwrap();
        assert_eq!(plan.gateway, ip("10.1.255.254"));
        for bad in ["10.2.0.1", "10.1.0.0", "10.1.255.255"] {
            let err = AddressPlan::new(net("10.1.0.0/16"), Some(ip(bad)), None).unwrap_err();
            assert!(err.to_string().contains("gateway"), "{err}");
            assert!(err.to_string().contains(bad), "{err}");
        }
        let err = AddressPlan::new(net("10.1.0.0/31"), None, None).unwrap_err();
        assert!(err.to_string().contains("too small"), "{err}");
        let err = AddressPlan::new(net("10.1.0.0/24"), None, Some(net("10.2.0.0/28"))).unwrap_err();
        assert!(err.to_string().contains("within the subnet"), "{err}");
        let err = parse_cidr("subnet", "10.1.0.5/24").unwrap_err();
        assert!(err.to_string().contains("10.1.0.0/24"), "{err}");
        assert!(parse_cidr("subnet", "10.1.0.0/33").is_err());
        assert!(parse_cidr("subnet", "nonsense").is_err());
    }

    #[test]
    fn addresses_skip_reserved_and_used_and_stay_in_range() {
        let plan = AddressPlan::new(net("172.18.0.0/16"), None, None).unwrap();
        let mut used = BTreeSet::new();
        let mut got = Vec::new();
        for _ in 0..3 {
            let next = plan.first_free(&used).unwrap();
            used.insert(next);
            got.push(next);
        }
        assert_eq!(got, [ip("172.18.0.2"), ip("172.18.0.3"), ip("172.18.0.4")]);
        used.remove(&ip("172.18.0.3"));
        assert_eq!(plan.first_free(&used), Some(ip("172.18.0.3")));

        // A gateway in the middle is skipped too.
        let plan = AddressPlan::new(net("10.0.0.0/29"), Some(ip("10.0.0.2")), None).unwrap();
        let mut used = BTreeSet::new();
        while let Some(next) = plan.first_free(&used) {
            used.insert(next);
        }
        let all: Vec<Ipv4Addr> = used.into_iter().collect();
        assert_eq!(
            all,
            ["10.0.0.1", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"].map(ip)
        );

        let plan =
            AddressPlan::new(net("172.20.0.0/16"), None, Some(net("172.20.5.0/30"))).unwrap();
        let mut used = BTreeSet::new();
        while let Some(next) = plan.first_free(&used) {
            used.insert(next);
        }
        // The range's own edges are ordinary addresses of the subnet.
        assert_eq!(used.len(), 4);
        assert!(used.iter().all(|a| net("172.20.5.0/30").contains(a)));
    }

    #[test]
    fn requested_addresses_must_be_host_addresses_of_the_subnet() {
        let plan =
            AddressPlan::new(net("172.20.0.0/16"), None, Some(net("172.20.5.0/24"))).unwrap();
        assert!(plan.check_requested(ip("172.20.9.9")).is_ok());
        for (bad, why) in [
            ("172.21.0.2", "not in the network's subnet"),
            ("172.20.0.1", "the gateway"),
            ("172.20.255.255", "broadcast"),
            ("172.20.0.0", "network or broadcast"),
        ] {
            let err = plan.check_requested(ip(bad)).unwrap_err().to_string();
            assert!(err.contains(why) && err.contains(bad), "{err}");
        }
    }

    #[test]
    fn mac_follows_the_ip() {
        assert_eq!(mac_for(ip("172.17.0.2")), "02:42:ac:11:00:02");
        assert_eq!(mac_for(ip("192.168.10.254")), "02:42:c0:a8:0a:fe");
    }
}
