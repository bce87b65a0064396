// `make node-smoke`: a whole handover with the component transpiled by jco, in Node.js,
// against the Genesys simulator (`host-test simulator`) on 127.0.0.1.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { configure } from './wasi-config.js';
import { dump } from './wasi-keyvalue.js';

const hostTest = process.env.HOST_TEST ?? '../../target/debug/host-test';
const secret = 'node-smoke-webhook-secret';
const sim = spawn(hostTest, [
  'simulator', '--port', '0', '--client-id', 'node-client', '--client-secret', 'node-client-secret',
  '--deployment', 'NodeDeployment', '--webhook-secret', secret,
], { stdio: ['ignore', 'pipe', 'inherit'] });
const fail = (msg) => { console.error(`node-smoke: FAILED: ${msg}`); sim.kill(); process.exit(1); };
setTimeout(() => fail('timed out'), 60_000).unref();

const base = await new Promise((resolve) => {
  let out = '';
  sim.stdout.on('data', (chunk) => {
    out += chunk;
    const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const i = out.match(/integration \S+ = (\S+)/);
    if (m && i) resolve({ url: m[1], integration: i[1] });
  });
});

configure({
  host: 'mypurecloud.de', 'deployment-name': 'NodeDeployment', 'queue-id': 'node-queue',
  'client-id': 'node-client', 'client-secret': 'node-client-secret', 'webhook-secret': secret,
  'test-genesys-base-url': base.url,
});
const { hooks } = await import('./gen/handover.js');

console.log(`component ${hooks.version()} running in Node ${process.version}, simulator at ${base.url}`);
const start = hooks.start(
  { userId: 'node-user', sessionId: 'node-session', firstName: 'Jane' },
  [{ speaker: 'user', text: 'Hello from Node' }, { speaker: 'bot', text: 'Connecting you' }],
  {
    language: 'english', enableUserConnectsMessage: true, enableUserDisconnectsMessage: true,
    displayAgentDetails: false, customAttributes: '{"tier":"gold"}',
  },
);
console.log('start →', JSON.stringify(start.actions));
if (start.actions[0]?.val?.tag !== 'queued') fail(`start gave ${JSON.stringify(start)}`);
hooks.userMessage('node-user', { tag: 'text', val: 'Is anybody there?' }, 'node-turn-1');

const body = new TextEncoder().encode(JSON.stringify({
  id: '0123456789abcdef0123456789abcdef', type: 'Text', text: 'Hi Jane, this is Sam.',
  originatingEntity: 'Human', direction: 'Outbound',
  channel: { id: base.integration, platform: 'Open', type: 'Private', to: { id: 'node-user', idType: 'Opaque' },
             from: { id: base.integration, idType: 'Opaque', nickname: 'NodeDeployment' }, time: new Date().toISOString() },
}));
const signature = 'sha256=' + createHmac('sha256', secret).update(body).digest('base64');
const agent = hooks.agentMessage({ headers: [['X-Hub-Signature-256', signature]], body });
console.log('agent-message →', JSON.stringify(agent.actions));
// The agent's first message announces the agent (no user.start was forwarded), then its text.
if (agent.actions[0]?.val?.tag !== 'agent-joined') fail('no agent-joined before the first text');
const text = agent.actions.find((a) => a.tag === 'send-text');
if (text?.val.text !== 'Hi Jane, this is Sam.') fail('no agent text');
try {
  hooks.agentMessage({ headers: [['X-Hub-Signature-256', 'sha256=AAAA']], body });
  fail('a badly signed webhook was accepted');
} catch (e) {
  console.log('bad signature →', JSON.stringify(e.payload));
}

const end = hooks.end({ tag: 'user-left', val: 'node-user' });
console.log('end →', JSON.stringify(end.actions));
if (end.actions[0]?.val?.val !== 'user-left') fail('handover did not end');
if ([...dump('genesys-om').keys()].some((k) => k.startsWith('handover/'))) fail('state left behind');

const received = await (await fetch(`${base.url}/_sim/received`)).json();
const texts = received.filter((r) => r.kind === 'message').map((r) => r.body.text);
console.log('Genesys received:', JSON.stringify(texts));
if (!texts.some((t) => t?.includes('User: Hello from Node'))) fail('transcript missing');
if (!texts.includes('Is anybody there?')) fail('user message missing');
if (received[0].body.channel.metadata.customAttributes.tier !== 'gold') fail('custom attributes missing');
sim.kill();
console.log('node-smoke: passed');
process.exit(0);
