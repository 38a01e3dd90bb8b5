//! Ketama consistent hashing, as libmemcached does it (`MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA`
//! with `KETAMA_WEIGHTED`, MD5), so that a key lands on the same server as with libmemcached,
//! pylibmc or twemproxy given the same server list.
//!
//! Each server gets 160 points on a ring of `u32`s (for weights, `floor(weight share × 40 ×
//! servers) × 4`): the MD5 of `"host-i"` (`"host:port-i"` when the port is not 11211) for each
//! `i`, read as four little-endian `u32`s. A key goes to the first point at or after the first
//! four bytes of its MD5, little-endian, wrapping around.

use md5::{Digest, Md5};

use crate::options::{DEFAULT_PORT, Server};

/// The ring; `route` answers a server index.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    /// Sorted by point.
    points: Vec<(u32, usize)>,
}

impl Ring {
    /// Every server with the same weight: 160 points each.
    pub(crate) fn new(servers: &[Server]) -> Self {
        Self::weighted(&servers.iter().map(|s| (s, 1)).collect::<Vec<_>>())
    }

    /// libmemcached's weighted continuum.
    fn weighted(servers: &[(&Server, u32)]) -> Self {
        let total: u64 = servers.iter().map(|(_, w)| u64::from(*w)).sum();
        let count = servers.len() as f32;
        let mut points = Vec::new();
        for (index, (server, weight)) in servers.iter().enumerate() {
            // As libmemcached computes it: the share in f32, the floor guarded by 1e-10.
            let share = *weight as f32 / total as f32;
            let hashes = (f64::from(share * 40.0 * count) + 0.000_000_000_1).floor() as usize;
            let identity = if server.port == DEFAULT_PORT {
                server.host.clone()
            } else {
                format!("{}:{}", server.host, server.port)
            };
            for i in 0..hashes {
                let digest = Md5::digest(format!("{identity}-{i}").as_bytes());
                for chunk in digest.chunks_exact(4) {
                    points.push((
                        u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]),
                        index,
                    ));
                }
            }
        }
        points.sort_unstable();
        Self { points }
    }

    /// The index of the server holding `key`.
    pub(crate) fn route(&self, key: &[u8]) -> usize {
        let digest = Md5::digest(key);
        let hash = u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]]);
        let at = self.points.partition_point(|(point, _)| *point < hash);
        self.points
            .get(at)
            .or_else(|| self.points.first())
            .map_or(0, |(_, index)| *index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(host: &str, port: u16) -> Server {
        Server {
            host: host.to_owned(),
            port,
        }
    }

    /// libmemcached's published ketama test cases (tests/ketama_test_cases.h): eight weighted
    /// servers, and for each key the server it must land on. A sample of the 99.
    #[test]
    fn matches_libmemcached_published_vectors() {
        let hosts: Vec<Server> = (1..=8)
            .map(|i| server(&format!("10.0.1.{i}"), 11211))
            .collect();
        let weights = [600, 300, 200, 350, 1000, 800, 950, 100];
        let weighted: Vec<(&Server, u32)> = hosts.iter().zip(weights).collect();
        let ring = Ring::weighted(&weighted);
        for (key, expected) in [
            ("SVa_]_V41)", "10.0.1.7"),
            ("*/Z;?V(.\\8", "10.0.1.1"),
            ("30C1*Z*S/_", "10.0.1.2"),
            ("ERR:EC58G>", "10.0.1.7"),
            ("1I=cTMNTKF", "10.0.1.5"),
            ("]VG<`I*Z8)", "10.0.1.5"),
            ("/XLN0@+36;", "10.0.1.1"),
            ("726bW=9*a4", "10.0.1.7"),
            ("P1[Ma3=K1/", "10.0.1.8"),
            ("D[HE+cFXDK", "10.0.1.3"),
            ("\\39DKW^)N_", "10.0.1.3"),
            ("EM75N0+[X1", "10.0.1.4"),
            ("6,cEI`F_P>", "10.0.1.6"),
            ("8*6a;Sc*X+", "10.0.1.2"),
            ("[1ZXONX2]a", "10.0.1.4"),
            ("VD6D0]ba_\\", "10.0.1.1"),
        ] {
            assert_eq!(hosts[ring.route(key.as_bytes())].host, expected, "{key}");
        }
        // "VDEAAAAA" hashes after the last point: it wraps to the first.
        assert_eq!(ring.route(b"VDEAAAAA"), ring.points[0].1);
    }

    #[test]
    fn equal_servers_get_160_points_and_a_fair_share() {
        let servers = [server("127.0.0.1", 11211), server("127.0.0.1", 11212)];
        let ring = Ring::new(&servers);
        assert_eq!(ring.points.len(), 320);
        let on_first = (0..10_000)
            .filter(|i| ring.route(format!("key{i}").as_bytes()) == 0)
            .count();
        assert!((3_500..6_500).contains(&on_first), "{on_first} of 10000");
        // One server: everything there.
        let one = Ring::new(&servers[..1]);
        assert!((0..100).all(|i| one.route(format!("k{i}").as_bytes()) == 0));
    }

    #[test]
    fn adding_a_server_moves_about_a_third_of_the_keys() {
        let two = Ring::new(&[server("a", 11211), server("b", 11211)]);
        let three = Ring::new(&[server("a", 11211), server("b", 11211), server("c", 11211)]);
        let moved = (0..10_000)
            .filter(|i| {
                let key = format!("key{i}");
                let after = three.route(key.as_bytes());
                after != 2 && after != two.route(key.as_bytes())
            })
            .count();
        // Keys only move to the new server, never between the old ones.
        assert_eq!(moved, 0);
    }
}
