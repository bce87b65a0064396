//! Connection hygiene: slow and oversized clients are cut off while others are served, and
//! at the file-descriptor limit the accept loop idles and recovers.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_oversized_clients_are_cut_off_while_others_are_served() {
    let (sim, dir) = acme_alone("slow").await;
    let base = serve_dir(dir.path(), &sim, |o| {
        o.conn.header_timeout = Duration::from_millis(500);
        o.conn.body_timeout = Duration::from_millis(500);
    })
    .await;
    let addr = host_of(&base);

    // 100 slow-header and 100 slow-body clients.
    let mut slow = Vec::new();
    for i in 0..200 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 0 {
            s.write_all(b"POST /api/acme/start HTTP/1.1\r\nhost: x\r\n")
                .await
                .unwrap();
        } else {
            s.write_all(b"POST /api/acme/start HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"user\"")
                .await
                .unwrap();
        }
        slow.push(s);
    }
    // Others are served meanwhile.
    let (s, t) = timed_get(&format!("{base}/healthz")).await;
    assert_eq!(s, 200);
    println!("/healthz with 200 slow clients connected: {t:?}");

    // A declared length of 10^12 is refused at once; broken chunking is a 400.
    let t = Instant::now();
    let (s, _, _) = raw(
        &addr,
        b"POST /handover/genesysCloudOM/acme HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000000000\r\n\r\n0123456789",
    )
    .await;
    assert_eq!(s, 413);
    assert!(
        t.elapsed() < Duration::from_millis(400),
        "at once: {:?}",
        t.elapsed()
    );
    let (s, _, body) = raw(
        &addr,
        b"POST /handover/genesysCloudOM/acme HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!(s, 400, "{body}");

    // Every slow client is cut off within a few timeouts (closed, or answered 408).
    let t = Instant::now();
    for (i, mut s) in slow.into_iter().enumerate() {
        let mut buf = Vec::new();
        let r = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
        assert!(
            r.is_ok(),
            "slow client {i} still connected after {:?}",
            t.elapsed()
        );
        let text = String::from_utf8_lossy(&buf);
        assert!(
            buf.is_empty() || text.starts_with("HTTP/1.1 408"),
            "slow client {i}: {text}"
        );
    }
    println!("200 slow clients cut off within {:?}", t.elapsed());

    // An idle keep-alive connection is closed after the header timeout.
    let mut s = TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    assert!(
        matches!(idle, Ok(Ok(0))),
        "idle connection closed: {idle:?}"
    );
}

/// User and system CPU time of a process so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = rest
        .split(' ')
        .skip(11)
        .take(2)
        .map(|v| v.parse().unwrap())
        .collect();
    // Clock ticks are 1/100 s on Linux.
    Duration::from_millis((f[0] + f[1]) * 10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_descriptor_limit_the_server_idles_and_recovers() {
    let (sim, dir) = acme_alone("fds").await;
    let port = handover_testkit::free_port();
    let child = std::process::Command::new("bash")
        .arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_host-test"))
        .args([
            "serve",
            "--port",
            &port.to_string(),
            "--tenants",
            ".",
            "--kv",
            "memory",
        ])
        .args(["--genesys-base-url", &sim.base_url(), "--cache", "cache"])
        .args(["--flush-every", "0", "--inactivity-every", "0"])
        .current_dir(dir.path())
        .env("FEATURE_ENABLE_GENESYS_CLOUD_OM", "true")
        .env("FEATURE_ENABLE_GENESYS_CLOUD_OM_WHITELIST", "*")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _child = handover_testkit::Child::new(child);
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(&addr).await.is_err() {
        assert!(Instant::now() < deadline, "serve never listened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let base = format!("http://{addr}");
    assert_eq!(timed_get(&format!("{base}/healthz")).await.0, 200);

    // More connections than descriptors: the server accepts until it has none left.
    let mut conns = Vec::new();
    for _ in 0..120 {
        conns.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_time(pid);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = cpu_time(pid) - before;
    println!("at the descriptor limit, 2 s idle: {used:?} of CPU");
    assert!(
        used < Duration::from_millis(300),
        "the accept loop spins: {used:?} in 2 s"
    );

    drop(conns);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ok = tokio::time::timeout(
            Duration::from_secs(2),
            request("GET", &format!("{base}/healthz"), &[], b""),
        )
        .await
        .is_ok_and(|r| r.is_ok_and(|(s, _)| s == 200));
        if ok {
            break;
        }
        assert!(Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
