// wasi:keyvalue@0.2.0-draft (store, atomics, batch) for Node: one in-memory Map per bucket,
// shared by every `open` of the same name (so writes are never lost between hook calls).
const buckets = new Map();

export class Bucket {
  #data;
  constructor(data) {
    this.#data = data;
  }
  get(key) {
    return this.#data.get(key);
  }
  set(key, value) {
    this.#data.set(key, new Uint8Array(value));
  }
  delete(key) {
    this.#data.delete(key);
  }
  exists(key) {
    return this.#data.has(key);
  }
  listKeys(cursor) {
    const keys = [...this.#data.keys()].sort();
    const start = Number(cursor ?? 0n);
    const page = keys.slice(start, start + 1000);
    return { keys: page, cursor: start + 1000 < keys.length ? BigInt(start + 1000) : undefined };
  }
}

export const store = {
  Bucket,
  open(identifier) {
    if (!buckets.has(identifier)) buckets.set(identifier, new Map());
    return new Bucket(buckets.get(identifier));
  },
};

export const atomics = {
  increment(bucket, key, delta) {
    const cur = bucket.get(key);
    const next = BigInt(cur ? new TextDecoder().decode(cur) : '0') + BigInt(delta);
    bucket.set(key, new TextEncoder().encode(next.toString()));
    return next;
  },
};

export const batch = {
  getMany(bucket, keys) {
    return keys.map((key) => {
      const value = bucket.get(key);
      return value === undefined ? undefined : [key, value];
    });
  },
  setMany(bucket, keyValues) {
    for (const [key, value] of keyValues) bucket.set(key, value);
  },
  deleteMany(bucket, keys) {
    for (const key of keys) bucket.delete(key);
  },
};

/** Everything stored, for checks. */
export function dump(identifier) {
  return buckets.get(identifier) ?? new Map();
}
