// Where the component's bytes go, by crate: reads `twiggy top -f csv` of the unstripped core
// module (`make sizes`) and sums each function's size under the crate its name starts with;
// serde's derived impls of our own types count as "serde (derived)". Debug sections and the
// name section are left out: the shipped file has neither.
import { readFileSync } from "node:fs";

const rows = readFileSync(process.argv[2], "utf8").trim().split("\n").slice(1);
const crates = new Map();
const add = (k, n) => crates.set(k, (crates.get(k) ?? 0) + n);
const alias = {
  serde_core: "serde", serde: "serde", serde_json: "serde_json", core: "Rust std", alloc: "Rust std",
  std: "Rust std", hmac: "hmac + sha2 + digest", sha2: "hmac + sha2 + digest",
  digest: "hmac + sha2 + digest", block_buffer: "hmac + sha2 + digest", base64: "base64",
  wit_bindgen: "wit-bindgen runtime", wit_bindgen_rt: "wit-bindgen runtime", wasip2: "wasip2 (wasi)",
  genesys_om_handover: "genesys-om-handover", itoa: "serde_json", ryu: "serde_json",
  memchr: "serde_json", dlmalloc: "Rust std",
};
for (const row of rows) {
  const m = row.match(/^(.*),(\d+),[\d.]+,[^,]*,[^,]*$/);
  if (!m) continue;
  const name = m[1].replace(/^"|"$/g, "").replace(/""/g, '"');
  const size = Number(m[2]);
  if (/custom section '\.debug|function names|local names|"?producers|component-type|target_features/.test(name)) continue;
  if (/^data segment|^data\[/.test(name)) { add("data (constants, strings)", size); continue; }
  if (/^(table|elem|type|import|export|global|memory|code section headers|wasm magic)/.test(name)) { add("module structure", size); continue; }
  if (/(serde_core::de::Deserialize|serde_core::ser::Serialize|serde::de::Deserialize|serde::ser::Serialize)( for|>)|__FieldVisitor|__Visitor|_::<impl serde/.test(name) && /genesys_om_handover/.test(name)) { add("serde (derived, our types)", size); continue; }
  if (/^(cabi_post_)?[a-z-]+:[a-z-]+\/[a-z-]+@[\d.]+#|^cabi_realloc/.test(name)) { add("wit-bindgen (generated exports)", size); continue; }
  const lead = name.replace(/^(<|&mut |&|dyn |\()+/g, "").split("::")[0].replace(/\[[0-9a-f]+\]$/, "");
  const owner = alias[lead] ?? (/^[a-z_][a-z0-9_]*$/.test(lead) && name.includes("::") ? lead : "wasi-libc (malloc, memcpy, …)");
  add(owner, size);
}
const total = [...crates.values()].reduce((a, b) => a + b, 0);
console.log("| crate | bytes | share |\n|---|---:|---:|");
for (const [k, v] of [...crates].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${k} | ${v.toLocaleString("en").replace(/,/g, " ")} | ${((100 * v) / total).toFixed(1)} % |`);
}
console.log(`| **total** (code and data, no names or debug info) | ${total.toLocaleString("en").replace(/,/g, " ")} | |`);
