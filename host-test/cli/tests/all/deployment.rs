//! The deployment recipe (`deploy/Containerfile`, `deploy/kubernetes.yaml`) against what
//! `serve` is: every `GENESYS_OM_*` variable it sets is an option of `serve`, its example
//! tenant file is one `serve` reads, the grace period outlasts the pause and the drain,
//! and `serve` run with the manifest's settings answers both probes.

use crate::replicas::send;
use genesys_om_host::tenant::TenantFile;
use handover_testkit::{free_port, Child, TempDir};
use std::path::Path;
use std::time::{Duration, Instant};

fn read(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The `GENESYS_OM_*` names in `text`.
fn variables(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .match_indices("GENESYS_OM_")
        .map(|(i, _)| {
            text[i..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect()
        })
        .filter(|v: &String| v.len() > "GENESYS_OM_".len())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The manifest's `value:` of environment variable `name` (the line after its `- name:`).
fn manifest_value(manifest: &str, name: &str) -> Option<String> {
    let mut lines = manifest.lines();
    lines.find(|l| l.trim() == format!("- name: {name}"))?;
    let v = lines.next()?.trim().strip_prefix("value:")?.trim();
    Some(v.trim_matches('"').to_string())
}

/// The number after `key:` on its first line in `text`.
fn number_after(text: &str, key: &str) -> u64 {
    let line = text.lines().find(|l| l.trim().starts_with(key)).unwrap();
    line.trim()[key.len()..].trim().parse().unwrap()
}

fn serve_help() -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_host-test"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_variable_of_the_recipe_is_an_option_of_serve() {
    let help = serve_help();
    let (manifest, containerfile) = (read("kubernetes.yaml"), read("Containerfile"));
    let used = variables(&format!("{manifest}{containerfile}"));
    assert!(used.len() >= 6, "{used:?}");
    for v in used {
        assert!(
            help.contains(&format!("[env: {v}=")),
            "{v} is no option of serve"
        );
    }
}

#[test]
fn the_example_tenant_file_is_one_serve_reads_and_names_the_image_s_component() {
    let manifest = read("kubernetes.yaml");
    let start = manifest
        .find("acme.json: |")
        .expect("an example tenant file");
    let json: String = manifest[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .collect::<Vec<_>>()
        .join("\n");
    let file: TenantFile = serde_json::from_str(&json).unwrap();
    let component = file.component.to_str().unwrap().to_string();
    assert!(file.bot_api_key.is_some(), "the bot side is protected");
    let containerfile = read("Containerfile");
    assert!(
        containerfile
            .lines()
            .any(|l| l.starts_with("COPY") && l.ends_with(&component)),
        "the image holds {component}"
    );
}

#[test]
fn the_grace_period_outlasts_the_pause_and_the_drain() {
    let manifest = read("kubernetes.yaml");
    let grace = number_after(&manifest, "terminationGracePeriodSeconds:");
    let pause = number_after(&manifest, "seconds:");
    let drain_ms: u64 = manifest_value(&manifest, "GENESYS_OM_DRAIN_TIMEOUT_MS")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        grace * 1000 > pause * 1000 + drain_ms,
        "grace {grace} s, pause {pause} s, drain {drain_ms} ms"
    );
}

/// `serve` with the manifest's environment (its address, store and directories moved to
/// loopback, memory and a temp dir) answers the manifest's probe paths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_the_manifest_s_settings_answers_both_probes() {
    let manifest = read("kubernetes.yaml");
    let dir = TempDir::with_prefix("deployment").unwrap();
    let port = free_port();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_host-test"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for v in variables(&manifest) {
        if let Some(value) = manifest_value(&manifest, &v) {
            cmd.env(&v, value);
        }
    }
    cmd.env("GENESYS_OM_LISTEN", format!("127.0.0.1:{port}"))
        .env("GENESYS_OM_KV", "memory")
        .env("GENESYS_OM_TENANTS", dir.path())
        .env("GENESYS_OM_CACHE", dir.path().join("cache"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let _serve = Child::new(cmd.spawn().unwrap());
    let paths: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("path: "))
        .collect();
    assert_eq!(paths, ["/healthz", "/readyz"]);
    for path in paths {
        let url = format!("http://127.0.0.1:{port}{path}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match send("GET", &url, b"").await {
                crate::replicas::Sent::Answered(200, _) => break,
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                _ => panic!("{url} never answered 200"),
            }
        }
    }
}
