// The optimisation pass of `make build`: binaryen's -Oz over the component's core modules
// (through `jco opt`, pinned in package.json), then the top-level `component-name` custom
// section dropped: debug names only, which `strip` keeps. Usage: node shrink.mjs IN OUT.
// OUT is left alone when it was already made from the same IN (a stamp beside it).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FEATURES = [
  '--enable-bulk-memory', '--enable-bulk-memory-opt', '--enable-sign-ext',
  '--enable-nontrapping-float-to-int', '--enable-mutable-globals', '--enable-multivalue',
  '--enable-reference-types', '--enable-simd',
];
const here = dirname(fileURLToPath(import.meta.url));
const jco = join(here, 'node_modules', '.bin', 'jco');
const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node shrink.mjs IN.wasm OUT.wasm');
  process.exit(2);
}

const source = readFileSync(input);
const stamp = `${output}.stamp`;
// The stamp names the input, the pass and the jco that ran it, so an upgrade redoes the work.
const jcoVersion = JSON.parse(readFileSync(join(here, 'node_modules', '@bytecodealliance', 'jco', 'package.json'), 'utf8')).version;
const key = createHash('sha256').update(source).update(FEATURES.join(' ')).update(`-Oz jco ${jcoVersion}`).digest('hex');
if (existsSync(output) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) {
  process.exit(0);
}

const tmp = `${output}.opt.tmp`;
execFileSync(jco, ['opt', input, '-o', tmp, '--', '-Oz', ...FEATURES], { stdio: ['ignore', 'ignore', 'inherit'] });
const shrunk = dropCustomSection(readFileSync(tmp), 'component-name');
rmSync(tmp);
writeFileSync(`${output}.tmp`, shrunk);
renameSync(`${output}.tmp`, output);
writeFileSync(stamp, key);
console.log(`${output}: ${source.length} -> ${shrunk.length} bytes`);

/** The binary without its top-level custom sections called `name`. */
function dropCustomSection(bytes, name) {
  const leb = (i) => {
    let value = 0, shift = 0, b;
    do {
      b = bytes[i++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return [value, i];
  };
  const kept = [bytes.subarray(0, 8)];
  let i = 8;
  while (i < bytes.length) {
    const start = i;
    const id = bytes[i++];
    const [size, body] = leb(i);
    const end = body + size;
    if (end > bytes.length) throw new Error('truncated section');
    let drop = false;
    if (id === 0) {
      const [len, at] = leb(body);
      drop = Buffer.from(bytes.subarray(at, at + len)).toString('utf8') === name;
    }
    if (!drop) kept.push(bytes.subarray(start, end));
    i = end;
  }
  return Buffer.concat(kept);
}
