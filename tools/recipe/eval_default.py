#!/usr/bin/env python3
"""Evaluate Starfire's default model (issue #7) -> eval.json.

    eval_default.py --model default.gguf --corpus CORPUS [--compare model-f16.gguf]
                    [--starfire BIN] [--threads 2] [--limit N] [--out eval.json]

Runs the model in `starfire serve` (one process; the GGUF's own chat template;
greedy decoding: temperature 0) and measures

* the corpus's evaluation sets (CORPUS/eval/*.jsonl, generated with another
  seed than the training data and checked for overlap by tools/corpus):
  two-digit arithmetic, "who are you", templated instructions and refusals
  of real-time requests; accuracy per set and language, scored as the rows
  say (`number`: the last integer in the reply equals `expected`; `exact`:
  the stripped reply equals it; `contains_any`: the reply contains one of
  the strings, case-insensitive);
* perplexity per language on the held-out text CORPUS/pretrain/val/{zh,en}
  (documents never trained on), tokenized exactly as training data is
  (`starfire data prepare`), scored in windows of the model's context length
  through /v1/completions (echo + logprobs, max_tokens 0); the first token of
  each window has no context and is not scored. Also bits per UTF-8 byte,
  which does not depend on the tokenizer. With --compare the same numbers for
  a second model (e.g. the f16 export before quantization).

Standard library only.
"""
import argparse
import concurrent.futures
import glob
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
SETS = ('arith2', 'identity', 'instruct', 'limits')
SEP = '<|endoftext|>'


# ---------------------------------------------------------------- the server

class Server:
    def __init__(self, starfire, model, threads, parallel):
        self.proc = subprocess.Popen(
            [starfire, 'serve', '-m', model, '--port', '0', '--parallel', str(parallel),
             '-t', str(threads)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r'http://\S+', line)
        if not m:
            err = self.proc.stderr.read()
            raise RuntimeError('starfire serve did not start: %s %s' % (line, err))
        self.url = m.group(0).rstrip('/')
        for _ in range(600):
            try:
                with urllib.request.urlopen(self.url + '/health', timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)

    def post(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode('utf-8'),
                                     headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=600) as r:
                return json.loads(r.read().decode('utf-8'))
        except urllib.error.HTTPError as e:
            raise RuntimeError('%s %s: %s' % (path, e.code, e.read().decode('utf-8', 'replace')))

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def model_info(starfire, model):
    """A few keys from `starfire info` (context length, parameters, ...)."""
    out = subprocess.run([starfire, 'info', model], capture_output=True, text=True,
                         check=True).stdout
    info = {}
    for key in ('context_length', 'embedding_length', 'block_count', 'feed_forward_length',
                'attention.head_count', 'attention.head_count_kv'):
        m = re.search(r'\.%s\s+\S+\s+(\d+)' % re.escape(key), out)
        if m:
            info[key] = int(m.group(1))
    return info


# ---------------------------------------------------------------- tasks

def score(row, reply):
    text = reply.strip()
    exp = row['expected']
    if row['match'] == 'number':
        nums = re.findall(r'-?\d+', text.replace(',', ''))
        return bool(nums) and nums[-1] == str(exp)
    if row['match'] == 'exact':
        return text == exp
    if row['match'] == 'contains_any':
        low = text.lower()
        return any(s.lower() in low for s in exp)
    raise ValueError('unknown match %r in %s' % (row['match'], row.get('id')))


def pick(rows, limit):
    """All rows, or `limit` of them spread evenly (so both languages and every
    kind stay in a short run)."""
    if not limit or limit >= len(rows):
        return rows
    return [rows[int(i * len(rows) / limit)] for i in range(limit)]


def run_tasks(server, corpus, limit, parallel, max_tokens):
    results = {}
    examples = {}
    for name in SETS:
        path = os.path.join(corpus, 'eval', name + '.jsonl')
        if not os.path.exists(path):
            continue
        rows = pick([json.loads(ln) for ln in open(path, encoding='utf-8') if ln.strip()], limit)

        def ask(row):
            r = server.post('/v1/chat/completions', {
                'messages': row['messages'], 'temperature': 0, 'max_tokens': max_tokens,
                'seed': 0})
            return r['choices'][0]['message']['content']

        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
            replies = list(ex.map(ask, rows))
        by_lang = {}
        shown = []
        for row, reply in zip(rows, replies):
            ok = score(row, reply)
            s = by_lang.setdefault(row['lang'], {'n': 0, 'correct': 0})
            s['n'] += 1
            s['correct'] += ok
            if sum(1 for x in shown if x['lang'] == row['lang']) < 3:
                shown.append({'id': row['id'], 'lang': row['lang'],
                              'question': row['messages'][-1]['content'],
                              'expected': row['expected'], 'reply': reply, 'correct': ok})
        n = sum(s['n'] for s in by_lang.values())
        c = sum(s['correct'] for s in by_lang.values())
        for s in by_lang.values():
            s['accuracy'] = round(s['correct'] / s['n'], 4)
        results[name] = {'n': n, 'correct': c, 'accuracy': round(c / n, 4) if n else None,
                         'by_lang': by_lang, 'seconds': round(time.time() - t0, 1)}
        examples[name] = shown
        print('  %-9s %s' % (name, '  '.join(
            '%s %d/%d (%.1f%%)' % (lang, s['correct'], s['n'], 100 * s['accuracy'])
            for lang, s in sorted(by_lang.items()))), flush=True)
    return results, examples


# ---------------------------------------------------------------- perplexity

def read_shards(folder):
    ids = []
    for path in sorted(glob.glob(os.path.join(folder, 'train-*.bin'))):
        with open(path, 'rb') as f:
            head = f.read(24)
            magic, version, n, vocab, flags = struct.unpack('<4sIQII', head)
            if magic != b'SFTK' or version != 1:
                raise RuntimeError('%s: not a token shard' % path)
            data = f.read(4 * n)
            ids.extend(struct.unpack('<%dI' % n, data))
    return ids


def text_bytes(folder):
    total = 0
    for path in sorted(glob.glob(os.path.join(folder, '*.txt'))):
        for doc in open(path, encoding='utf-8').read().split('\n' + SEP + '\n'):
            total += len(doc.strip('\n').encode('utf-8'))
    return total


def tokenize_val(starfire, model, corpus, tmp, threads):
    """{lang: (token ids as training sees them, UTF-8 bytes of the text)}."""
    out = {}
    for lang in ('zh', 'en'):
        src = os.path.join(corpus, 'pretrain', 'val', lang)
        if not os.path.isdir(src):
            continue
        dst = os.path.join(tmp, lang)
        subprocess.run([starfire, 'data', 'prepare', '--input', src, '--tokenizer', model,
                        '-o', dst, '--val-fraction', '0', '--overwrite', '-t', str(threads)],
                       check=True, capture_output=True)
        out[lang] = (read_shards(dst), text_bytes(src))
    return out


def perplexity(server, tokens, ctx, parallel):
    # Windows of the full context: with max_tokens 0 the server scores a prompt
    # that fills it (nothing is decoded after it).
    windows = [tokens[i:i + ctx] for i in range(0, len(tokens), ctx)]
    windows = [w for w in windows if len(w) > 1]

    def nll(w):
        r = server.post('/v1/completions', {'prompt': [w], 'echo': True, 'logprobs': 0,
                                            'max_tokens': 0})
        lp = r['choices'][0]['logprobs']['token_logprobs']
        vals = [x for x in lp[1:] if x is not None]
        return -sum(vals), len(vals)

    with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
        parts = list(ex.map(nll, windows))
    total = sum(p[0] for p in parts)
    n = sum(p[1] for p in parts)
    return total, n


def ppl_report(server, val, ctx, parallel):
    rep = {}
    for lang, (ids, nbytes) in val.items():
        t0 = time.time()
        total, n = perplexity(server, ids, ctx, parallel)
        mean = total / n
        # bits per byte: the scored tokens cover about n/len(ids) of the text
        bpb = total / math.log(2) / (nbytes * n / len(ids))
        rep[lang] = {'tokens': len(ids), 'scored_tokens': n, 'bytes': nbytes,
                     'nll_per_token': round(mean, 4), 'perplexity': round(math.exp(mean), 3),
                     'bits_per_byte': round(bpb, 4), 'window': ctx,
                     'seconds': round(time.time() - t0, 1)}
        print('  ppl %s: %.3f (nll %.4f/token over %d tokens, %.3f bits/byte)' % (
            lang, math.exp(mean), mean, n, bpb), flush=True)
    return rep


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--starfire', default=os.path.join(ROOT, 'build', 'release', 'starfire'))
    ap.add_argument('--model', required=True)
    ap.add_argument('--compare', help='a second model: perplexity only (e.g. the f16 export)')
    ap.add_argument('--corpus', required=True, help='tools/corpus output (eval/, pretrain/val/)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--parallel', type=int, default=4, help='concurrent requests / server slots')
    ap.add_argument('--limit', type=int, default=0, help='items per eval set (0: all)')
    ap.add_argument('--max-tokens', type=int, default=64)
    ap.add_argument('--out', default='eval.json')
    a = ap.parse_args()

    t0 = time.time()
    info = model_info(a.starfire, a.model)
    ctx = info.get('context_length', 512)
    report = {'model': os.path.abspath(a.model), 'model_bytes': os.path.getsize(a.model),
              'model_info': info, 'decoding': {'temperature': 0, 'max_tokens': a.max_tokens,
                                               'template': 'the GGUF\'s chat template'},
              'limit_per_set': a.limit}
    tmp = tempfile.mkdtemp(prefix='sf-eval-')
    try:
        val = tokenize_val(a.starfire, a.model, a.corpus, tmp, a.threads)
        print('evaluating %s' % a.model, flush=True)
        srv = Server(a.starfire, a.model, a.threads, a.parallel)
        try:
            report['tasks'], report['examples'] = run_tasks(srv, a.corpus, a.limit, a.parallel,
                                                            a.max_tokens)
            report['perplexity'] = ppl_report(srv, val, ctx, a.parallel)
        finally:
            srv.close()
        if a.compare:
            print('perplexity of %s' % a.compare, flush=True)
            srv = Server(a.starfire, a.compare, a.threads, a.parallel)
            try:
                report['compare'] = {'model': os.path.abspath(a.compare),
                                     'model_bytes': os.path.getsize(a.compare),
                                     'perplexity': ppl_report(srv, val, ctx, a.parallel)}
            finally:
                srv.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report['seconds'] = round(time.time() - t0, 1)
    with open(a.out + '.tmp', 'w', encoding='utf-8') as f:
        json.dump(report, f, ensure_ascii=False, indent=1)
    os.replace(a.out + '.tmp', a.out)
    print('wrote %s (%.0f s)' % (a.out, report['seconds']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
