//! End detection all three ways, through `serve` and the simulator: the Notifications API
//! (channels, subscriptions, the socket, its maintenance close and a dropped connection,
//! 1 001 handovers over two channels), EventBridge envelopes and Data Action bodies posted to
//! the one provider URL, each refused with a wrong key or organization.

use crate::serving::call;
use crate::support::artifact;
use genesys_om_host::bindings::types::{Action, HandoverStatus};
use genesys_om_host::serve;
use genesys_om_host::server::{ServeOptions, Server};
use genesys_om_host::{engine, Egress, Store};
use genesys_sim::{request, Simulator, Tls};
use handover_testkit::TempDir;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "ends-client";
const CLIENT_SECRET: &str = "ends-client-secret";
const KEY: &str = "acme-events-key";

fn tenant_file(dir: &Path, extra: Value) {
    std::fs::copy(artifact("genesys-om-handover.wasm"), dir.join("acme.wasm")).unwrap();
    let mut file = json!({
        "component": "acme.wasm",
        "events-api-key": KEY,
        "end-detection": ["notifications", "eventbridge", "data-action"],
        "config": {
            "host": "mypurecloud.de", "deployment-name": "acme-deployment",
            "webhook-secret": "acme-secret", "client-id": CLIENT_ID,
            "client-secret": CLIENT_SECRET, "queue-id": "acme-queue"
        }
    });
    for (k, v) in extra.as_object().unwrap() {
        file[k] = v.clone();
    }
    std::fs::write(dir.join("acme.json"), file.to_string()).unwrap();
}

async fn setup(prefix: &str, extra: Value) -> (Simulator, TempDir, String) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("genesys_om_host=warn")
        .with_test_writer()
        .try_init();
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let egress = Egress::redirect(&sim.base_url()).unwrap();
    let (dir, base) = serve_for(&sim, egress, prefix, extra).await;
    (sim, dir, base)
}

/// `serve` with one tenant whose Genesys is `sim`, reached through `egress`.
async fn serve_for(
    sim: &Simulator,
    egress: Egress,
    prefix: &str,
    extra: Value,
) -> (TempDir, String) {
    serve_with(sim, egress, prefix, extra, |_| {}).await
}

/// [`serve_for`], with `f` adjusting the options first.
async fn serve_with(
    sim: &Simulator,
    egress: Egress,
    prefix: &str,
    extra: Value,
    f: impl FnOnce(&mut ServeOptions),
) -> (TempDir, String) {
    sim.add_integration("acme-deployment", "", "acme-secret");
    let dir = TempDir::with_prefix(prefix).unwrap();
    tenant_file(dir.path(), extra);
    let mut opts = ServeOptions::new(dir.path().to_path_buf(), Store::memory(), egress);
    opts.listen = "127.0.0.1:0".parse().unwrap();
    opts.cache_dir = dir.path().join("cache");
    opts.flush_every = Duration::ZERO;
    opts.inactivity_every = Duration::ZERO;
    f(&mut opts);
    let addr = serve::start(Server::new(opts, engine().unwrap()))
        .await
        .unwrap();
    (dir, format!("http://{addr}"))
}

async fn start(base: &str, sim: &Simulator, user: &str) -> String {
    let (s, v) = call(
        "POST",
        &format!("{base}/api/acme/start"),
        json!({"user": {"user_id": user, "session_id": format!("{user}-session")}}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    sim.conversation_of(user).unwrap().id
}

/// Long-poll the user's session until an `ended` status arrives; how many came.
async fn ended(base: &str, user: &str, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    let mut seen = 0;
    let mut poll = crate::support::Poll::new("acme", &format!("{user}-session"));
    while Instant::now() < deadline {
        let (_, v) = call("GET", &format!("{base}{}", poll.next(200)), Value::Null).await;
        for a in poll.took(&v) {
            if let Ok(Action::Status(HandoverStatus::Ended(_))) = serde_json::from_value(a) {
                seen += 1;
            }
        }
        if seen > 0 {
            return seen;
        }
    }
    seen
}

/// Wait until the simulator has every topic subscribed and a socket open on each channel.
async fn subscribed(sim: &Simulator, topics: usize, channels: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got: usize = sim.channel_topics().iter().map(|(_, n)| n).sum();
        if got == topics && sim.open_sockets() == channels {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "want {topics} topics on {channels} open sockets, have {:?} and {} sockets",
            sim.channel_topics(),
            sim.open_sockets()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post(url: &str, key: &str, body: &Value) -> u16 {
    let headers = [
        ("authorization".to_string(), key.to_string()),
        ("content-type".to_string(), "application/json".to_string()),
    ];
    request("POST", url, &headers, body.to_string().as_bytes())
        .await
        .unwrap()
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handover_ends_through_each_path_on_the_one_url() {
    let (sim, _dir, base) = setup("ends-each", json!({})).await;
    let (c1, c2, _c3) = (
        start(&base, &sim, "by-socket").await,
        start(&base, &sim, "by-eventbridge").await,
        start(&base, &sim, "by-data-action").await,
    );

    // Notifications: every open handover is subscribed; the event comes over the socket.
    subscribed(&sim, 3, 1).await;
    let t = Instant::now();
    assert_eq!(sim.notify(&c1, "customer.end", Some("CLIENT"), None), 1);
    assert_eq!(ended(&base, "by-socket", Duration::from_secs(10)).await, 1);
    let by_socket = t.elapsed();
    subscribed(&sim, 2, 1).await; // the ended one is unsubscribed

    // EventBridge on the tenant's provider URL: the key and the organization are checked.
    let url = format!("{base}/handover/genesysCloudOM/acme");
    let envelope = sim.eventbridge(&c2, "customer.end", Some("CLIENT"), None);
    assert_eq!(post(&url, "wrong-key", &envelope).await, 401);
    let mut foreign = envelope.clone();
    foreign["source"] =
        json!("aws.partner/genesys.com/cloud/11111111-2222-4333-8444-555555555555/x");
    assert_eq!(
        post(&url, KEY, &foreign).await,
        403,
        "another organization's event"
    );
    let t = Instant::now();
    assert_eq!(post(&url, KEY, &envelope).await, 200);
    assert_eq!(
        ended(&base, "by-eventbridge", Duration::from_secs(10)).await,
        1
    );
    let by_eventbridge = t.elapsed();

    // A Data Action body on the tenant-less URL: the key names the tenant.
    let url = format!("{base}/handover/genesysCloudOM");
    let body = json!({"userId": "by-data-action", "topic": "v2.detail.events.conversation.id.user.end", "disconnectType": "CLIENT"});
    assert_eq!(post(&url, "wrong-key", &body).await, 401);
    let t = Instant::now();
    assert_eq!(post(&url, KEY, &body).await, 200);
    assert_eq!(
        ended(&base, "by-data-action", Duration::from_secs(10)).await,
        1
    );
    let by_data_action = t.elapsed();
    subscribed(&sim, 0, 0).await;
    println!(
        "customer.end to status(ended): notifications {by_socket:?}, eventbridge {by_eventbridge:?}, data action {by_data_action:?} (each including the bot side's long-poll)"
    );
}

/// Over TLS: the API calls go over HTTP/2, the notification socket over `wss` (HTTP/1.1),
/// both verified against the simulator's test CA, which this host was told to trust.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_and_the_api_calls_work_over_tls() {
    let sim = Simulator::start_tls(CLIENT_ID, CLIENT_SECRET, Tls::Http2AndHttp1)
        .await
        .unwrap();
    let egress = Egress::redirect_trusting(&sim.base_url(), sim.ca_pem().unwrap()).unwrap();
    let (_dir, base) = serve_for(&sim, egress, "ends-tls", json!({})).await;
    let conv = start(&base, &sim, "over-tls").await;
    subscribed(&sim, 1, 1).await;
    assert_eq!(sim.notify(&conv, "customer.end", Some("CLIENT"), None), 1);
    assert_eq!(ended(&base, "over-tls", Duration::from_secs(10)).await, 1);
    let st = sim.state.lock().unwrap();
    assert!(st.protocols.contains_key("h2"), "{:?}", st.protocols);
    assert!(st.protocols.contains_key("http/1.1"), "{:?}", st.protocols);
    assert_eq!(st.tls_failures, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_or_dropped_socket_is_replaced_and_the_end_still_noticed() {
    let (sim, _dir, base) = setup("ends-socket", json!({})).await;
    let conv = start(&base, &sim, "u1").await;
    subscribed(&sim, 1, 1).await;
    let first = sim.channel_topics()[0].0.clone();

    // Maintenance: Genesys says `socket_closing` and closes.
    sim.close_sockets();
    subscribed(&sim, 1, 1).await;
    let open: Vec<String> = sim
        .channel_topics()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(open.len(), 1);
    assert_ne!(open[0], first, "a new channel with the topic");

    // A dropped connection, then heartbeats: still one live socket with the topic.
    sim.drop_sockets();
    subscribed(&sim, 1, 1).await;
    sim.heartbeat();

    assert_eq!(sim.notify(&conv, "customer.end", Some("PEER"), None), 1);
    assert_eq!(ended(&base, "u1", Duration::from_secs(10)).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_and_one_handovers_take_two_channels_and_each_end_counts_once() {
    const N: usize = 1001;
    let (sim, _dir, base) = setup("ends-many", json!({})).await;
    let mut convs = Vec::new();
    for chunk in (0..N).collect::<Vec<_>>().chunks(16) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|&i| {
                let (base, sim) = (base.clone(), sim.clone());
                tokio::spawn(async move { start(&base, &sim, &format!("many-{i}")).await })
            })
            .collect();
        for t in tasks {
            convs.push(t.await.unwrap());
        }
    }
    subscribed(&sim, N, 2).await;
    let mut sizes: Vec<usize> = sim.channel_topics().into_iter().map(|(_, n)| n).collect();
    sizes.sort();
    assert_eq!(
        sizes,
        [1, 1000],
        "filled to Genesys's 1 000 topics, then a second channel"
    );

    let t = Instant::now();
    for c in &convs {
        assert_eq!(sim.notify(c, "customer.end", Some("CLIENT"), None), 1);
    }
    let mut total = 0;
    for i in 0..N {
        total += ended(&base, &format!("many-{i}"), Duration::from_secs(30)).await;
    }
    assert_eq!(total, N, "every end noticed once");
    println!("{N} ends over two sockets noticed in {:?}", t.elapsed());
    let (_, metrics) = request("GET", &format!("{base}/metrics"), &[], b"")
        .await
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains(&format!(
            "handover_notification_events_total{{tenant=\"acme\"}} {N}"
        )),
        "{metrics}"
    );
    subscribed(&sim, 0, 0).await;
}

/// An EventBridge `source` naming `organization`.
fn source_of(organization: &str) -> Value {
    json!(format!(
        "aws.partner/genesys.com/cloud/{organization}/handover"
    ))
}

/// Another organization than the simulator's.
const OTHER_ORGANIZATION: &str = "11111111-2222-4333-8444-555555555555";

/// `genesys-organization-id` in the tenant file is the organization an envelope must name:
/// the simulator's own organization (what a lookup would answer) is then refused, the
/// configured one accepted, in any case of its hex digits; and it is never looked up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_organization_decides_which_eventbridge_events_are_taken() {
    let (sim, _dir, base) = setup(
        "ends-org-configured",
        json!({"end-detection": ["eventbridge"], "genesys-organization-id": OTHER_ORGANIZATION}),
    )
    .await;
    assert_ne!(OTHER_ORGANIZATION, genesys_sim::ORGANIZATION_ID);
    let (c1, c2) = (
        start(&base, &sim, "org-refused").await,
        start(&base, &sim, "org-taken").await,
    );
    let url = format!("{base}/handover/genesysCloudOM/acme");

    // The simulator's organization: not the tenant's as configured.
    let envelope = sim.eventbridge(&c1, "customer.end", Some("CLIENT"), None);
    assert_eq!(post(&url, KEY, &envelope).await, 403);
    assert_eq!(
        ended(&base, "org-refused", Duration::from_millis(300)).await,
        0,
        "a refused event ends nothing"
    );
    // No organization in the source at all: a bad request, not a pass.
    let mut nameless = envelope.clone();
    nameless["source"] = json!("my.app");
    assert_eq!(post(&url, KEY, &nameless).await, 400);

    // The configured organization (upper-case hex, as some tools write it): taken.
    let mut ours = sim.eventbridge(&c2, "customer.end", Some("CLIENT"), None);
    ours["source"] = source_of(&OTHER_ORGANIZATION.to_uppercase());
    assert_eq!(post(&url, KEY, &ours).await, 200);
    assert_eq!(ended(&base, "org-taken", Duration::from_secs(10)).await, 1);
    assert_eq!(
        sim.requests("organization"),
        0,
        "a configured organization is never looked up"
    );
}

/// Without `genesys-organization-id`, the organization is looked up once
/// (`GET /api/v2/organizations/me`) and then decides: its events are taken, another's
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_looked_up_organization_decides_which_eventbridge_events_are_taken() {
    let (sim, _dir, base) =
        setup("ends-org-lookup", json!({"end-detection": ["eventbridge"]})).await;
    let (c1, c2) = (
        start(&base, &sim, "lookup-refused").await,
        start(&base, &sim, "lookup-taken").await,
    );
    let url = format!("{base}/handover/genesysCloudOM/acme");
    let mut foreign = sim.eventbridge(&c1, "customer.end", Some("CLIENT"), None);
    foreign["source"] = source_of(OTHER_ORGANIZATION);
    assert_eq!(post(&url, KEY, &foreign).await, 403);
    let envelope = sim.eventbridge(&c2, "customer.end", Some("CLIENT"), None);
    assert_eq!(
        envelope["source"],
        source_of(genesys_sim::ORGANIZATION_ID),
        "the simulator's envelopes name its organization"
    );
    assert_eq!(post(&url, KEY, &envelope).await, 200);
    assert_eq!(
        ended(&base, "lookup-taken", Duration::from_secs(10)).await,
        1
    );
    assert_eq!(
        ended(&base, "lookup-refused", Duration::from_millis(300)).await,
        0
    );
    assert_eq!(sim.requests("organization"), 1, "looked up once");
}

/// `SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK=true` in the host's environment: an
/// envelope of any organization is taken (the API key is still checked), and none is
/// looked up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_skip_flag_an_eventbridge_event_of_any_organization_is_taken() {
    use genesys_om_host::flags::Flags;
    let sim = Simulator::start(CLIENT_ID, CLIENT_SECRET).await.unwrap();
    let egress = Egress::redirect(&sim.base_url()).unwrap();
    let vars = [
        ("FEATURE_ENABLE_GENESYS_CLOUD_OM", "true"),
        ("FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST", "*"),
        ("SKIP_GENESYS_EVENTBRIDGE_ORGANIZATION_ID_CHECK", "true"),
    ];
    let flags = Flags::from_vars(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    });
    assert!(flags.skip_organization_check);
    let (_dir, base) = serve_with(
        &sim,
        egress,
        "ends-org-skip",
        json!({"end-detection": ["eventbridge"], "genesys-organization-id": OTHER_ORGANIZATION}),
        |o| o.flags = flags,
    )
    .await;
    let (c1, c2) = (
        start(&base, &sim, "skip-foreign").await,
        start(&base, &sim, "skip-nameless").await,
    );
    let url = format!("{base}/handover/genesysCloudOM/acme");
    // The simulator's organization, not the one configured: taken.
    let foreign = sim.eventbridge(&c1, "customer.end", Some("CLIENT"), None);
    assert_eq!(
        post(&url, "wrong-key", &foreign).await,
        401,
        "the key still counts"
    );
    assert_eq!(post(&url, KEY, &foreign).await, 200);
    assert_eq!(
        ended(&base, "skip-foreign", Duration::from_secs(10)).await,
        1
    );
    // A source that names no organization: taken too.
    let mut nameless = sim.eventbridge(&c2, "customer.end", Some("CLIENT"), None);
    nameless["source"] = json!("my.app");
    assert_eq!(post(&url, KEY, &nameless).await, 200);
    assert_eq!(
        ended(&base, "skip-nameless", Duration::from_secs(10)).await,
        1
    );
    assert_eq!(sim.requests("organization"), 0);
}
