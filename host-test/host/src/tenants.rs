//! The tenants `serve` hosts, each from `<dir>/<tenant>.json`. A tenant is loaded on first
//! use; after that a watcher reloads it when its file or component changes, off the request
//! path: the new version is parsed, compiled and instantiated before it is served, and one
//! that fails is logged and counted while calls go on with the last good version.

pub use crate::admission::{CallLimit, Refused};
use crate::egress::Egress;
use crate::kv::Store;
use crate::metrics::Metrics;
use crate::runtime::{Limits, Plugin};
use crate::tenant::{Tenant, TenantFile};
use anyhow::{anyhow, Context, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use wasmtime::component::Component;
use wasmtime::Engine;

/// How often the watcher looks at the files of loaded tenants.
pub const WATCH_EVERY: Duration = Duration::from_millis(200);
/// Compiled components kept in memory (least recently used goes first).
pub const COMPILED_IN_MEMORY: usize = 8;
/// `.cwasm` files kept in the cache directory (least recently used goes first).
pub const COMPILED_ON_DISK: usize = 16;

/// Modification time and length of a file.
type FileStamp = (SystemTime, u64);
/// (tenant file, component) stamps: a change means reload.
type Stamps = (Option<FileStamp>, Option<FileStamp>);

fn stamp(path: &Path) -> Option<FileStamp> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One tenant's loaded state.
pub struct Loaded {
    /// The tenant file as read.
    pub file: TenantFile,
    /// The component, linked.
    pub plugin: Arc<Plugin>,
    /// Name and settings.
    pub tenant: Tenant,
    /// The files this version was read from.
    stamp: Stamps,
    /// Content hash of the component.
    pub component_hash: String,
    /// Calls of this tenant running now (shared with the version it replaced, unless the
    /// limit changed).
    pub calls: Arc<CallLimit>,
}

/// Where tenants come from and what they share.
pub struct Tenants {
    dir: PathBuf,
    cache_dir: PathBuf,
    engine: Engine,
    egress: Egress,
    kv: Store,
    limits: Limits,
    /// Host-wide defaults of tenant settings (the message flags); a tenant's key wins.
    defaults: HashMap<String, String>,
    loaded: Mutex<HashMap<String, Arc<Loaded>>>,
    /// Stamps of a version that failed: not tried again until the files change again.
    failed: Mutex<HashMap<String, Stamps>>,
    /// Stamps of changed files seen once: built when they are the same a round later, so
    /// a file still being written is not read half-way.
    settling: Mutex<HashMap<String, Stamps>>,
    /// Compiled components by content hash, most recently used last.
    compiled: Mutex<Vec<(String, Component)>>,
    /// Serialises first loads so one tenant compiles once.
    first_load: tokio::sync::Mutex<()>,
}

impl Tenants {
    /// Tenants of `dir`, compiled into `cache_dir`, sharing one engine, egress, store and
    /// call limits.
    pub fn new(
        dir: PathBuf,
        cache_dir: PathBuf,
        engine: Engine,
        egress: Egress,
        kv: Store,
        limits: Limits,
        defaults: HashMap<String, String>,
    ) -> Self {
        Self {
            dir,
            cache_dir,
            engine,
            egress,
            kv,
            limits,
            defaults,
            loaded: Mutex::new(HashMap::new()),
            failed: Mutex::new(HashMap::new()),
            settling: Mutex::new(HashMap::new()),
            compiled: Mutex::new(Vec::new()),
            first_load: tokio::sync::Mutex::new(()),
        }
    }

    /// Names of the tenants with a file in the directory.
    pub fn names(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| {
                let p = e.ok()?.path();
                (p.extension()? == "json").then(|| p.file_stem()?.to_str().map(str::to_string))?
            })
            .filter(|n| Tenant::valid_name(n))
            .collect();
        names.sort();
        names
    }

    fn file_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn stamps(&self, name: &str, component: &Path) -> Stamps {
        (
            stamp(&self.file_path(name)),
            stamp(&self.dir.join(component)),
        )
    }

    /// Compile (or load the cached `.cwasm` of) a component by content hash.
    fn component(&self, path: &Path) -> Result<(Component, String)> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let hash = hex(&Sha256::digest(&bytes));
        {
            let mut compiled = self.compiled.lock().unwrap();
            if let Some(i) = compiled.iter().position(|(h, _)| *h == hash) {
                let hit = compiled.remove(i);
                let c = hit.1.clone();
                compiled.push(hit);
                return Ok((c, hash));
            }
        }
        let cached = self.cache_dir.join(format!("{hash}.cwasm"));
        let component = match std::fs::read(&cached) {
            // Safety: files in our cache directory were written by `serialize` of this build.
            Ok(c) => {
                touch(&cached);
                unsafe { Component::deserialize(&self.engine, &c) }
                    .or_else(|_| Component::new(&self.engine, &bytes))
            }
            Err(_) => {
                let c = Component::new(&self.engine, &bytes)?;
                std::fs::create_dir_all(&self.cache_dir).ok();
                if let Ok(ser) = c.serialize() {
                    let tmp = cached.with_extension("tmp");
                    if std::fs::write(&tmp, ser).is_ok() {
                        let _ = std::fs::rename(&tmp, &cached);
                    }
                }
                prune(&self.cache_dir, COMPILED_ON_DISK);
                Ok(c)
            }
        }
        .map_err(|e| anyhow!("compiling {}: {e}", path.display()))?;
        let mut compiled = self.compiled.lock().unwrap();
        compiled.push((hash.clone(), component.clone()));
        if compiled.len() > COMPILED_IN_MEMORY {
            compiled.remove(0);
        }
        Ok((component, hash))
    }

    /// Read, compile, link and try out one version of a tenant (blocking: run it off the
    /// async workers). `calls` carries the running-call count over from the old version.
    fn build(&self, name: &str, calls: Option<Arc<CallLimit>>) -> Result<Loaded> {
        let file = TenantFile::read(&self.file_path(name))?;
        let stamp = self.stamps(name, &file.component);
        let (component, hash) = self.component(&self.dir.join(&file.component))?;
        let mut plugin = Plugin::from_component(
            &self.engine,
            &component,
            self.egress.clone(),
            self.kv.clone(),
        )?;
        plugin.limits = self.limits;
        let tenant = Tenant::new(name, crate::flags::overlay(&self.defaults, &file.config));
        let wanted = CallLimit::new(
            file.max_concurrent_calls,
            file.max_queued_calls,
            Duration::from_millis(file.max_queue_wait_ms),
        );
        let calls = match calls {
            Some(c) if c.same_settings(&wanted) => c,
            _ => Arc::new(wanted),
        };
        Ok(Loaded {
            tenant,
            file,
            plugin: Arc::new(plugin),
            stamp,
            component_hash: hash,
            calls,
        })
    }

    /// The tenant's current version; a tenant not loaded yet is loaded now. Files that
    /// changed since are the watcher's business, so this never compiles a known tenant.
    pub async fn get(self: &Arc<Self>, name: &str, metrics: &Metrics) -> Result<Arc<Loaded>> {
        if !Tenant::valid_name(name) {
            return Err(anyhow!("unknown tenant"));
        }
        if let Some(l) = self.loaded.lock().unwrap().get(name).cloned() {
            return Ok(l);
        }
        let _guard = self.first_load.lock().await;
        if let Some(l) = self.loaded.lock().unwrap().get(name).cloned() {
            return Ok(l);
        }
        let (me, owned) = (self.clone(), name.to_string());
        let built = tokio::task::spawn_blocking(move || me.build(&owned, None)).await?;
        let loaded = match built {
            Ok(l) => Arc::new(l),
            Err(e) => {
                if self.file_path(name).exists() {
                    metrics.swap_failed(name);
                    tracing::error!(tenant = name, error = %format!("{e:#}"), "tenant not loaded");
                }
                return Err(anyhow!("unknown tenant"));
            }
        };
        tracing::info!(
            tenant = name,
            component = &loaded.component_hash[..12],
            "load"
        );
        self.loaded
            .lock()
            .unwrap()
            .insert(name.to_string(), loaded.clone());
        Ok(loaded)
    }

    /// One look at the files of every loaded tenant: a change that stayed the same for a
    /// round is rebuilt and, if it works, served from now on; one that fails is logged and
    /// counted once per change; a removed tenant file unloads the tenant.
    pub async fn check(self: &Arc<Self>, metrics: &Metrics) {
        let loaded: Vec<Arc<Loaded>> = self.loaded.lock().unwrap().values().cloned().collect();
        for old in loaded {
            let name = old.tenant.name.clone();
            let now = self.stamps(&name, &old.file.component);
            if now == old.stamp || self.failed.lock().unwrap().get(&name) == Some(&now) {
                continue;
            }
            let settled = self.settling.lock().unwrap().insert(name.clone(), now) == Some(now);
            if !settled {
                continue;
            }
            self.settling.lock().unwrap().remove(&name);
            if now.0.is_none() {
                tracing::info!(tenant = %name, "tenant file removed: unloaded");
                self.loaded.lock().unwrap().remove(&name);
                continue;
            }
            let (me, owned, calls) = (self.clone(), name.clone(), old.calls.clone());
            let built = tokio::task::spawn_blocking(move || {
                let l = me.build(&owned, Some(calls))?;
                me.try_out(&l)?;
                Ok::<_, anyhow::Error>(l)
            })
            .await;
            let after = self.stamps(&name, &old.file.component);
            match built {
                Ok(Ok(new)) => {
                    if new.component_hash != old.component_hash || new.file != old.file {
                        metrics.swap(&name);
                        tracing::info!(
                            tenant = %name,
                            from = &old.component_hash[..12],
                            to = &new.component_hash[..12],
                            "swap"
                        );
                    }
                    self.failed.lock().unwrap().remove(&name);
                    self.loaded.lock().unwrap().insert(name, Arc::new(new));
                }
                // Still being written: look again at the next round.
                Ok(Err(_)) if after != now => {}
                Ok(Err(e)) => {
                    metrics.swap_failed(&name);
                    tracing::error!(
                        tenant = %name,
                        file = %self.file_path(&name).display(),
                        error = %format!("{e:#}"),
                        "new version not served; the last good one stays"
                    );
                    self.failed.lock().unwrap().insert(name, now);
                }
                Err(e) => tracing::error!(tenant = %name, error = %e, "reload task failed"),
            }
        }
    }

    /// Instantiate a new version once and ask its version, before it serves anyone.
    fn try_out(&self, l: &Loaded) -> Result<()> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let v = rt.block_on(l.plugin.version(&l.tenant))?;
        tracing::debug!(tenant = %l.tenant.name, version = %v, "tried out");
        Ok(())
    }
}

/// Run [`Tenants::check`] every [`WATCH_EVERY`], for as long as `tenants` lives.
pub fn watch(tenants: Arc<Tenants>, metrics: Arc<Metrics>) {
    let weak = Arc::downgrade(&tenants);
    drop(tenants);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(WATCH_EVERY).await;
            let Some(t) = weak.upgrade() else { return };
            t.check(&metrics).await;
        }
    });
}

/// Mark a cache file as just used (its modification time orders the pruning).
fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Keep the `keep` most recently used `.cwasm` files of `dir`.
fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "cwasm").then_some(())?;
            Some((std::fs::metadata(&p).ok()?.modified().ok()?, p))
        })
        .collect();
    if files.len() <= keep {
        return;
    }
    files.sort();
    for (_, p) in &files[..files.len() - keep] {
        let _ = std::fs::remove_file(p);
    }
}
