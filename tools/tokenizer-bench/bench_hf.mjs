// Times Hugging Face `tokenizers` (Rust core, via the npm package
// @anush008/tokenizers) on a tokenizer.json and a text file, one thread, and
// prints JSON that compare.py sets beside bench_tokenizer's output. Reports
// wall-clock and process CPU time (use CPU time on a busy machine).
//
// usage: node bench_hf.mjs TOKENIZER_JSON TEXT_FILE [--repeat N] [--ids OUT.i32] [--block BYTES]
//   --ids writes the ids (int32 little-endian) so Starfire's ids can be checked
//   against them (bench_tokenizer --expected_ids=OUT.i32).
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";

process.env.RAYON_NUM_THREADS = "1";
process.env.TOKENIZERS_PARALLELISM = "false";
const require = createRequire(import.meta.url);
const { Tokenizer } = require("@anush008/tokenizers");

const args = process.argv.slice(2);
if (args.length < 2) {
  console.error("usage: node bench_hf.mjs TOKENIZER_JSON TEXT_FILE [--repeat N] [--ids OUT]");
  process.exit(2);
}
const [tokPath, textPath] = args;
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const repeat = Number(opt("--repeat", "5"));
const idsOut = opt("--ids", null);
const blockBytes = Number(opt("--block", "65536"));

const tok = Tokenizer.fromFile(tokPath);

// Encode in ~64 KB blocks cut after the first newline at or past each 64 KB
// (byte offsets, exactly as bench_tokenizer.cpp cuts them), as a server sees
// requests rather than one huge string.
const buf = readFileSync(textPath);
const blocks = [];
for (let start = 0; start < buf.length; ) {
  let end = Math.min(buf.length, start + blockBytes);
  if (end < buf.length) {
    const nl = buf.indexOf(0x0a, end);
    end = nl < 0 ? buf.length : nl + 1;
  }
  blocks.push(buf.subarray(start, end).toString("utf8"));
  start = end;
}

let nTokens = 0;
let ids = [];
const times = [];
const cpuTimes = [];
await tok.encode("warm up", null, { addSpecialTokens: false });
for (let r = 0; r < repeat; r++) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let n = 0;
  const all = [];
  for (const b of blocks) {
    const enc = await tok.encode(b, null, { addSpecialTokens: false });
    const bi = enc.getIds();
    n += bi.length;
    if (r === 0 && idsOut) all.push(...bi);
  }
  const t1 = process.hrtime.bigint();
  const c1 = process.cpuUsage(c0);
  times.push(Number(t1 - t0) / 1e9);
  cpuTimes.push((c1.user + c1.system) / 1e6);
  nTokens = n;
  if (r === 0) ids = all;
}
times.sort((a, b) => a - b);
cpuTimes.sort((a, b) => a - b);
const best = times[0];
const median = times[Math.floor(times.length / 2)];
if (idsOut) writeFileSync(idsOut, Buffer.from(new Int32Array(ids).buffer));
console.log(
  JSON.stringify({
    library: "hf-tokenizers (npm @anush008/tokenizers)",
    tokenizer: tokPath,
    text: textPath,
    bytes: buf.length,
    blocks: blocks.length,
    block_bytes: blockBytes,
    tokens: nTokens,
    best_s: best,
    median_s: median,
    mb_per_s_best: buf.length / best / 1e6,
    mb_per_s_median: buf.length / median / 1e6,
    // CPU time of the whole process (the encode runs on one worker thread;
    // the main thread waits): comparable to Google Benchmark's CPU time.
    cpu_s_best: cpuTimes[0],
    mb_per_s_cpu: buf.length / cpuTimes[0] / 1e6,
  }),
);
