//! The same hooks as the component runs, compiled for the host and called directly over
//! the in-memory fakes: the "native" column of the table.

use super::inputs::{end_event, median, micros, transcript, webhook, CUSTOM_ATTRIBUTES};
use super::HookTimes;
use anyhow::{bail, Result};
use genesys_om_handover as domain;
use genesys_om_handover::testing::{FakeGenesys, MapConfig, MemKv};
use genesys_om_host::bindings::types::Speaker;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

struct SystemClock(std::cell::Cell<u64>);

impl domain::Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
    fn new_id(&self) -> String {
        self.0.set(self.0.get() + 1);
        format!("00000000-0000-4000-8000-{:012x}", self.0.get())
    }
    fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

pub(crate) fn native_hooks(iters: usize) -> Result<(HookTimes, f64, f64)> {
    let (http, kv, config, clock) = (
        FakeGenesys::default(),
        MemKv::default(),
        MapConfig::working(),
        SystemClock(0.into()),
    );
    let env = domain::Env {
        http: &http,
        kv: &kv,
        config: &config,
        clock: &clock,
    };
    let settings = domain::HandoverSettings {
        language: Some("english".into()),
        skills: Some("escalation".into()),
        priority: Some("1".into()),
        custom_attributes: Some(CUSTOM_ATTRIBUTES.into()),
        ..Default::default()
    };
    let lines: Vec<domain::TranscriptEntry> = transcript()
        .into_iter()
        .map(|(s, text)| domain::TranscriptEntry {
            speaker: if s == Speaker::User {
                domain::Speaker::User
            } else {
                domain::Speaker::Bot
            },
            text,
            data: None,
            time: None,
        })
        .collect();
    let e = |r: Result<domain::Outcome, domain::Error>| r.map_err(|e| anyhow::anyhow!("{e}"));
    let mut t = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for i in 0..iters {
        let user = domain::UserProfile {
            user_id: format!("bench-{i}"),
            session_id: format!("s-{i}"),
            ..Default::default()
        };
        let (headers, body) = webhook(&user.user_id, i);
        let w = domain::Webhook { headers, body };
        let ev = domain::EndSignal::GenesysEvent(end_event(&user.user_id));
        let s = Instant::now();
        e(domain::hooks::start(&env, &user, &lines, &settings))?;
        t[0].push(micros(s.elapsed()));
        let s = Instant::now();
        e(domain::hooks::user_message(
            &env,
            &user.user_id,
            &domain::UserEvent::Text("Hello, anyone there?".into()),
            None,
        ))?;
        t[1].push(micros(s.elapsed()));
        // The agent's greeting announces the agent (untimed), as in the component's run.
        let (gh, gb) = webhook(&user.user_id, 5_000_000 + i);
        let greeting = domain::Webhook {
            headers: gh,
            body: gb,
        };
        e(domain::hooks::agent_message(&env, &greeting))?;
        let s = Instant::now();
        e(domain::hooks::agent_message(&env, &w))?;
        t[2].push(micros(s.elapsed()));
        let s = Instant::now();
        e(domain::hooks::end(&env, &ev))?;
        t[3].push(micros(s.elapsed()));
    }
    let user = domain::UserProfile {
        user_id: "bench-throughput".into(),
        session_id: "s".into(),
        ..Default::default()
    };
    e(domain::hooks::start(&env, &user, &lines, &settings))?;
    let calls = iters * 5;
    let hooks_w: Vec<domain::Webhook> = (0..calls)
        .map(|n| {
            let (headers, body) = webhook("bench-throughput", 1_000_000 + n);
            domain::Webhook { headers, body }
        })
        .collect();
    let s = Instant::now();
    for w in &hooks_w {
        e(domain::hooks::agent_message(&env, w))?;
    }
    let tput = calls as f64 / s.elapsed().as_secs_f64();
    let mut verify = Vec::new();
    for i in 0..iters {
        let (headers, body) = webhook("nobody", 2_000_000 + i);
        let w = domain::Webhook { headers, body };
        let s = Instant::now();
        let r = domain::hooks::agent_message(&env, &w);
        verify.push(micros(s.elapsed()));
        if !matches!(r, Err(domain::Error::UnknownConversation(_))) {
            bail!("expected unknown-conversation, got {r:?}");
        }
    }
    Ok((t.map(median), tput, median(verify)))
}
