//! Inactivity as operators configure it: the node's own timeout in place of the tenant's,
//! and the `inactivity-warning` a configurable lead before the close, once per idle period
//! (also with concurrent checks), never when the lead is off.

use super::lifecycle::assert_only_tenant_caches;
use super::*;
use std::sync::Barrier;

const SEC: u64 = 1000;

fn fakes(settings: &[(&str, &str)]) -> Fakes {
    let mut config = MapConfig::working();
    for (k, v) in settings {
        config = config.with(k, v);
    }
    Fakes {
        config,
        ..Fakes::default()
    }
}

fn start_with_timeout(f: &Fakes, secs: Option<u32>) {
    let node = HandoverSettings {
        inactivity_timeout_secs: secs,
        ..HandoverSettings::default()
    };
    let o = start(&f.env(), &user(), &[], &node).unwrap();
    assert_eq!(o.actions, vec![Action::Status(HandoverStatus::Queued)]);
}

fn check(f: &Fakes) -> Vec<Action> {
    end(&f.env(), &EndSignal::InactivityCheck("u1".into()))
        .unwrap()
        .actions
}

/// How often the Genesys side was closed (customer participant PATCHed).
fn patches(f: &Fakes) -> usize {
    let calls = f.genesys.calls();
    calls.iter().filter(|c| c.starts_with("PATCH")).count()
}

fn ended() -> Vec<Action> {
    vec![Action::Status(HandoverStatus::Ended(EndReason::Inactivity))]
}

#[test]
fn the_nodes_timeout_overrides_the_tenants() {
    // Shorter than the tenant's 1800 s.
    let f = fakes(&[]);
    start_with_timeout(&f, Some(60));
    f.clock.advance(59 * SEC);
    assert!(check(&f).is_empty());
    f.clock.advance(SEC);
    assert_eq!(check(&f), ended());
    assert_eq!(patches(&f), 1);
    assert_only_tenant_caches(&f.kv);

    // Longer than the tenant's 30 s.
    let f = fakes(&[("inactivity-timeout-secs", "30")]);
    start_with_timeout(&f, Some(600));
    f.clock.advance(599 * SEC);
    assert!(
        check(&f).is_empty(),
        "the node's 600 s, not the tenant's 30 s"
    );
    f.clock.advance(SEC);
    assert_eq!(check(&f), ended());

    // None: the tenant's.
    let f = fakes(&[("inactivity-timeout-secs", "30")]);
    start_with_timeout(&f, None);
    f.clock.advance(29 * SEC);
    assert!(check(&f).is_empty());
    f.clock.advance(SEC);
    assert_eq!(check(&f), ended());

    // 0: at the next check, as the tenant's 0 does.
    let f = fakes(&[]);
    start_with_timeout(&f, Some(0));
    assert_eq!(check(&f), ended());
}

#[test]
fn the_warning_comes_once_per_idle_period() {
    let f = fakes(&[("inactivity-warning-secs", "20")]);
    start_with_timeout(&f, Some(60));
    f.clock.advance(39 * SEC + 1);
    assert!(check(&f).is_empty(), "not yet within 20 s of the close");
    f.clock.advance(SEC - 1);
    assert_eq!(check(&f), vec![Action::InactivityWarning(20)]);
    f.clock.advance(5 * SEC);
    assert!(check(&f).is_empty(), "the same idle period: warned already");
    assert!(check(&f).is_empty());

    // The user answers: a new idle period, warned again (seconds left rounded up).
    user_message(&f.env(), "u1", &UserEvent::Text("still here".into()), None).unwrap();
    f.clock.advance(45 * SEC + 300);
    assert_eq!(check(&f), vec![Action::InactivityWarning(15)]);
    assert!(check(&f).is_empty());

    // An agent message starts one too.
    agent_message(&f.env(), &fixtures::text_webhook("u1", "a1", "hello?")).unwrap();
    f.clock.advance(50 * SEC);
    assert_eq!(check(&f), vec![Action::InactivityWarning(10)]);
    f.clock.advance(10 * SEC);
    assert_eq!(check(&f), ended());
    assert_eq!(patches(&f), 1);
    // The claims of all three periods went with the handover.
    assert_only_tenant_caches(&f.kv);
}

#[test]
fn the_warning_follows_the_tenants_timeout_and_a_late_check_just_ends() {
    let f = fakes(&[
        ("inactivity-timeout-secs", "100"),
        ("inactivity-warning-secs", "30"),
    ]);
    start_with_timeout(&f, None);
    f.clock.advance(70 * SEC);
    assert_eq!(check(&f), vec![Action::InactivityWarning(30)]);
    user_message(&f.env(), "u1", &UserEvent::Typing, None).unwrap();
    // No check ran within the lead of this period: the close comes without a warning.
    f.clock.advance(100 * SEC);
    assert_eq!(check(&f), ended());
    assert_only_tenant_caches(&f.kv);
}

#[test]
fn a_lead_at_or_over_the_timeout_warns_at_the_first_check() {
    let f = fakes(&[("inactivity-warning-secs", "90")]);
    start_with_timeout(&f, Some(60));
    assert_eq!(check(&f), vec![Action::InactivityWarning(60)]);
    assert!(check(&f).is_empty());
}

#[test]
fn no_warning_when_the_lead_is_off() {
    for settings in [&[][..], &[("inactivity-warning-secs", "0")][..]] {
        let f = fakes(settings);
        start_with_timeout(&f, Some(60));
        for _ in 0..59 {
            f.clock.advance(SEC);
            assert!(check(&f).is_empty(), "{settings:?}");
        }
        f.clock.advance(SEC);
        assert_eq!(check(&f), ended(), "{settings:?}");
        assert_only_tenant_caches(&f.kv);
    }
}

#[test]
fn a_bad_lead_is_a_config_error_naming_it() {
    let f = fakes(&[("inactivity-warning-secs", "soon")]);
    let e = end(&f.env(), &EndSignal::InactivityCheck("u1".into())).unwrap_err();
    assert!(
        matches!(&e, Error::Config(m) if m.contains("inactivity-warning-secs") && !m.contains("soon")),
        "{e:?}"
    );
}

#[test]
fn concurrent_checks_warn_once_and_end_once() {
    const CHECKS: usize = 12;
    for trial in 0..5 {
        let f = Fakes {
            kv: MemKv::with_jitter(),
            ..fakes(&[("inactivity-warning-secs", "20")])
        };
        start_with_timeout(&f, Some(60));
        let concurrent = |f: &Fakes| -> Vec<Action> {
            let barrier = Barrier::new(CHECKS);
            std::thread::scope(|s| {
                let calls: Vec<_> = (0..CHECKS)
                    .map(|_| {
                        let barrier = &barrier;
                        s.spawn(move || {
                            barrier.wait();
                            check(f)
                        })
                    })
                    .collect();
                calls.into_iter().flat_map(|c| c.join().unwrap()).collect()
            })
        };
        f.clock.advance(45 * SEC);
        assert_eq!(
            concurrent(&f),
            vec![Action::InactivityWarning(15)],
            "trial {trial}"
        );
        f.clock.advance(15 * SEC);
        assert_eq!(concurrent(&f), ended(), "trial {trial}");
        assert_eq!(patches(&f), 1, "trial {trial}");
        assert_only_tenant_caches(&f.kv);
    }
}
