// The Node.js peer service of `make bench`: the webhook contract of `serve`'s agent-message
// path as a Node.js provider would serve it, with `node:http` and the official Redis client,
// against the same redis-server. Per webhook: verify X-Hub-Signature-256 (HMAC-SHA256 of the
// raw body, base64, constant-time compare), parse, read the handover record, de-duplicate
// the message id while noting the activity (one MULTI), queue the action for the session.
// It counts its own store round trips: every awaited command or transaction is one.
//
// Usage: node peer-server.mjs PORT REDIS_URL INPUT.json
//   INPUT.json: {"secret": …, "handovers": [{"user_id", "session_id", "conversation_id"}]}
// Prints "listening PORT" once the handovers are stored and the port is open.
// GET /stats → {"round_trips": n, "webhooks": n}.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createClient } from 'redis';

const [port, redisUrl, inputPath] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputPath, 'utf8'));
const secret = input.secret;
// Apart from serve's keys in the same server.
const P = 'node-peer';

const redis = createClient({ url: redisUrl });
redis.on('error', (e) => console.error(`redis: ${e.message}`));
await redis.connect();

let roundTrips = 0;
let webhooks = 0;
// One store round trip: a command or a transaction, awaited.
function trip(promise) {
  roundTrips += 1;
  return promise;
}

// The open handovers, agent already announced (as serve's are after the greeting).
const seed = redis.multi();
for (const h of input.handovers) {
  seed.set(`${P}:handover:${h.user_id}`, JSON.stringify({
    session_id: h.session_id,
    hid: h.conversation_id.replaceAll('-', '').slice(0, 16),
    conversation_id: h.conversation_id,
    agent_announced: true,
  }));
}
await seed.exec();

function verified(signature, body) {
  if (typeof signature !== 'string' || !signature.startsWith('sha256=')) return false;
  const want = createHmac('sha256', secret).update(body).digest();
  const got = Buffer.from(signature.slice(7), 'base64');
  return got.length === want.length && timingSafeEqual(got, want);
}

function send(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function agentMessage(signature, body) {
  if (!verified(signature, body)) return [401, { error: 'unauthorized' }];
  let m;
  try {
    m = JSON.parse(body);
  } catch {
    return [400, { error: 'invalid-input: not JSON' }];
  }
  const userId = m.channel?.to?.id;
  if (typeof userId !== 'string' || typeof m.id !== 'string') {
    return [400, { error: 'invalid-input: no channel.to.id or id' }];
  }
  const raw = await trip(redis.get(`${P}:handover:${userId}`));
  if (raw === null) return [404, { error: 'unknown-conversation' }];
  const h = JSON.parse(raw);
  if (m.conversationId && m.conversationId !== h.conversation_id) {
    return [200, { ok: { actions: 0, warnings: ['stale-webhook-dropped'] } }];
  }
  // The id's mark and the activity in one transaction: the mark decides the first copy.
  const [mark] = await trip(redis.multi()
    .set(`${P}:seen:${h.hid}:${m.id}`, '1', { condition: 'NX' })
    .set(`${P}:activity:${h.hid}`, String(Date.now()))
    .exec());
  if (mark === null) return [200, { ok: { actions: 0, warnings: ['duplicate'] } }];
  const actions = m.type === 'Text' && typeof m.text === 'string'
    ? [{ 'send-text': { message_id: m.id, text: m.text } }]
    : [];
  if (actions.length > 0) {
    await trip(redis.rPush(`${P}:bus:${h.session_id}`, actions.map((a) => JSON.stringify(a))));
  }
  return [200, { ok: { actions: actions.length, warnings: [] } }];
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    send(res, 200, { round_trips: roundTrips, webhooks });
    return;
  }
  if (req.method !== 'POST') {
    send(res, 405, { error: 'method not allowed' });
    return;
  }
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > 1 << 20) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    webhooks += 1;
    agentMessage(req.headers['x-hub-signature-256'], Buffer.concat(chunks))
      .then(([status, value]) => send(res, status, value))
      .catch((e) => send(res, 503, { error: `storage: ${e.message}` }));
  });
});
server.keepAliveTimeout = 10_000;
server.listen(Number(port), '127.0.0.1', () => console.log(`listening ${port}`));
