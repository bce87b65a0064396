//! A private Redis Cluster on loopback for tests: `redis-server --cluster-enabled yes` per
//! node in its own temporary directory, joined by `redis-cli --cluster create`, with the
//! moves a failover test needs (kill a master, wait for its replica to take over, restart).

use super::{free_port, installed, launch_with, Child, TempDir};
use anyhow::{anyhow, bail, Context, Result};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// One node: its port, directory (holding `nodes.conf`) and process while it runs.
#[derive(Debug)]
struct Node {
    port: u16,
    dir: TempDir,
    child: Option<Child>,
}

/// A Redis Cluster of `masters` masters with `replicas` replicas each, on 127.0.0.1, every
/// node killed on drop. No persistence: a killed node comes back empty.
#[derive(Debug)]
pub struct RedisCluster {
    server: PathBuf,
    cli: PathBuf,
    node_timeout: Duration,
    nodes: Vec<Node>,
}

impl RedisCluster {
    /// How long forming the cluster, or a failover, may take at most.
    pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

    /// Starts `masters × (1 + replicas)` nodes with `cluster-node-timeout` `node_timeout`,
    /// creates the cluster and waits until every node reports `cluster_state:ok` and every
    /// replica is in sync with its master.
    pub fn start(masters: usize, replicas: usize, node_timeout: Duration) -> Result<RedisCluster> {
        let missing = |name: &str| {
            anyhow!(
                "{name} is not installed (looked on PATH and in /usr/bin): \
                 run `apt-get install -y redis-server`"
            )
        };
        let server = installed("redis-server").ok_or_else(|| missing("redis-server"))?;
        let cli = installed("redis-cli").ok_or_else(|| missing("redis-cli"))?;
        let mut cluster = RedisCluster {
            server,
            cli,
            node_timeout,
            nodes: Vec::new(),
        };
        for _ in 0..masters * (1 + replicas) {
            let dir = TempDir::with_prefix("handover-redis-cluster")?;
            let mut last = None;
            // The port can be taken between `free_port` and the server's bind: try a few.
            for _ in 0..5 {
                let port = free_port();
                match cluster.launch(port, &dir) {
                    Ok(child) => {
                        last = None;
                        cluster.nodes.push(Node {
                            port,
                            dir,
                            child: Some(child),
                        });
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            if let Some(e) = last {
                return Err(e);
            }
        }
        let mut create = Command::new(&cluster.cli);
        create.arg("--cluster").arg("create");
        for n in &cluster.nodes {
            create.arg(format!("127.0.0.1:{}", n.port));
        }
        create
            .args(["--cluster-replicas", &replicas.to_string()])
            .arg("--cluster-yes");
        let out = create
            .output()
            .context("running redis-cli --cluster create")?;
        if !out.status.success() {
            bail!(
                "redis-cli --cluster create failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        cluster.wait_settled(RedisCluster::SETTLE_TIMEOUT)?;
        Ok(cluster)
    }

    /// The cluster a test needs, or the test fails here saying why.
    #[track_caller]
    pub fn for_test(masters: usize, replicas: usize, node_timeout: Duration) -> RedisCluster {
        match RedisCluster::start(masters, replicas, node_timeout) {
            Ok(c) => c,
            Err(e) => panic!(
                "this test needs a private Redis Cluster and could not start one: {e:#}. \
                 `make test` installs redis-server and redis-cli"
            ),
        }
    }

    fn launch(&self, port: u16, dir: &TempDir) -> Result<Child> {
        let settings = [
            ("--cluster-enabled", "yes".to_string()),
            (
                "--cluster-config-file",
                dir.join("nodes.conf").display().to_string(),
            ),
            (
                "--cluster-node-timeout",
                self.node_timeout.as_millis().to_string(),
            ),
            // A replica may always take over, however long its master was silent.
            ("--cluster-replica-validity-factor", "0".to_string()),
        ];
        launch_with(&self.server, port, dir, &settings)
    }

    /// The `--kv` spec of the cluster, every node a seed.
    pub fn spec(&self) -> String {
        let seeds: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", seeds.join(","))
    }

    /// Every node's port.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// `redis-cli -p PORT ARGS…`'s output (raw: not a terminal).
    pub fn cli(&self, port: u16, args: &[&str]) -> Result<String> {
        let out = Command::new(&self.cli)
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(args)
            .output()
            .with_context(|| format!("redis-cli -p {port} {}", args.join(" ")))?;
        if !out.status.success() {
            bail!(
                "redis-cli -p {port} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The master serving the hash slot of keys tagged `{tag}` (from `CLUSTER KEYSLOT` and
    /// the slot ranges `CLUSTER NODES` lists for each master).
    pub fn master_of_tag(&mut self, tag: &str) -> Result<u16> {
        let any = *self.running().first().context("no node runs")?;
        let slot: u32 = self
            .cli(any, &["CLUSTER", "KEYSLOT", &format!("{{{tag}}}")])?
            .trim()
            .parse()?;
        let nodes = self.cli(any, &["CLUSTER", "NODES"])?;
        for line in nodes.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 9 || !fields[2].contains("master") {
                continue;
            }
            let serves = fields[8..].iter().any(|range| {
                let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                matches!((lo.parse::<u32>(), hi.parse::<u32>()), (Ok(lo), Ok(hi)) if lo <= slot && slot <= hi)
            });
            if serves {
                // `host:port@bus-port`
                let port = fields[1]
                    .split(['@'])
                    .next()
                    .and_then(|a| a.rsplit(':').next());
                return port.context("a node address")?.parse().context("a port");
            }
        }
        bail!("no master serves slot {slot}")
    }

    /// The ports of the running nodes that are masters now (by `ROLE`).
    pub fn masters(&mut self) -> Result<Vec<u16>> {
        let mut masters = Vec::new();
        for port in self.running() {
            if self
                .cli(port, &["ROLE"])?
                .lines()
                .next()
                .unwrap_or("")
                .contains("master")
            {
                masters.push(port);
            }
        }
        Ok(masters)
    }

    fn running(&mut self) -> Vec<u16> {
        self.nodes
            .iter_mut()
            .filter_map(|n| {
                let child = n.child.as_mut()?;
                matches!(child.try_wait(), Ok(None)).then_some(n.port)
            })
            .collect()
    }

    fn node(&mut self, port: u16) -> Result<&mut Node> {
        self.nodes
            .iter_mut()
            .find(|n| n.port == port)
            .ok_or_else(|| anyhow!("no node on port {port}"))
    }

    /// The process id of the node on `port` while it runs (to stop it with SIGSTOP).
    pub fn pid(&self, port: u16) -> Option<u32> {
        let node = self.nodes.iter().find(|n| n.port == port)?;
        node.child.as_ref().map(|c| c.id())
    }

    /// Kills the node on `port` with SIGKILL (its data is gone with it).
    pub fn kill(&mut self, port: u16) -> Result<()> {
        if let Some(mut child) = self.node(port)?.child.take() {
            child.kill_now();
        }
        Ok(())
    }

    /// Starts the node on `port` again, empty, with its `nodes.conf`: it rejoins the
    /// cluster (as a replica, once its master role was failed over).
    pub fn restart(&mut self, port: u16) -> Result<()> {
        let deadline = Instant::now() + RedisCluster::SETTLE_TIMEOUT;
        let child = loop {
            let node = self.nodes.iter().find(|n| n.port == port);
            let dir = &node.ok_or_else(|| anyhow!("no node on port {port}"))?.dir;
            match self.launch(port, dir) {
                Ok(child) => break child,
                // The old socket may linger for a moment; the port is ours to take back.
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(e) => return Err(e),
            }
        };
        self.node(port)?.child = Some(child);
        Ok(())
    }

    /// Waits until every running node reports `cluster_state:ok`, sees no node it still
    /// counts as failing or joining, and every running replica's link to its master is up.
    pub fn wait_settled(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.settled() {
                Ok(None) => return Ok(()),
                Ok(Some(why)) => why,
                Err(e) => format!("{e:#}"),
            };
            if Instant::now() >= deadline {
                bail!("the cluster did not settle within {timeout:?}: {last}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// None when settled, else what is not yet.
    fn settled(&mut self) -> Result<Option<String>> {
        let running = self.running();
        for &port in &running {
            let info = self.cli(port, &["CLUSTER", "INFO"])?;
            if !info.contains("cluster_state:ok") {
                return Ok(Some(format!("node {port}: cluster_state not ok")));
            }
            let nodes = self.cli(port, &["CLUSTER", "NODES"])?;
            let known = nodes.lines().filter(|l| !l.trim().is_empty()).count();
            for line in nodes.lines() {
                let alive = running.iter().any(|p| line.contains(&format!(":{p}@")));
                if alive && (line.contains("fail") || line.contains("handshake")) {
                    return Ok(Some(format!("node {port} sees: {line}")));
                }
            }
            if known < running.len() {
                return Ok(Some(format!("node {port} knows {known} nodes")));
            }
            let replication = self.cli(port, &["INFO", "replication"])?;
            if replication.contains("role:slave") && !replication.contains("master_link_status:up")
            {
                return Ok(Some(format!("replica {port} not in sync")));
            }
        }
        Ok(None)
    }

    /// The port of the replica of the master on `master`, by `CLUSTER NODES`.
    pub fn replica_of(&self, master: u16) -> Result<u16> {
        let nodes = self.cli(master, &["CLUSTER", "NODES"])?;
        let lines: Vec<Vec<&str>> = nodes.lines().map(|l| l.split(' ').collect()).collect();
        let id = lines
            .iter()
            .find(|f| f.get(2).is_some_and(|flags| flags.contains("myself")))
            .map(|f| f[0])
            .ok_or_else(|| anyhow!("node {master} does not name itself"))?;
        lines
            .iter()
            .find(|f| f.get(3) == Some(&id))
            .and_then(|f| f.get(1)?.split(['@', ':']).nth(1)?.parse().ok())
            .ok_or_else(|| anyhow!("node {master} has no replica"))
    }

    /// Waits until the node on `replica` is a master and the cluster is whole again
    /// (after its master was killed: a failover).
    pub fn wait_promoted(&mut self, replica: u16, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let role = self.cli(replica, &["ROLE"]).unwrap_or_default();
            if role.lines().next() == Some("master") && self.settled().ok().flatten().is_none() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("node {replica} did not take over within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                c.kill_now();
            }
        }
    }
}
