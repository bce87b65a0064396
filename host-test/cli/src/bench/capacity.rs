//! The measured figures `docs/capacity.md` derives its model from: the CPU one hook call
//! costs `serve` and Redis (each process's user + system time from `/proc`, over a phase
//! of calls), and what an open handover and a queued action keep in Redis (`INFO memory`,
//! `DBSIZE`). Linux only, as `make bench` is.

use anyhow::{bail, Context, Result};
use genesys_sim::request;
use serde_json::Value;
use std::process::Command;

/// CPU time (user + system) a process has used, in milliseconds.
pub fn cpu_ms(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces), from field 3 on.
    let rest = stat.rsplit_once(')').context("a /proc stat line")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<f64> {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .context("utime/stime in /proc stat")
    };
    // utime and stime are fields 14 and 15 (1-based): 11 and 12 after the state field.
    Ok((ticks(11)? + ticks(12)?) * 1000.0 / clock_ticks()?)
}

/// Clock ticks per second (`getconf CLK_TCK`), the unit of `/proc` CPU times.
fn clock_ticks() -> Result<f64> {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    if let Some(t) = TICKS.get() {
        return Ok(*t);
    }
    let out = Command::new("getconf").arg("CLK_TCK").output()?;
    let t: f64 = String::from_utf8_lossy(&out.stdout).trim().parse()?;
    if t <= 0.0 {
        bail!("CLK_TCK {t}");
    }
    Ok(*TICKS.get_or_init(|| t))
}

/// Bytes Redis has allocated for data (`used_memory`) and its number of keys.
pub fn redis_memory(port: u16) -> Result<(f64, f64)> {
    let ask = |args: &[&str]| -> Result<String> {
        let out = Command::new("redis-cli")
            .args(["-p", &port.to_string()])
            .args(args)
            .output()
            .context("running redis-cli")?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let info = ask(&["INFO", "memory"])?;
    let used = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .context("used_memory in INFO memory")?;
    let keys = ask(&["DBSIZE"])?.trim().parse().context("DBSIZE")?;
    Ok((used, keys))
}

/// What a stretch of calls cost: per call, CPU of `serve` and of Redis, in µs.
#[derive(Debug, Clone, Copy)]
pub struct Meter {
    serve_pid: u32,
    redis_pid: u32,
    at: (f64, f64),
}

impl Meter {
    /// Starts measuring the two processes.
    pub fn begin(serve_pid: u32, redis_pid: u32) -> Result<Meter> {
        Ok(Meter {
            serve_pid,
            redis_pid,
            at: (cpu_ms(serve_pid)?, cpu_ms(redis_pid)?),
        })
    }

    /// CPU µs per call of `serve` and of Redis since [`Meter::begin`], over `calls` calls.
    pub fn per_call_us(&self, calls: f64) -> Result<(f64, f64)> {
        let (s, r) = (cpu_ms(self.serve_pid)?, cpu_ms(self.redis_pid)?);
        Ok((
            (s - self.at.0) * 1000.0 / calls,
            (r - self.at.1) * 1000.0 / calls,
        ))
    }
}

/// What Redis keeps (`used_memory`, keys) for the bench's handovers.
#[derive(Default)]
pub struct Kept {
    /// Per open handover after its start, eight user messages and the agent's greeting, with
    /// its actions collected by the bot.
    pub handover_bytes: f64,
    /// Keys per such handover.
    pub handover_keys: f64,
    /// Per agent message, its actions collected (its message id, kept until the end).
    pub agent_message_bytes: f64,
    /// Per agent message whose actions no bot collected yet (a 620-character text).
    pub queued_action_bytes: f64,
    /// Per user message (its note for a failed receipt, kept until the end).
    pub user_message_bytes: f64,
    /// What one long-poll waiting on an empty session costs.
    pub idle_poll: IdlePolls,
}

/// How long each session's long-poll waits in [`idle_polls`]: what a bot platform
/// typically asks for (under the usual 30 s proxy timeouts).
const IDLE_WAIT_MS: u64 = 25_000;

/// [`POLLS_PER_SESSION`] long-polls per session wait at once on empty streams for
/// [`IDLE_WAIT_MS`]: the CPU µs per second one waiting long-poll costs serve and Redis,
/// beyond what both spend idle.
pub async fn idle_polls(base: &str, users: &[String], pids: (u32, u32)) -> Result<IdlePolls> {
    // What both processes spend doing nothing for as long (timers, Redis's own cron), taken
    // off the figure.
    let wait = std::time::Duration::from_millis(IDLE_WAIT_MS);
    let quiet = Meter::begin(pids.0, pids.1)?;
    tokio::time::sleep(wait).await;
    let quiet = quiet.per_call_us(1.0)?;
    let meter = Meter::begin(pids.0, pids.1)?;
    // Memory per poll: what a second wave adds to serve's memory once the first waits, so
    // both readings come after the allocator has settled into polls (mimalloc returns pages
    // of earlier phases lazily, which made "before any poll" readings fall, not rise).
    let mut polls = Vec::new();
    let mut rss = Vec::new();
    for _wave in 0..2 {
        for _ in 0..POLLS_PER_SESSION / 2 {
            for u in users {
                let url =
                    format!("{base}/api/acme/sessions/{u}-session/actions?wait={IDLE_WAIT_MS}");
                polls.push(tokio::spawn(
                    async move { request("GET", &url, &[], b"").await },
                ));
            }
        }
        all_waiting(base, polls.len(), wait / 4).await?;
        rss.push(vm_rss(pids.0)?);
    }
    let held_bytes = (rss[1] - rss[0]) / (polls.len() / 2) as f64;
    for p in polls {
        let (status, _) = p.await??;
        if status != 200 {
            bail!("a waiting long-poll answered {status}");
        }
    }
    let (serve, redis) = meter.per_call_us(1.0)?;
    let poll_seconds = polls_len(users) * wait.as_secs_f64();
    Ok(IdlePolls {
        serve_cpu_us: (serve - quiet.0).max(0.0) / poll_seconds,
        redis_cpu_us: (redis - quiet.1).max(0.0) / poll_seconds,
        held_bytes,
    })
}

/// Until serve's gauge says `n` long-polls wait (at most `within`).
async fn all_waiting(base: &str, n: usize, within: std::time::Duration) -> Result<()> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let (_, m) = request("GET", &format!("{base}/metrics"), &[], b"").await?;
        let m = String::from_utf8_lossy(&m).into_owned();
        let waiting = m
            .lines()
            .find_map(|l| l.strip_prefix("handover_long_polls_waiting "))
            .and_then(|v| v.trim().parse::<f64>().ok());
        if waiting == Some(n as f64) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            bail!("the long-polls did not all wait ({waiting:?} of {n})");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// What one waiting long-poll costs.
#[derive(Default, Clone, Copy)]
pub struct IdlePolls {
    /// serve's CPU µs per second.
    pub serve_cpu_us: f64,
    /// Redis's CPU µs per second.
    pub redis_cpu_us: f64,
    /// serve's resident memory per waiting poll (its connection, request and wait), bytes.
    pub held_bytes: f64,
}

/// A process's resident memory (`VmRSS`), in bytes.
fn vm_rss(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS in /proc status")?;
    Ok(kib * 1024.0)
}

/// Long-polls [`idle_polls`] holds at once on each session.
const POLLS_PER_SESSION: usize = 4;

fn polls_len(users: &[String]) -> f64 {
    (users.len() * POLLS_PER_SESSION) as f64
}

/// The bot side collects every session's actions (each poll acknowledging the one before),
/// so what stays in Redis is what the handovers keep.
pub async fn collect_actions(base: &str, users: &[String]) -> Result<()> {
    for u in users {
        let path = format!("{base}/api/acme/sessions/{u}-session/actions?wait=0");
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}&after={c}"),
                None => path.clone(),
            };
            let (status, body) = request("GET", &url, &[], b"").await?;
            if status != 200 {
                bail!("{url} answered {status}");
            }
            let v: Value = serde_json::from_slice(&body)?;
            let got = v["actions"].as_array().map_or(0, Vec::len);
            cursor = v["cursor"].as_str().map(str::to_string).or(cursor);
            if got == 0 {
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Busy work shows as this process's CPU time: 30 ms of it are counted within 10 s.
    #[test]
    fn this_process_s_cpu_time_grows_with_work() {
        let me = std::process::id();
        let before = super::cpu_ms(me).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut x = 0u64;
        while super::cpu_ms(me).unwrap() - before < 30.0 {
            assert!(std::time::Instant::now() < deadline, "no CPU time counted");
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
    }

    #[test]
    fn a_fresh_redis_has_no_keys_and_some_memory() {
        let redis = handover_testkit::RedisServer::for_test();
        let (used, keys) = super::redis_memory(redis.port()).unwrap();
        assert_eq!(keys, 0.0);
        assert!(used > 0.0);
    }
}
