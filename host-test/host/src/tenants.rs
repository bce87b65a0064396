//! The tenants `serve` hosts, each from `<dir>/<tenant>.json`: loaded on first use and
//! reloaded when the file or its component changes (hot swap). Components are compiled
//! once and cached as `.cwasm` by content hash; calls already running finish on the old one.

use crate::egress::Egress;
use crate::kv::Store;
use crate::metrics::Metrics;
use crate::runtime::Plugin;
use crate::tenant::{Tenant, TenantFile};
use anyhow::{anyhow, Context, Result};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use wasmtime::component::Component;
use wasmtime::Engine;

/// Modification time and length of a file.
type FileStamp = (SystemTime, u64);

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
    /// (tenant file, component) stamps: a change means reload.
    stamp: (Option<FileStamp>, Option<FileStamp>),
    /// Content hash of the component.
    pub component_hash: String,
}

/// Where tenants come from and what they share.
pub struct Tenants {
    dir: PathBuf,
    cache_dir: PathBuf,
    engine: Engine,
    egress: Egress,
    kv: Store,
    loaded: Mutex<HashMap<String, Arc<Loaded>>>,
    compiled: Mutex<HashMap<String, Component>>,
    /// Serialises reloads so one change compiles once.
    reload: tokio::sync::Mutex<()>,
}

impl Tenants {
    /// Tenants of `dir`, compiled into `cache_dir`, sharing one engine, egress and store.
    pub fn new(
        dir: PathBuf,
        cache_dir: PathBuf,
        engine: Engine,
        egress: Egress,
        kv: Store,
    ) -> Self {
        Self {
            dir,
            cache_dir,
            engine,
            egress,
            kv,
            loaded: Mutex::new(HashMap::new()),
            compiled: Mutex::new(HashMap::new()),
            reload: tokio::sync::Mutex::new(()),
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

    fn current_stamps(
        &self,
        name: &str,
        file: &TenantFile,
    ) -> (Option<FileStamp>, Option<FileStamp>) {
        (
            stamp(&self.file_path(name)),
            stamp(&self.dir.join(&file.component)),
        )
    }

    /// Compile (or load the cached `.cwasm` of) a component by content hash.
    fn component(&self, path: &Path) -> Result<(Component, String)> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let hash = hex(&Sha256::digest(&bytes));
        if let Some(c) = self.compiled.lock().unwrap().get(&hash) {
            return Ok((c.clone(), hash));
        }
        let cached = self.cache_dir.join(format!("{hash}.cwasm"));
        let component = match std::fs::read(&cached) {
            // Safety: files in our cache directory were written by `serialize` of this build.
            Ok(c) => unsafe { Component::deserialize(&self.engine, &c) }
                .or_else(|_| Component::new(&self.engine, &bytes)),
            Err(_) => {
                let c = Component::new(&self.engine, &bytes)?;
                std::fs::create_dir_all(&self.cache_dir).ok();
                if let Ok(ser) = c.serialize() {
                    let tmp = cached.with_extension("tmp");
                    if std::fs::write(&tmp, ser).is_ok() {
                        let _ = std::fs::rename(&tmp, &cached);
                    }
                }
                Ok(c)
            }
        }
        .map_err(|e| anyhow!("compiling {}: {e}", path.display()))?;
        let mut compiled = self.compiled.lock().unwrap();
        compiled.insert(hash.clone(), component.clone());
        Ok((component, hash))
    }

    /// The tenant's current runtime, reloaded when its file or component changed.
    pub async fn get(&self, name: &str, metrics: &Metrics) -> Result<Arc<Loaded>> {
        if !Tenant::valid_name(name) {
            return Err(anyhow!("bad tenant name"));
        }
        let current = self.loaded.lock().unwrap().get(name).cloned();
        if let Some(l) = &current {
            if self.current_stamps(name, &l.file) == l.stamp {
                return Ok(l.clone());
            }
        }
        let _guard = self.reload.lock().await;
        // Someone else may have reloaded while we waited.
        if let Some(l) = self.loaded.lock().unwrap().get(name).cloned() {
            let fresh = current.as_ref().is_none_or(|c| !Arc::ptr_eq(c, &l));
            if fresh && self.current_stamps(name, &l.file) == l.stamp {
                return Ok(l);
            }
        }
        let file_path = self.file_path(name);
        let file = TenantFile::read(&file_path).map_err(|_| anyhow!("unknown tenant {name}"))?;
        let stamp_now = self.current_stamps(name, &file);
        let (component, hash) = self.component(&self.dir.join(&file.component))?;
        let plugin = Plugin::from_component(
            &self.engine,
            &component,
            self.egress.clone(),
            self.kv.clone(),
        )?;
        let loaded = Arc::new(Loaded {
            tenant: Tenant::new(name, file.config.clone()),
            file,
            plugin: Arc::new(plugin),
            stamp: stamp_now,
            component_hash: hash.clone(),
        });
        match &current {
            Some(old) if old.component_hash != hash || old.file.config != loaded.file.config => {
                metrics.swap(name);
                tracing::info!(
                    tenant = name,
                    from = &old.component_hash[..12],
                    to = &hash[..12],
                    "swap"
                );
            }
            Some(_) => {}
            None => tracing::info!(tenant = name, component = &hash[..12], "load"),
        }
        self.loaded
            .lock()
            .unwrap()
            .insert(name.to_string(), loaded.clone());
        Ok(loaded)
    }
}
