//! The wasmtime engine a host runs the component on: instances from the pooling allocator,
//! sized for the calls a replica runs at once, and an epoch that ticks so every call's
//! deadline is kept. One place, so `serve`, the tools and the benchmark measure the same.

use crate::runtime::{Limits, EPOCH_TICK};
use anyhow::Result;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// Instances an engine of [`engine`] holds at once: `serve`'s `--max-instances` default.
pub const DEFAULT_INSTANCES: u32 = 256;

/// Pool slots kept apart from the calls a server admits (a tenant's version check when
/// its file changes, a benchmark's warm instance), so those never find the pool full.
pub const SPARE_INSTANCES: u32 = 16;

/// Per component instance: core instances, memories and tables the pool makes room for.
const CORE_INSTANCES_PER_COMPONENT: u32 = 8;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 4;
/// Bytes of a memory slot, and of a table slot, reset in place when a call ends.
const MEMORY_KEPT_RESIDENT: usize = 4 << 20;
const TABLE_KEPT_RESIDENT: usize = 64 << 10;

/// The engine every host in this crate uses, with room for [`DEFAULT_INSTANCES`] calls at
/// once and the default memory cap; see [`engine_for`].
pub fn engine() -> Result<Engine> {
    engine_for(DEFAULT_INSTANCES, &Limits::default())
}

/// An engine for `instances` hook calls at once (plus [`SPARE_INSTANCES`]). Instances
/// come from wasmtime's pooling allocator, so a call's memory, tables and fiber stack are
/// slots reused warm instead of mapped and unmapped per call (each unmap of the on-demand
/// allocator flushes every core's TLB); a memory slot may grow to `limits.memory_bytes`.
pub fn engine_for(instances: u32, limits: &Limits) -> Result<Engine> {
    let slots = instances.max(1).saturating_add(SPARE_INSTANCES);
    let mut pool = PoolingAllocationConfig::default();
    // The component has one memory and a few core instances and tables (its shims); the
    // per-component caps keep a larger one from taking many slots.
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .total_memories(slots.saturating_mul(MEMORIES_PER_COMPONENT))
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .total_tables(slots.saturating_mul(TABLES_PER_COMPONENT))
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .total_stacks(slots)
        .max_memory_size(limits.memory_bytes);
    // A slot handed back is reset in place up to these sizes, instead of `madvise`, whose
    // TLB flush interrupts every core: a call dirties about 2 MiB of memory (`make bench`:
    // 4 MiB took serve from 3 700 to 4 600 webhooks/s, 1 MiB changed nothing). Where the
    // kernel has `PAGEMAP_SCAN` (Linux 6.7+), only the pages the call dirtied are rewritten;
    // elsewhere the whole kept size is.
    pool.linear_memory_keep_resident(MEMORY_KEPT_RESIDENT)
        .table_keep_resident(TABLE_KEPT_RESIDENT)
        .pagemap_scan(Enabled::Auto);
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    ticking(config)
}

/// The same engine with wasmtime's on-demand allocator (every instance's memory mapped
/// and unmapped): what the benchmark compares the pool with.
pub fn on_demand_engine() -> Result<Engine> {
    ticking(Config::new())
}

/// `config` with epoch interruption on, and a background thread advancing the epoch
/// every [`EPOCH_TICK`] while the engine lives. With `GENESYS_OM_PERFMAP=1` in the
/// environment, compiled guest code is named in `/tmp/perf-PID.map`, so `perf record` /
/// `perf report` can say which guest functions the time goes to.
fn ticking(mut config: Config) -> Result<Engine> {
    config.epoch_interruption(true);
    if std::env::var_os("GENESYS_OM_PERFMAP").is_some_and(|v| v == "1") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let engine = Engine::new(&config)?;
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })?;
    Ok(engine)
}
