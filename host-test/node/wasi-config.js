// wasi:config/store@0.2.0-rc.1 for Node: the provider settings of this host's one tenant.
// Set them with `configure(...)` before the first hook call.
let settings = {};

export function configure(values) {
  settings = { ...values };
}

export const store = {
  get(key) {
    return Object.hasOwn(settings, key) ? String(settings[key]) : undefined;
  },
  getAll() {
    return Object.entries(settings).map(([k, v]) => [k, String(v)]);
  },
};
