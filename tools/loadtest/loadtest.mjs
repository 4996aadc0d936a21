#!/usr/bin/env node
// Load test for an OpenAI-compatible server on this machine (loopback only):
// for each concurrency level, that many clients each send streaming
// completions one after another, bounded by a request count and a time limit.
// Reports aggregate generation tokens/s, time to first token and inter-token
// latency (p50/p99), how many requests were answered, refused with 429 or
// failed, and the server's resident memory before and after (--pid).
//
//   node tools/loadtest/loadtest.mjs --url http://127.0.0.1:8080 --clients 1,2,4,8,16 \
//        --requests 4 --max-tokens 64 --pid 1234 [--api-key K] [--json out.json]
//        [--warmup 1] [--endpoint completions|chat] [--time-limit 120]
//
// Needs only Node's built-in fetch. Exits non-zero if any request failed
// (neither answered nor refused with 429) or the target is not loopback.
import fs from 'node:fs';

function parseArgs(argv) {
  const a = {
    url: 'http://127.0.0.1:8080', clients: '1,2,4,8,16', requests: 4, maxTokens: 64,
    timeLimit: 120, prompt: 'Once upon a time, in a land far away,', apiKey: '', pid: 0,
    model: '', json: '', endpoint: 'completions', label: 'server', warmup: 1,
  };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    const take = () => { i++; return v; };
    if (k === '--url') a.url = take();
    else if (k === '--clients') a.clients = take();
    else if (k === '--requests') a.requests = Number(take());
    else if (k === '--max-tokens') a.maxTokens = Number(take());
    else if (k === '--time-limit') a.timeLimit = Number(take());
    else if (k === '--prompt') a.prompt = take();
    else if (k === '--api-key') a.apiKey = take();
    else if (k === '--pid') a.pid = Number(take());
    else if (k === '--model') a.model = take();
    else if (k === '--json') a.json = take();
    else if (k === '--endpoint') a.endpoint = take();
    else if (k === '--label') a.label = take();
    else if (k === '--warmup') a.warmup = Number(take());
    else { console.error(`unknown argument ${k}`); process.exit(2); }
  }
  a.clients = a.clients.split(',').map(Number);
  return a;
}

function rssMiB(pid) {
  if (!pid) return null;
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)\s+kB/);
    return m ? Number(m[1]) / 1024 : null;
  } catch { return null; }
}

function pct(xs, p) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

// One streaming request; resolves to {status, tokens, ttft, itls}.
async function oneRequest(args, deadline) {
  const body = {
    model: args.model || 'default', max_tokens: args.maxTokens, temperature: 0, stream: true,
    stream_options: { include_usage: true }, ignore_eos: true,
  };
  if (args.endpoint === 'chat') body.messages = [{ role: 'user', content: args.prompt }];
  else body.prompt = args.prompt;
  const path = args.endpoint === 'chat' ? '/v1/chat/completions' : '/v1/completions';
  const headers = { 'Content-Type': 'application/json' };
  if (args.apiKey) headers.Authorization = `Bearer ${args.apiKey}`;
  const t0 = performance.now();
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), Math.max(1000, deadline - Date.now() + 30000));
  try {
    const res = await fetch(args.url + path, { method: 'POST', headers, body: JSON.stringify(body), signal: ctrl.signal });
    if (res.status !== 200) {
      await res.text();
      return { status: res.status };
    }
    const dec = new TextDecoder();
    let buf = '';
    let last = null;
    let ttft = null;
    const itls = [];
    let chunks = 0;
    let usage = null;
    for await (const part of res.body) {
      buf += dec.decode(part, { stream: true });
      let at;
      while ((at = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, at);
        buf = buf.slice(at + 2);
        if (!frame.startsWith('data: ')) continue;
        const data = frame.slice(6);
        if (data === '[DONE]') continue;
        const j = JSON.parse(data);
        if (j.usage) usage = j.usage;
        const c = j.choices?.[0];
        const text = c?.text ?? c?.delta?.content ?? '';
        if (!text) continue;
        const now = performance.now();
        if (ttft === null) ttft = now - t0;
        else itls.push(now - last);
        last = now;
        chunks++;
      }
    }
    return { status: 200, tokens: usage?.completion_tokens ?? chunks, ttft, itls };
  } catch (e) {
    return { status: 0, error: String(e) };
  } finally {
    clearTimeout(timer);
  }
}

async function level(args, n) {
  const deadline = Date.now() + args.timeLimit * 1000;
  const results = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, async () => {
    for (let r = 0; r < args.requests && Date.now() < deadline; r++) results.push(await oneRequest(args, deadline));
  }));
  const wall = (performance.now() - t0) / 1000;
  const ok = results.filter((r) => r.status === 200);
  const tokens = ok.reduce((s, r) => s + r.tokens, 0);
  const ttft = ok.map((r) => r.ttft).filter((x) => x !== null);
  const itl = ok.flatMap((r) => r.itls);
  return {
    clients: n, requests: results.length, answered: ok.length,
    refused_429: results.filter((r) => r.status === 429).length,
    failed: results.filter((r) => r.status !== 200 && r.status !== 429).length,
    errors: [...new Set(results.filter((r) => r.error).map((r) => r.error))].slice(0, 3),
    tokens, wall_s: wall, tokens_per_s: tokens / wall,
    ttft_ms_p50: pct(ttft, 50), ttft_ms_p99: pct(ttft, 99),
    itl_ms_p50: pct(itl, 50), itl_ms_p99: pct(itl, 99),
  };
}

const args = parseArgs(process.argv);
const host = new URL(args.url).hostname;
if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
  console.error(`refusing to load-test ${host}: loopback only`);
  process.exit(2);
}
// Warm-up requests first, so "before" counts the weights' pages a memory-mapped
// model only brings in on first use: growth after that would be a leak.
for (let i = 0; i < args.warmup; i++) await oneRequest(args, Date.now() + 60000);
const out = { label: args.label, url: args.url, max_tokens: args.maxTokens, rss_mib_before: rssMiB(args.pid), levels: [] };
for (const n of args.clients) {
  const r = await level(args, n);
  out.levels.push(r);
  const f = (x) => (x === null ? '-' : x.toFixed(1));
  console.error(`${args.label} clients=${n}: ${r.answered}/${r.requests} ok, ${r.refused_429} x 429, ${r.failed} failed | ` +
    `${f(r.tokens_per_s)} tok/s | TTFT p50 ${f(r.ttft_ms_p50)} p99 ${f(r.ttft_ms_p99)} ms | ` +
    `ITL p50 ${f(r.itl_ms_p50)} p99 ${f(r.itl_ms_p99)} ms`);
}
out.rss_mib_after = rssMiB(args.pid);
const text = JSON.stringify(out, null, 2);
if (args.json) fs.writeFileSync(args.json, text);
console.log(text);
process.exit(out.levels.some((l) => l.failed > 0) ? 1 : 0);
