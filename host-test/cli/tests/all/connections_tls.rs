//! Connections that last, over TLS: the simulator serves HTTPS on loopback with a test
//! certificate; the host trusts it only when told to. One multiplexed HTTP/2 connection
//! when the simulator offers `h2`, kept-alive HTTP/1.1 ones when it offers only `http/1.1`,
//! and a host that does not trust the test root sends nothing.

use crate::support::*;
use genesys_om_host::bindings::types::{UserEvent, Warning};
use genesys_om_host::pool::{Pool, TlsClient};
use genesys_om_host::{Egress, Store};
use genesys_sim::{Simulator, Tls};
use std::sync::Arc;

/// Send `n` user messages in the handover of `user`; returns the connections the simulator
/// accepted meanwhile.
async fn messages(h: &H, user: &str, n: usize) -> usize {
    let before = h.sim.state.lock().unwrap().connections;
    for i in 0..n {
        let o = h
            .user_says(user, UserEvent::Text(format!("m{i}")))
            .await
            .unwrap();
        assert!(o.warnings.is_empty(), "{o:?}");
    }
    h.sim.state.lock().unwrap().connections - before
}

fn delivered(h: &H, user: &str) -> usize {
    h.sim
        .received("message")
        .iter()
        .filter(|m| m.body["channel"]["from"]["id"] == user)
        .filter(|m| m.body["text"].as_str().is_some_and(|t| t.starts_with('m')))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_messages_over_tls_share_one_http2_connection() {
    let h = harness_tls(Tls::Http2AndHttp1, true, |_| {}).await;
    h.start("u1").await;
    let opened = messages(&h, "u1", 1000).await;
    assert_eq!(delivered(&h, "u1"), 1000);
    let st = h.sim.state.lock().unwrap();
    println!(
        "1000 user messages over TLS: {opened} new connection(s) after start's; {} in all, by protocol {:?}; requests by version {:?}",
        st.connections, st.protocols, st.versions
    );
    assert!(opened <= 2, "{opened} connections for 1000 messages");
    assert!(st.connections <= 4, "{} connections in all", st.connections);
    // Every request went over HTTP/2; no connection fell back to HTTP/1.1.
    assert!(st.versions.get("HTTP/2.0").copied().unwrap_or(0) >= 1000);
    assert_eq!(st.versions.get("HTTP/1.1"), None, "{:?}", st.versions);
    assert_eq!(st.protocols.get("http/1.1"), None, "{:?}", st.protocols);
    assert_eq!(st.tls_failures, 0);
    let pool = h.plugin.egress.pool().unwrap();
    assert_eq!(pool.opened(), pool.opened_h2());
    assert_eq!(pool.opened() as usize, st.connections);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_messages_over_http1_only_tls_keep_connections_alive() {
    let h = harness_tls(Tls::Http1Only, true, |_| {}).await;
    h.start("u1").await;
    let opened = messages(&h, "u1", 1000).await;
    assert_eq!(delivered(&h, "u1"), 1000);
    let st = h.sim.state.lock().unwrap();
    println!(
        "1000 user messages over TLS offering http/1.1 only: {opened} new connection(s); {} in all, by protocol {:?}; requests by version {:?}",
        st.connections, st.protocols, st.versions
    );
    assert!(opened <= 4, "{opened} connections for 1000 messages");
    assert!(st.versions.get("HTTP/1.1").copied().unwrap_or(0) >= 1000);
    assert_eq!(st.versions.get("HTTP/2.0"), None, "{:?}", st.versions);
    assert_eq!(st.protocols.get("h2"), None, "{:?}", st.protocols);
    assert_eq!(h.plugin.egress.pool().unwrap().opened_h2(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_not_trusting_the_test_root_refuses_the_simulator() {
    // The web PKI roots alone, as in production: the test certificate is not trusted.
    let h = harness_tls(Tls::Http2AndHttp1, false, |c| {
        c.insert("retry-deadline-ms".into(), "300".into());
    })
    .await;
    let err = h
        .start_with(&user("u1"), &transcript(), &settings())
        .await
        .expect_err("start cannot reach an untrusted Genesys");
    println!("start refused: {err:?}");
    assert!(
        matches!(err, genesys_om_host::bindings::types::Error::Transport(_)),
        "{err:?}"
    );
    // The host's own requests say why.
    let e = h
        .plugin
        .egress
        .send(
            "GET",
            "https://api.mypurecloud.com/api/v2/users/me",
            &[],
            vec![],
        )
        .await
        .expect_err("refused");
    let text = format!("{e:#}");
    println!("host request refused: {text}");
    assert!(text.contains("invalid peer certificate"), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
    // Nothing reached the simulator: no token asked for, no request at all.
    let st = h.sim.state.lock().unwrap();
    assert!(st.tls_failures >= 2, "{}", st.tls_failures);
    assert!(st.requests.is_empty(), "{:?}", st.requests);
    assert!(st.log.is_empty(), "{:?}", st.log);
    assert!(st.issued.is_empty());
    assert_eq!(h.plugin.egress.pool().unwrap().opened(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_trusted_for_one_simulator_does_not_cover_another() {
    let a = Simulator::start_tls(CLIENT_ID, CLIENT_SECRET, Tls::Http2AndHttp1)
        .await
        .unwrap();
    let b = Simulator::start_tls(CLIENT_ID, CLIENT_SECRET, Tls::Http2AndHttp1)
        .await
        .unwrap();
    // Each simulator makes its own CA: trusting a's does not let b's certificate through.
    let egress = Egress::redirect_trusting(&b.base_url(), a.ca_pem().unwrap()).unwrap();
    let h = assemble(b, egress, Store::memory(), |_| {});
    assert!(h
        .start_with(&user("u1"), &transcript(), &settings())
        .await
        .is_err());
    assert!(h.sim.state.lock().unwrap().requests.is_empty());
    drop(a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_pool_opens_a_connection_per_request() {
    let sim = Simulator::start_tls(CLIENT_ID, CLIENT_SECRET, Tls::Http2AndHttp1)
        .await
        .unwrap();
    let tls = TlsClient::trusting(sim.ca_pem().unwrap()).unwrap();
    assert_eq!(tls.extra_roots(), 1);
    let pool = Arc::new(Pool::fresh(tls));
    let egress = Egress::redirect_with(&sim.base_url(), pool.clone()).unwrap();
    let h = assemble(sim, egress, Store::memory(), |_| {});
    h.start("u1").await;
    let before = pool.opened();
    let opened = messages(&h, "u1", 20).await;
    assert_eq!(delivered(&h, "u1"), 20);
    // One connection per message at least (a message may also need a token or a lookup).
    assert!(opened >= 20, "{opened}");
    assert_eq!(pool.opened() - before, opened as u64);
}

/// The request's timeouts hold over HTTP/2 too: a Genesys that answers too late costs a
/// timed-out stream, not the connection, and the next message goes over the same one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_answer_times_out_over_http2_and_the_connection_stays() {
    let h = harness_tls(Tls::Http2AndHttp1, true, |c| {
        c.insert("retry-deadline-ms".into(), "300".into());
        c.insert("max-retry-after-ms".into(), "40".into());
        c.insert("request-timeout-ms".into(), "150".into());
    })
    .await;
    h.start("u1").await;
    h.sim.set_faults(
        genesys_sim::Faults {
            rate: 1.0,
            weights: [0, 0, 0, 0, 1],
            retry_after_secs: 0,
            slow_ms: 2000,
        },
        5,
    );
    let t = std::time::Instant::now();
    let o = h
        .user_says("u1", UserEvent::Text("too late".into()))
        .await
        .unwrap();
    let waited = t.elapsed();
    assert_eq!(o.warnings, vec![Warning::DeliveryPending], "{o:?}");
    assert!(waited.as_millis() < 1500, "gave up after {waited:?}");
    h.sim.set_faults(genesys_sim::Faults::default(), 1);
    let o = h
        .user_says("u1", UserEvent::Text("in time".into()))
        .await
        .unwrap();
    assert!(o.warnings.is_empty(), "{o:?}");
    let st = h.sim.state.lock().unwrap();
    assert_eq!(st.connections, 1, "{:?}", st.protocols);
    assert_eq!(st.protocols.get("h2"), Some(&1));
}
