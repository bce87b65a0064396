//! The Lua scripts the Redis store runs, each one atomic on the server: the checked
//! increment, a call's held-back writes with its next read, the take-or-renew lease, and the
//! streams' add-once and read. They are sent by hash (`EVALSHA`); a server that does not have
//! a script yet (a new one, a restart, a failover) gets it whole once (`EVAL`, see
//! [`with_code`]), as the redis crate's own `Script` does.

use ::redis::{Arg, Cmd};
use std::sync::OnceLock;

/// A script and the SHA1 Redis knows it by (the redis crate's `Script` computes it).
pub(super) struct Lua {
    code: &'static str,
    hash: OnceLock<String>,
}

impl Lua {
    const fn new(code: &'static str) -> Self {
        Lua {
            code,
            hash: OnceLock::new(),
        }
    }

    /// The SHA1 the server caches the script under.
    pub(super) fn hash(&self) -> &str {
        self.hash
            .get_or_init(|| ::redis::Script::new(self.code).get_hash().to_string())
    }

    /// `EVALSHA <hash>`: the caller adds the number of keys, the keys and the arguments.
    pub(super) fn cmd(&self) -> Cmd {
        let mut cmd = ::redis::cmd("EVALSHA");
        cmd.arg(self.hash());
        cmd
    }
}

/// The same command with the script's code instead of its hash (`EVAL`), for a server that
/// answered `NOSCRIPT`: it ran nothing, so sending it again is safe. `None` if `cmd` is not
/// an `EVALSHA` of one of these scripts.
pub(super) fn with_code(cmd: &Cmd) -> Option<Cmd> {
    let mut args = cmd.args_iter();
    let (Some(Arg::Simple(b"EVALSHA")), Some(Arg::Simple(hash))) = (args.next(), args.next())
    else {
        return None;
    };
    let lua = ALL.iter().find(|l| l.hash().as_bytes() == hash)?;
    let mut eval = ::redis::cmd("EVAL");
    eval.arg(lua.code);
    for a in args {
        match a {
            Arg::Simple(b) => eval.arg(b),
            Arg::Cursor => eval.cursor_arg(0),
        };
    }
    Some(eval)
}

/// Every script, for [`with_code`].
static ALL: [&Lua; 6] = [
    &INCREMENT,
    &WRITE_THEN,
    &LEASE,
    &RELEASE,
    &STREAM_ADD,
    &STREAM_READ,
];

/// `KEYS[1]` += `ARGV[1]` if it is missing or holds decimal digits; else a NOTANUMBER error.
pub(super) static INCREMENT: Lua = Lua::new(
    r"
local v = redis.call('GET', KEYS[1])
if v and not string.match(v, '^[0-9]+$') then
  return redis.error_reply('NOTANUMBER not a decimal number')
end
return redis.call('INCRBY', KEYS[1], ARGV[1])
",
);

/// Writes then reads, as one request: `KEYS[1..ARGV[1]]` are written in order (`ARGV[2+2i]`
/// `s`: set to `ARGV[3+2i]`; `d`: delete; `e`: delete if it holds `ARGV[3+2i]`; `a` / `r`:
/// add / remove the member `ARGV[3+2i]` of the set; `c`: delete the set; `k`: delete the
/// keys `ARGV[3+2i]` followed by each member, then the set (single node only: those keys
/// are not declared)), then `ARGV[2]` says what to return of the other keys: `get`, `exists`, `many` (each one's value, nil when missing), `incr` (by
/// `ARGV[3]`, as [`INCREMENT`]) or `none` (0).
pub(super) static WRITE_THEN: Lua = Lua::new(
    r"
local n = tonumber(ARGV[1])
for i = 1, n do
  local op = ARGV[2 + 2 * i]
  if op == 's' then
    redis.call('SET', KEYS[i], ARGV[3 + 2 * i])
  elseif op == 'a' then
    redis.call('SADD', KEYS[i], ARGV[3 + 2 * i])
  elseif op == 'r' then
    redis.call('SREM', KEYS[i], ARGV[3 + 2 * i])
  elseif op == 'k' then
    for _, m in ipairs(redis.call('SMEMBERS', KEYS[i])) do
      redis.call('DEL', ARGV[3 + 2 * i] .. m)
    end
    redis.call('DEL', KEYS[i])
  elseif op == 'e' then
    if redis.call('GET', KEYS[i]) == ARGV[3 + 2 * i] then
      redis.call('DEL', KEYS[i])
    end
  else
    redis.call('DEL', KEYS[i])
  end
end
local kind = ARGV[2]
if kind == 'get' then
  return redis.call('GET', KEYS[n + 1])
elseif kind == 'exists' then
  return redis.call('EXISTS', KEYS[n + 1])
elseif kind == 'many' then
  local out = {}
  for i = n + 1, #KEYS do
    out[#out + 1] = redis.call('GET', KEYS[i])
  end
  return out
elseif kind == 'incr' then
  local v = redis.call('GET', KEYS[n + 1])
  if v and not string.match(v, '^[0-9]+$') then
    return redis.error_reply('NOTANUMBER not a decimal number')
  end
  return redis.call('INCRBY', KEYS[n + 1], ARGV[3])
end
return 0
",
);

/// Takes the lease `KEYS[1]` for owner `ARGV[1]` for `ARGV[2]` ms if free, renews it if
/// the owner holds it; 1 if held by the owner afterwards, else 0.
pub(super) static LEASE: Lua = Lua::new(
    r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
",
);

/// Deletes the lease `KEYS[1]` if owner `ARGV[1]` holds it: 1 if it did, else 0.
pub(super) static RELEASE: Lua = Lua::new(
    r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
);

/// Appends `ARGV[5..]` to the stream `KEYS[1]` (made with its consumer group `bot`, the
/// one every stream is read through, when missing),
/// each its own entry (field `a`), and keeps it `ARGV[2]` ms; when `ARGV[1]` is not empty,
/// only if `ARGV[1]` was not yet in the set `KEYS[2]` (added, and kept as long). Publishes
/// the stream's name `ARGV[4]` on the channel `ARGV[3]` (long-polls on every replica wake).
/// 1 if appended, else 0.
pub(super) static STREAM_ADD: Lua = Lua::new(
    r"
if ARGV[1] ~= '' then
  if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
    return 0
  end
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], 'bot', '0', 'MKSTREAM')
end
for i = 5, #ARGV do
  redis.call('XADD', KEYS[1], '*', 'a', ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
",
);

/// Reads the stream `KEYS[1]` through group `bot`: acknowledges and deletes the pending
/// entries up to `ARGV[1]` (if not empty); then, with `ARGV[2]` > 0: if entries are
/// pending, claims them only if idle for `ARGV[3]` ms (else a batch is in flight: none),
/// and fills up to `ARGV[2]` with new entries. Keeps the stream `ARGV[4]` ms. Returns
/// the entries as `XREADGROUP` does (`{id, {'a', bytes}}`).
pub(super) static STREAM_READ: Lua = Lua::new(
    r"
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {}
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if ARGV[1] ~= '' then
  local pending = redis.call('XPENDING', KEYS[1], 'bot', '-', ARGV[1], 1000)
  local ids = {}
  for _, p in ipairs(pending) do
    ids[#ids + 1] = p[1]
  end
  if #ids > 0 then
    redis.call('XACK', KEYS[1], 'bot', unpack(ids))
    redis.call('XDEL', KEYS[1], unpack(ids))
  end
end
local max = tonumber(ARGV[2])
if max == 0 then
  return {}
end
local out = {}
if redis.call('XPENDING', KEYS[1], 'bot')[1] > 0 then
  local claimed = redis.call('XAUTOCLAIM', KEYS[1], 'bot', 'bot', ARGV[3], '0-0', 'COUNT', max)
  if #claimed[2] == 0 then
    return {}
  end
  out = claimed[2]
end
if #out < max then
  local read = redis.call('XREADGROUP', 'GROUP', 'bot', 'bot', 'COUNT', max - #out, 'STREAMS', KEYS[1], '>')
  if read then
    for _, e in ipairs(read[1][2]) do
      out[#out + 1] = e
    end
  end
end
return out
",
);
