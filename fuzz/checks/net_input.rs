//! What a container (or a user) hands the network code: DNS queries from inside a
//! container, and `-p` specs. The resolver never panics, answers with the query's ID and
//! keeps a UDP answer within the client's datagram size (512 bytes without EDNS, at most
//! 4096 with); a parsed port spec never has port 0.
//! Shared by the fuzz target and the corpus replay test (tests/engine/fuzz_corpus.rs).

use std::net::Ipv4Addr;

use berth::engine::network::dns::local_answer;
use berth::engine::network::ports::parse_publish;

/// One input; panics on what the target exists to catch.
pub fn run(data: &[u8]) {
    // Every name is berth's, with many addresses: the largest answers there are.
    let lookup = |_: &str| Some((0..200).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect());
    for over_tcp in [false, true] {
        if let Some(reply) = local_answer(data, &lookup, over_tcp) {
            assert!(reply.len() >= 12, "{data:?}");
            assert_eq!(reply[..2], data[..2], "the reply keeps the query's ID");
            assert!(reply[2] & 0x80 != 0, "a reply is marked as one");
            if !over_tcp {
                assert!(reply.len() <= 4096, "{} bytes over UDP", reply.len());
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for spec in parse_publish(text).into_iter().flatten() {
            assert!(
                spec.container_port != 0 && spec.host_port != Some(0),
                "{text:?}"
            );
        }
    }
}
