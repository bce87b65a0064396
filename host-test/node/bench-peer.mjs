// The Node.js peer of `make bench`: the agent-message hot path as a Node.js provider does it,
// on the same webhook bytes the component gets. Verify X-Hub-Signature-256 (HMAC-SHA256 →
// base64, timingSafeEqual), JSON.parse the webhook, read the handover record and the
// message-id mark from a Map, write the mark and the activity time, map to an action.
// Usage: node bench-peer.mjs INPUT.json  →  prints {"agent_message_us":…, "verify_parse_us":…}
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const secret = input.secret;
const webhooks = input.webhooks.map((w) => ({
  signature: w.signature,
  body: Buffer.from(w.body, 'utf8'),
}));

function verify(signature, body) {
  if (!signature || !signature.startsWith('sha256=')) throw new Error('unsigned');
  const want = createHmac('sha256', secret).update(body).digest();
  const got = Buffer.from(signature.slice(7), 'base64');
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw new Error('bad signature');
}

// The KV of a Node provider: one Map, JSON values.
const kv = new Map();
function openHandover(userId) {
  kv.set(`handover/${userId}`, JSON.stringify({
    user_id: userId, session_id: `session-of-${userId}`, hid: '0123456789abcdef',
    integration_id: '9e3779b9-0000-4000-8000-000000000001',
    conversation_id: 'daa66d2c-0000-4000-8000-000000000003',
    display_agent_details: false, user_connects_message: true, user_disconnects_message: true,
  }));
}

function agentMessage(w, now) {
  verify(w.signature, w.body);
  const m = JSON.parse(w.body);
  const userId = m.channel?.to?.id;
  if (!userId) throw new Error('no channel.to.id');
  const raw = kv.get(`handover/${userId}`);
  if (raw === undefined) return { error: 'unknown-conversation' };
  const h = JSON.parse(raw);
  const seenKey = `seen/${h.hid}/${m.id}`;
  const first = !kv.has(seenKey);
  kv.set(seenKey, '1');
  kv.set(`activity/${h.hid}`, String(now));
  const actions = m.type === 'Text' ? [{ tag: 'send-text', val: { messageId: m.id, text: m.text } }] : [];
  return { session: h.session_id, actions, duplicate: !first };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn) {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1000;
}

for (const w of webhooks) {
  const to = JSON.parse(w.body).channel.to.id;
  openHandover(to);
}
// Warm up the JIT as the component's instance is warm.
for (let round = 0; round < 3; round++) for (const w of webhooks) agentMessage(w, Date.now());
kv.clear();
for (const w of webhooks) openHandover(JSON.parse(w.body).channel.to.id);

const full = webhooks.map((w) => time(() => {
  const o = agentMessage(w, Date.now());
  if (o.actions.length !== 1) throw new Error(`no action: ${JSON.stringify(o)}`);
}));
const verifyParse = webhooks.map((w) => time(() => {
  verify(w.signature, w.body);
  JSON.parse(w.body);
}));
console.log(JSON.stringify({
  agent_message_us: median(full),
  verify_parse_us: median(verifyParse),
  webhooks: webhooks.length,
  node: process.version,
}));
