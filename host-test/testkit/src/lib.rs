//! Test support for the genesys-om-handover host: free loopback ports, temporary
//! directories removed on drop, child processes killed on drop, and a private
//! `redis-server` (the distribution's binary) on 127.0.0.1 for the Redis store's tests, and
//! a private Redis Cluster of such servers ([`RedisCluster`]).
//!
//! Nothing here is for production: it only ever binds loopback and never touches a
//! system service.
#![deny(missing_docs)]

mod cluster;

pub use cluster::RedisCluster;

use anyhow::{anyhow, bail, Context, Result};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A TCP port on 127.0.0.1 that was free a moment ago. It is taken below Linux's
/// ephemeral range (32768–60999), so the outgoing connections of this or another test
/// cannot land on it before its user binds it, and no port is handed out twice in one
/// process. Another program binding the same port in between is still possible.
pub fn free_port() -> u16 {
    const FIRST: u64 = 20_000;
    const SPAN: u64 = 12_000;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // One random offset per process; the walk from it visits every port of the span once.
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64 ^ u64::from(std::process::id()))
            .unwrap_or(0)
    });
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (FIRST + (start + n * 7919) % SPAN) as u16;
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port between {FIRST} and {}", FIRST + SPAN)
}

/// A directory under [`std::env::temp_dir`] with a unique name, removed with everything
/// in it when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// A new empty directory named `handover-test-…`.
    pub fn new() -> std::io::Result<TempDir> {
        TempDir::with_prefix("handover-test")
    }

    /// A new empty directory whose name starts with `prefix`.
    pub fn with_prefix(prefix: &str) -> std::io::Result<TempDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir()
                .join(format!("{prefix}-{}-{n}-{nanos:08x}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A child process that is killed (SIGKILL) and reaped when the guard is dropped, so a
/// failing test never leaves it running. Derefs to [`std::process::Child`].
#[derive(Debug)]
pub struct Child {
    child: Option<std::process::Child>,
}

impl Child {
    /// Guards `child`.
    pub fn new(child: std::process::Child) -> Child {
        Child { child: Some(child) }
    }

    /// Kills the process now (if it still runs) and waits for it.
    pub fn kill_now(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Gives up the guard: the process is no longer killed on drop.
    pub fn into_inner(mut self) -> std::process::Child {
        self.child.take().expect("child present until dropped")
    }
}

impl From<std::process::Child> for Child {
    fn from(child: std::process::Child) -> Child {
        Child::new(child)
    }
}

impl Deref for Child {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        self.child.as_ref().expect("child present until dropped")
    }
}

impl DerefMut for Child {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        self.child.as_mut().expect("child present until dropped")
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// A private `redis-server` on 127.0.0.1 and a free port, with a temporary working
/// directory, no persistence (`--save ""`, `--appendonly no`), killed on drop.
///
/// It is the distribution's binary (found on `PATH` or in `/usr/bin`), never a system
/// service. [`RedisServer::stop`] and [`RedisServer::restart`] keep the port, so tests can
/// take the server away and bring it back under a client that stays connected.
#[derive(Debug)]
pub struct RedisServer {
    binary: PathBuf,
    port: u16,
    dir: TempDir,
    child: Option<Child>,
}

impl RedisServer {
    /// How long [`RedisServer::start`] waits for the server to answer PING.
    pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

    /// Starts a server on a free port and waits until it answers PING.
    ///
    /// Fails, asking for `apt-get install -y redis-server`, if the binary is not installed.
    pub fn start() -> Result<RedisServer> {
        let binary = RedisServer::binary().ok_or_else(|| {
            anyhow!(
                "redis-server is not installed (looked on PATH and in /usr/bin): \
                 run `apt-get install -y redis-server`"
            )
        })?;
        let dir = TempDir::with_prefix("handover-redis").context("temporary dir for redis")?;
        let mut last_error = None;
        // The port can be taken between `free_port` and the server's bind: try a few.
        for _ in 0..5 {
            let port = free_port();
            match launch(&binary, port, &dir) {
                Ok(child) => {
                    return Ok(RedisServer {
                        binary,
                        port,
                        dir,
                        child: Some(child),
                    })
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow!("redis-server did not start")))
    }

    /// The server a test needs: started, or the test fails here saying why and how to get
    /// `redis-server` (`make test` installs it). Every test that uses Redis takes its server
    /// from here, so none of them passes without having run.
    #[track_caller]
    pub fn for_test() -> RedisServer {
        match RedisServer::start() {
            Ok(server) => server,
            Err(e) => panic!(
                "this test needs a private redis-server and could not start one: {e:#}. \
                 `make test` installs it (`make redis`, or `apt-get install -y redis-server`)"
            ),
        }
    }

    /// The `redis-server` binary: the first on `PATH`, else `/usr/bin/redis-server`.
    pub fn binary() -> Option<PathBuf> {
        installed("redis-server")
    }

    /// The server's URL, `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's working directory (its log is `redis.log` there).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's process id while it runs (e.g. to freeze it with SIGSTOP in a test).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Whether the server process runs (it was started and not stopped).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the server (SIGKILL) and waits for it; its data is gone (no persistence).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill_now();
        }
    }

    /// Stops the server if it runs and starts a new, empty one on the same port, waiting
    /// until it answers PING.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        let deadline = Instant::now() + RedisServer::STARTUP_TIMEOUT;
        loop {
            match launch(&self.binary, self.port, &self.dir) {
                Ok(child) => {
                    self.child = Some(child);
                    return Ok(());
                }
                // The old socket may linger for a moment; the port is ours to take back.
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends `PING` and returns whether the server answered `+PONG`.
    pub fn ping(&self) -> bool {
        ping(self.port).is_ok()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The installed program `name`: the first on `PATH`, else in `/usr/bin`.
fn installed(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let p = Path::new("/usr/bin").join(name);
        p.is_file().then_some(p)
    })
}

/// Starts `redis-server` on 127.0.0.1:`port` in `dir` and waits until it answers PING.
fn launch(binary: &Path, port: u16, dir: &TempDir) -> Result<Child> {
    launch_with(binary, port, dir, &[])
}

/// [`launch`] with more `--name value` arguments (a cluster node's settings).
fn launch_with(binary: &Path, port: u16, dir: &TempDir, extra: &[(&str, String)]) -> Result<Child> {
    let log = dir.join("redis.log");
    let log_file = std::fs::File::create(&log).context("creating redis.log")?;
    let child = Command::new(binary)
        .args(["--port", &port.to_string()])
        .args(["--bind", "127.0.0.1"])
        .args(["--protected-mode", "yes"])
        .args(["--save", ""])
        .args(["--appendonly", "no"])
        .args(["--daemonize", "no"])
        .args(["--logfile", ""])
        .args(extra.iter().flat_map(|(k, v)| [k.to_string(), v.clone()]))
        .arg("--dir")
        .arg(dir.path())
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().context("log handle")?)
        .stderr(log_file)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let mut child = Child::new(child);
    let deadline = Instant::now() + RedisServer::STARTUP_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(5).collect();
            bail!(
                "redis-server on port {} exited ({status}) before answering PING: {}",
                port,
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            );
        }
        // Our server's own log line, not just any PONG: another process may hold the port.
        let ready = std::fs::read_to_string(&log)
            .map(|t| t.contains("Ready to accept connections"))
            .unwrap_or(false);
        match ping(port) {
            Ok(()) if ready && matches!(child.try_wait(), Ok(None)) => break,
            Ok(()) if Instant::now() >= deadline => {
                bail!("redis-server on port {port} did not report ready (is the port taken?)")
            }
            Ok(()) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) if Instant::now() >= deadline => {
                bail!("redis-server on port {} never answered PING: {e}", port)
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    Ok(child)
}

/// One inline `PING` over RESP on 127.0.0.1:`port`; Ok when the reply is `+PONG`.
fn ping(port: u16) -> Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    stream.set_write_timeout(Some(Duration::from_millis(500)))?;
    stream.write_all(b"PING\r\n")?;
    let mut reply = [0u8; 64];
    let mut got = 0;
    while got < reply.len() {
        let n = stream.read(&mut reply[got..])?;
        if n == 0 {
            break;
        }
        got += n;
        if reply[..got].ends_with(b"\r\n") {
            break;
        }
    }
    if reply[..got].starts_with(b"+PONG") {
        Ok(())
    } else {
        bail!(
            "unexpected reply to PING: {:?}",
            String::from_utf8_lossy(&reply[..got])
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dir_is_removed_on_drop() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().to_path_buf();
        std::fs::write(dir.join("f"), b"x").unwrap();
        assert!(path.starts_with(std::env::temp_dir()));
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn free_port_is_bindable() {
        // Ports are handed out once per process, below the ephemeral range.
        let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
        let distinct: std::collections::HashSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len(), "{ports:?}");
        assert!(
            ports.iter().all(|p| (20_000..32_000).contains(p)),
            "{ports:?}"
        );
        // Another program on the machine may take a port between the check and our bind
        // (that is why servers here retry), but not five in a row.
        let bound = ports[..5]
            .iter()
            .filter(|p| TcpListener::bind((Ipv4Addr::LOCALHOST, **p)).is_ok())
            .count();
        assert!(bound >= 4, "only {bound} of 5 free ports could be bound");
    }

    #[test]
    fn child_is_killed_on_drop() {
        let child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        drop(Child::new(child));
        // Reaped: no such process any more (or, rarely, the pid reused by another).
        let alive = Path::new(&format!("/proc/{pid}/cmdline")).exists()
            && std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.starts_with(b"sleep"))
                .unwrap_or(false);
        assert!(!alive);
    }

    #[test]
    fn redis_server_starts_stops_and_restarts_on_its_port() {
        let mut server = RedisServer::for_test();
        let port = server.port();
        assert_eq!(server.url(), format!("redis://127.0.0.1:{port}"));
        assert!(server.ping());
        server.stop();
        assert!(!server.ping());
        assert!(!server.is_running());
        server.restart().unwrap();
        assert_eq!(server.port(), port);
        assert!(server.ping());
        assert!(server.is_running());
    }
}
