//! The `--kv` spec of a Redis Cluster, `redis+cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT…]
//! [?wait_replicas=N[&wait_timeout_ms=MS]]`: parsed here into seed URLs and the write
//! acknowledgement asked of replicas, with messages that never repeat the password.

use super::StoreError;
use ::redis::IntoConnectionInfo;
use std::time::Duration;

/// The scheme of a cluster spec.
pub const CLUSTER_SCHEME: &str = "redis+cluster://";

/// What a cluster spec says.
#[derive(Debug, PartialEq)]
pub(super) struct ClusterSpec {
    /// `redis://[userinfo@]host:port`, one per seed node.
    pub seeds: Vec<String>,
    /// `host:port,host:port`, for messages.
    pub target: String,
    /// After each write, `WAIT` for this many replicas (0: no WAIT).
    pub wait_replicas: u32,
    /// How long `WAIT` may block.
    pub wait_timeout: Duration,
}

const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_millis(1000);

fn bad(what: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!(
        "invalid redis cluster spec: {what} (expected \
         `redis+cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT…][?wait_replicas=N&wait_timeout_ms=MS]`)"
    ))
}

pub(super) fn parse(spec: &str) -> Result<ClusterSpec, StoreError> {
    let rest = spec
        .strip_prefix(CLUSTER_SCHEME)
        .ok_or_else(|| bad("it does not start with redis+cluster://"))?;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    // The user info ends at the last `@` (a password may hold `@`; a host never does).
    let (userinfo, hosts) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, rest),
    };
    let hosts = hosts.strip_suffix('/').unwrap_or(hosts);
    if hosts.is_empty() {
        return Err(bad("no seed node"));
    }
    let mut seeds = Vec::new();
    let mut targets = Vec::new();
    for host in hosts.split(',') {
        let host = host.trim();
        let port_ok = host
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
        if !port_ok || host.contains('/') {
            return Err(bad(format!("seed `{host}` is not HOST:PORT")));
        }
        let url = match userinfo {
            Some(u) => format!("redis://{u}@{host}"),
            None => format!("redis://{host}"),
        };
        // Checked now (the message names the seed, not the URL with its password).
        url.as_str()
            .into_connection_info()
            .map_err(|e| bad(format!("seed `{host}`: {}", e.kind_description())))?;
        seeds.push(url);
        targets.push(host.to_string());
    }
    let mut wait_replicas = 0;
    let mut wait_timeout = DEFAULT_WAIT_TIMEOUT;
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "wait_replicas" => {
                wait_replicas = value
                    .parse()
                    .map_err(|_| bad(format!("wait_replicas `{value}` is not a count")))?
            }
            "wait_timeout_ms" => match value.parse::<u64>() {
                Ok(ms) if ms > 0 => wait_timeout = Duration::from_millis(ms),
                _ => {
                    return Err(bad(format!(
                        "wait_timeout_ms `{value}` is not a positive count"
                    )))
                }
            },
            _ => return Err(bad(format!("unknown option `{name}`"))),
        }
    }
    Ok(ClusterSpec {
        seeds,
        target: targets.join(","),
        wait_replicas,
        wait_timeout,
    })
}

trait KindDescription {
    fn kind_description(&self) -> String;
}

impl KindDescription for ::redis::RedisError {
    /// The error's category and detail, never the URL it was about.
    fn kind_description(&self) -> String {
        format!("{:?}", self.kind())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_options_and_bad_forms() {
        let s = parse("redis+cluster://127.0.0.1:7000,127.0.0.1:7001").unwrap();
        assert_eq!(
            s.seeds,
            ["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"]
        );
        assert_eq!(s.target, "127.0.0.1:7000,127.0.0.1:7001");
        assert_eq!(s.wait_replicas, 0);
        let s = parse("redis+cluster://:p@ss@h:1?wait_replicas=1&wait_timeout_ms=250").unwrap();
        assert_eq!(s.seeds, ["redis://:p@ss@h:1"]);
        assert_eq!(s.target, "h:1");
        assert_eq!(
            (s.wait_replicas, s.wait_timeout),
            (1, Duration::from_millis(250))
        );
        for bad in [
            "redis+cluster://",
            "redis+cluster://h",
            "redis+cluster://h:0",
            "redis+cluster://h:1,",
            "redis+cluster://:hunter2@h:x",
            "redis+cluster://:hunter2@h:1/2",
            "redis+cluster://h:1?wait_replicas=-1",
            "redis+cluster://:hunter2@h:1?wait_timeout_ms=0",
            "redis+cluster://h:1?color=red",
            "redis://h:1",
        ] {
            match parse(bad) {
                Err(StoreError::Other(msg)) => assert!(!msg.contains("hunter2"), "{msg}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
