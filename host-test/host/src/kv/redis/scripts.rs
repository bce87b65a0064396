//! The Lua scripts the Redis store runs with EVAL, each one atomic on the server: the
//! checked increment and the take-or-renew lease.

/// `KEYS[1]` += `ARGV[1]` if it is missing or holds decimal digits; else a NOTANUMBER error.
pub(super) const INCREMENT: &str = r"
local v = redis.call('GET', KEYS[1])
if v and not string.match(v, '^[0-9]+$') then
  return redis.error_reply('NOTANUMBER not a decimal number')
end
return redis.call('INCRBY', KEYS[1], ARGV[1])
";

/// Takes the lease `KEYS[1]` for owner `ARGV[1]` for `ARGV[2]` ms if free, renews it if
/// the owner holds it; 1 if held by the owner afterwards, else 0.
pub(super) const LEASE: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
";

/// Adds `ARGV[1]` to the set `KEYS[2]`; if it was not there, appends `ARGV[2..]` to the
/// list `KEYS[1]`. 1 if appended, else 0.
pub(super) const PUSH_ONCE: &str = r"
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
  return 0
end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
return 1
";
