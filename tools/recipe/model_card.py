#!/usr/bin/env python3
"""Write MODEL_CARD.md (and loss.svg) for a model built by default_model.sh.

    model_card.py WORKDIR [--corpus DIR] [--command CMD] [--out FILE]

Reads, all from WORKDIR unless said otherwise: the corpus manifest
(CORPUS/manifest.json), tokenizer.report.json, data/*/meta.json, the training
logs and final checkpoint settings (pretrain/, sft/), stamps/*.done (stage
times), eval.json, bench.jsonl, transcript.md and default.gguf. Missing pieces
are said to be missing rather than invented. The loss curves are drawn as a
hand-written SVG (no plotting library). Standard library only.
"""
import argparse
import glob
import html
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recipe_util import sha256  # noqa: E402

STAGES = ('build', 'corpus', 'sample', 'tokenizer', 'data', 'pretrain', 'sft', 'quantize', 'eval',
          'bench', 'chat', 'card')


def load_json(path, default=None):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def load_jsonl(path):
    rows = []
    try:
        with open(path, encoding='utf-8') as f:
            for ln in f:
                ln = ln.strip()
                if ln:
                    try:
                        rows.append(json.loads(ln))
                    except ValueError:
                        pass
    except OSError:
        pass
    return rows


def final_config(stage_dir):
    """The settings of a training run: state.json of its newest checkpoint."""
    states = sorted(glob.glob(os.path.join(stage_dir, 'ckpt', 'step-*', 'state.json')))
    st = load_json(states[-1]) if states else None
    return (st or {}).get('config'), st


def n_params(c):
    """Parameters of a Llama-architecture model with the trainer's settings."""
    d, L, v = c['dim'], c['layers'], c['vocab']
    hd = c['head_dim'] or d // c['heads']
    attn = d * c['heads'] * hd + 2 * d * c['kv_heads'] * hd + c['heads'] * hd * d
    layer = attn + 3 * d * c['ff'] + 2 * d
    emb = v * d
    head = 0 if c.get('tie_embeddings') else v * d
    return {'total': emb + L * layer + d + head, 'embedding': emb, 'output': head,
            'blocks': L * layer}


def fmt_int(x):
    return '{:,}'.format(int(x))


def fmt_m(x):
    return '%.2f M' % (x / 1e6)


def human_bytes(b):
    for unit in ('B', 'KB', 'MB', 'GB'):
        if b < 1000 or unit == 'GB':
            return ('%d %s' % (b, unit)) if unit == 'B' else ('%.1f %s' % (b, unit))
        b /= 1000.0


# ---------------------------------------------------------------- the SVG

def nice_ticks(lo, hi, n=5):
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + 1e-9 * step:
        if t >= lo - 1e-9 * step:
            ticks.append(round(t, 10))
        t += step
    return ticks


def smooth(points, window):
    """Mean of each run of `window` consecutive points (x: the run's last x)."""
    out = []
    for i in range(0, len(points), window):
        chunk = points[i:i + window]
        out.append((chunk[-1][0], sum(p[1] for p in chunk) / len(chunk)))
    return out


def panel_svg(x0, y0, w, h, title, series, xlabel):
    """One chart: series = [(label, colour, points, style)], style 'line',
    'faint' or 'dots'. Returns SVG elements."""
    pts = [p for s in series for p in s[2]]
    if not pts:
        return ['<text x="%d" y="%d" font-size="13">%s: no data</text>' % (x0 + 10, y0 + 30,
                                                                           html.escape(title))]
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    xmin, xmax = 0, max(xs)
    # the first steps of a fresh model (loss ~ ln vocab) would flatten the rest
    ys_sorted = sorted(ys)
    ymin = ys_sorted[0]
    ymax = ys_sorted[min(len(ys_sorted) - 1, int(0.995 * len(ys_sorted)))]
    pad = (ymax - ymin) * 0.05 or 0.5
    ymin, ymax = ymin - pad, ymax + pad
    L, R, T, B = 56, 12, 28, 40
    pw, ph = w - L - R, h - T - B

    def X(x):
        return x0 + L + (x - xmin) / ((xmax - xmin) or 1) * pw

    def Y(y):
        y = min(max(y, ymin), ymax)
        return y0 + T + (ymax - y) / ((ymax - ymin) or 1) * ph

    el = ['<text x="%.1f" y="%d" font-size="14" font-weight="bold">%s</text>' % (
        x0 + L, y0 + 18, html.escape(title))]
    el.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>' % (
        x0 + L, y0 + T, pw, ph))
    for t in nice_ticks(ymin, ymax):
        el.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/>' % (
            x0 + L, x0 + L + pw, Y(t), Y(t)))
        el.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end">%g</text>' % (
            x0 + L - 4, Y(t) + 4, t))
    for t in nice_ticks(xmin, xmax):
        el.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#999"/>' % (
            X(t), X(t), y0 + T + ph, y0 + T + ph + 4))
        el.append('<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%g</text>' % (
            X(t), y0 + T + ph + 16, t))
    el.append('<text x="%.1f" y="%d" font-size="12" text-anchor="middle">%s</text>' % (
        x0 + L + pw / 2, y0 + h - 6, html.escape(xlabel)))
    el.append('<text x="%d" y="%.1f" font-size="12" text-anchor="middle" '
              'transform="rotate(-90 %d %.1f)">loss (nats/token)</text>' % (
                  x0 + 14, y0 + T + ph / 2, x0 + 14, y0 + T + ph / 2))
    ly = y0 + T + 14
    for label, colour, points, style in series:
        if not points:
            continue
        path = ' '.join('%.1f,%.1f' % (X(x), Y(y)) for x, y in points)
        if style == 'dots':
            el.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>' % (
                path, colour))
            for x, y in points:
                el.append('<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>' % (X(x), Y(y), colour))
        else:
            el.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="%s" '
                      'stroke-opacity="%s"/>' % (path, colour, '1' if style == 'faint' else '2',
                                                 '0.25' if style == 'faint' else '1'))
        if style != 'faint':
            el.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/>' % (
                x0 + L + pw - 175, x0 + L + pw - 155, ly - 4, ly - 4, colour))
            el.append('<text x="%d" y="%d" font-size="11">%s</text>' % (
                x0 + L + pw - 150, ly, html.escape(label)))
            ly += 15
    return el


def loss_svg(runs, path):
    """runs: [(title, train rows, eval rows)] from the JSONL logs."""
    w, h = 640, 300
    el = []
    for i, (title, train, evals) in enumerate(runs):
        pts = [(r['step'], r['loss']) for r in train if r.get('loss') is not None]
        window = max(1, len(pts) // 100)
        val = [(r['step'], r['val_loss']) for r in evals if r.get('val_loss') is not None]
        series = [('train (per step)', '#1f77b4', pts, 'faint'),
                  ('train (mean of %d steps)' % window if window > 1 else 'train',
                   '#1f77b4', smooth(pts, window), 'line'),
                  ('validation', '#d62728', val, 'dots')]
        el += panel_svg(0, i * h, w, h, title, series, 'optimizer step')
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" viewBox="0 0 %d %d">' % (w, h * len(runs), w, h * len(runs)),
           '<rect width="100%" height="100%" fill="white"/>'] + el + ['</svg>']
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(svg) + '\n')


# ---------------------------------------------------------------- the card

def ship_type(work):
    """The type default.gguf was quantized to (from the quantize stage's log)."""
    try:
        for ln in open(os.path.join(work, 'logs', 'quantize.log'), encoding='utf-8'):
            if ln.startswith('default.gguf:') and '(' in ln:
                return ln.rsplit('(', 1)[1].strip().rstrip(')')
    except OSError:
        pass
    return 'type unknown'


def corpus_build_seconds(corpus):
    """The corpus build's duration: the last timestamp in its build.log."""
    try:
        lines = open(os.path.join(corpus, 'build.log'), encoding='utf-8').read().split('\n')
    except OSError:
        return None
    for ln in reversed(lines):
        if ln.startswith('[') and 's]' in ln:
            try:
                return float(ln[1:ln.index('s]')])
            except ValueError:
                return None
    return None


def stage_times(work):
    rows = []
    total = 0.0
    for name in STAGES:
        st = load_json(os.path.join(work, 'stamps', name + '.done'))
        if st:
            rows.append('| %s | %.1f |' % (name, st['seconds']))
            total += st['seconds']
    return rows, total


def train_summary(stage_dir):
    cfg, st = final_config(stage_dir)
    logs = load_jsonl(os.path.join(stage_dir, 'log.jsonl'))
    train = [r for r in logs if r.get('type') == 'train']
    evals = [r for r in logs if r.get('type') == 'eval']
    samples = [r for r in logs if r.get('type') == 'sample']
    return cfg, st, train, evals, samples


def acc(s):
    return '%d/%d (%.1f %%)' % (s['correct'], s['n'], 100.0 * s['correct'] / s['n']) if s.get('n') \
        else '–'


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('work')
    ap.add_argument('--corpus', help='the corpus folder (default: WORK/corpus)')
    ap.add_argument('--command', default='tools/recipe/default_model.sh WORKDIR')
    ap.add_argument('--out', help='default: WORK/MODEL_CARD.md')
    a = ap.parse_args()
    work = os.path.abspath(a.work)
    corpus = a.corpus or os.path.join(work, 'corpus')
    out = a.out or os.path.join(work, 'MODEL_CARD.md')
    quick = os.path.isdir(os.path.join(work, 'corpus-sample'))

    man = load_json(os.path.join(corpus, 'manifest.json'), {})
    tokrep = load_json(os.path.join(work, 'tokenizer.report.json'), {})
    meta_pre = load_json(os.path.join(work, 'data', 'pretrain', 'meta.json'), {})
    meta_sft = load_json(os.path.join(work, 'data', 'sft', 'meta.json'), {})
    ev = load_json(os.path.join(work, 'eval.json'), {})
    bench = load_jsonl(os.path.join(work, 'bench.jsonl'))
    pcfg, pst, ptrain, peval, psamples = train_summary(os.path.join(work, 'pretrain'))
    scfg, sst, strain, seval, _ = train_summary(os.path.join(work, 'sft'))
    model = os.path.join(work, 'default.gguf')
    size = os.path.getsize(model) if os.path.exists(model) else None

    runs = []
    if ptrain:
        runs.append(('Pretraining', ptrain, peval))
    if strain:
        runs.append(('SFT (chat, loss on assistant replies only)', strain, seval))
    if runs:
        loss_svg(runs, os.path.join(work, 'loss.svg'))

    L = []
    w = L.append
    w('# Starfire default model%s' % (' (quick smoke-test build: a toy, not the real model)'
                                       if quick else ''))
    w('')
    w('A small bilingual (Chinese + English) chat model trained from scratch on this machine by '
      'Starfire\'s own pipeline — corpus, tokenizer, pretraining, SFT and quantization — from '
      'text that ships in Debian plus synthetic data generated by our own code. It runs offline '
      'and is meant as a working default for `starfire chat` / `starfire serve`, not as a '
      'knowledgeable assistant: read "Limitations" first.')
    w('')

    # ---- summary
    w('## At a glance')
    w('')
    w('| | |')
    w('|---|---|')
    if pcfg:
        np_ = n_params(pcfg)
        w('| architecture | Llama (RMSNorm, RoPE, SwiGLU, %s attention), %d layers, dim %d, '
          '%d heads (%d key/value), head size %d, feed-forward %d |' % (
              'grouped-query' if pcfg['kv_heads'] < pcfg['heads'] else 'multi-head',
              pcfg['layers'], pcfg['dim'], pcfg['heads'], pcfg['kv_heads'],
              pcfg['head_dim'] or pcfg['dim'] // pcfg['heads'], pcfg['ff']))
        w('| parameters | %s (embedding %s, output head %s, blocks %s) |' % (
            fmt_m(np_['total']), fmt_m(np_['embedding']), fmt_m(np_['output']),
            fmt_m(np_['blocks'])))
        w('| vocabulary | %s tokens (byte-level BPE, ChatML specials) |' % fmt_int(pcfg['vocab']))
        w('| context | %d tokens (trained at this length) |' % pcfg['ctx'])
    if size is not None:
        qt = ship_type(work)
        w('| file | `default.gguf`, %s (%s bytes), %s; sha256 `%s` |' % (
            human_bytes(size), fmt_int(size), qt, sha256(model)[:16]))
    w('| chat template | ChatML (`<\\|im_start\\|>role ... <\\|im_end\\|>`), stored in the GGUF |')
    w('| languages | Chinese (Simplified), English |')
    w('| licence of the weights | see "Data and licences" |')
    w('')

    # ---- recipe
    w('## How it was made')
    w('')
    w('One command from a clean clone (Debian 12, 2 cores, no GPU, no network except the Debian '
      'archive for the corpus):')
    w('')
    w('```sh')
    w(a.command)
    w('```')
    w('')
    rows, total = stage_times(work)
    built = corpus_build_seconds(corpus)
    if built is not None:
        w('The corpus stage only verified an existing corpus build when its time is about a '
          'second; building it took %.0f s (its build.log; docs/CORPUS.md: ~7 min from an empty '
          'folder, 1.7 min with the packages cached).' % built)
        w('')
    if rows:
        w('Time per stage on this machine (the most recent run of each stage; a stage skipped on '
          'a rerun keeps its earlier time):')
        w('')
        w('| stage | seconds |')
        w('|---|---:|')
        L.extend(rows)
        w('| **total** | **%.1f** (%.1f min) |' % (total, total / 60))
        w('')

    # ---- data
    w('## Data and licences')
    w('')
    tt = man.get('totals_train', {})
    if tt:
        w('Corpus built by `tools/corpus/build.sh` (details: docs/CORPUS.md). Training split, '
          'after cleaning and de-duplication%s:' % (
              '; **this quick build used only a sample of it**' if quick else ''))
        w('')
        w('| part | documents | bytes | CJK chars | share of est. tokens |')
        w('|---|---:|---:|---:|---:|')
        for part in ('zh', 'en', 'bi', 'synth'):
            t = tt.get(part)
            if t:
                w('| %s | %s | %s | %s | %.1f %% |' % (part, fmt_int(t['docs']), fmt_int(t['bytes']),
                                                      fmt_int(t['cjk_chars']),
                                                      100 * t['share_of_tokens']))
        w('')
    src = man.get('sources', {})
    if src:
        w('Sources (Debian `main` packages; the licence as reviewed from each package\'s '
          'copyright file):')
        w('')
        w('| source | package | version | licence | lang | training bytes |')
        w('|---|---|---|---|---|---:|')
        for name, s in sorted(src.items(), key=lambda kv: (kv[1].get('lang', ''), kv[0])):
            w('| %s | %s | %s | %s | %s | %s |' % (
                name, s.get('package', ''), s.get('version', ''),
                s.get('licence', '').replace('|', '/'), s.get('lang', ''),
                fmt_int(s.get('train', {}).get('bytes', 0))))
        w('')
    syn = man.get('synthetic', {})
    if syn:
        w('Synthetic data (tools/corpus/synth.py; answers computed by code): %s SFT conversations '
          '(%s), %s bytes of Q/A pretraining text. Evaluation items are generated with another '
          'seed from reserved operand pairs, words and phrasings; the exact-match overlap check '
          'against the training data found %s.' % (
              fmt_int(syn.get('sft_train', 0)),
              ', '.join('%s %s' % (k, fmt_int(v)) for k, v in syn.get('sft_train_by_lang', {}).items()),
              fmt_int(syn.get('pretrain', {}).get('bytes', 0)),
              syn.get('eval_overlap_exact_match', '?')))
        w('')
    w('All text is from Debian main (DFSG-free): public domain, permissive (PSF, MPL-2.0, '
      'MIT/Expat, BSD, WordNet, Unicode) and copyleft (GPL-2/3, GFDL without invariant sections, '
      'CC-BY-SA-3.0 as an alternative). Whether weights trained on copyleft text are a derivative '
      'work is legally unsettled; the weights are distributed, not the text, and the table above '
      'gives the attribution. The synthetic data is ours.')
    w('')

    # ---- tokenizer
    w('## Tokenizer')
    w('')
    bpt = tokrep.get('bytes_per_token', {})
    if bpt:
        w('`starfire tokenizer train`: byte-level BPE with the Qwen2 pre-tokenizer split (single '
          'digits, CJK runs), specials `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`. Compression '
          'on the training text: %s.' % ', '.join(
              '%s %.2f bytes/token' % (k, v['bytes_per_token'])
              for k, v in bpt.items() if isinstance(v, dict) and v.get('tokens')))
        w('')

    # ---- training
    w('## Training')
    w('')
    for title, cfg, st, train, meta in (('Pretraining', pcfg, pst, ptrain, meta_pre),
                                        ('SFT', scfg, sst, strain, meta_sft)):
        if not cfg:
            w('%s: no checkpoint found.' % title)
            w('')
            continue
        tok_step = cfg['batch'] * cfg['seq'] * cfg['accum']
        seen = train[-1]['tokens'] if train else 0
        ntrain = meta.get('splits', {}).get('train', {}).get('tokens')
        loss_tok = meta.get('splits', {}).get('train', {}).get('loss_tokens')
        el = st.get('elapsed_s') if st else None
        tps = [r['tokens_per_s'] for r in train if r.get('tokens_per_s')]
        w('**%s**: %d steps × %s tokens (%d × %d × accum %d) = %s tokens seen%s; AdamW '
          '(β %.2f/%.2f, weight decay %g), peak lr %g, warmup %d, cosine to %g, gradient clip %g, '
          '%s matmuls, %d threads; %s%s.' % (
              title, cfg['steps'], fmt_int(tok_step), cfg['batch'], cfg['seq'], cfg['accum'],
              fmt_int(seen),
              (' (%.2f epochs of %s tokens%s)' % (seen / ntrain, fmt_int(ntrain),
                                                  ', loss on %s of them' % fmt_int(loss_tok)
                                                  if loss_tok and loss_tok != ntrain else '')
               if ntrain else ''),
              cfg['beta1'], cfg['beta2'], cfg['wd'], cfg['lr'], cfg['warmup'], cfg['min_lr'],
              cfg['clip'], cfg['precision'], cfg['threads'],
              ('%.1f min of training' % (el / 60)) if el else 'time unknown',
              (', median %s tokens/s' % fmt_int(sorted(tps)[len(tps) // 2])) if tps else ''))
        w('')
    if ptrain or strain:
        w('| run | first train loss | last train loss (mean of last 20 steps) | last validation '
          'loss | validation perplexity |')
        w('|---|---:|---:|---:|---:|')
        for title, train, evals in (('pretraining', ptrain, peval), ('SFT', strain, seval)):
            if not train:
                continue
            last = train[-20:]
            ve = evals[-1] if evals else {}
            w('| %s | %.3f | %.3f | %s | %s |' % (
                title, train[0]['loss'], sum(r['loss'] for r in last) / len(last),
                '%.3f' % ve['val_loss'] if ve else '–',
                '%.2f' % math.exp(ve['val_loss']) if ve else '–'))
        w('')
        w('Validation here is the split `starfire data prepare` held out of the training data '
          '(1 % of pretraining documents, 2 % of SFT conversations), evaluated on up to 20 '
          'batches.')
        w('')
    if runs:
        w('![training and validation loss](loss.svg)')
        w('')
    if psamples:
        s = psamples[-1]
        w('Pretraining sample at step %d (greedy, prompt "%s"): `%s`' % (
            s['step'], s.get('prompt', ''), s.get('text', '').replace('`', "'").replace('\n', ' ')))
        w('')

    # ---- evaluation
    w('## Evaluation')
    w('')
    if ev:
        w('`tools/recipe/eval_default.py`: the shipped file in `starfire serve`, its own chat '
          'template, greedy decoding, at most %d new tokens%s.' % (
              ev.get('decoding', {}).get('max_tokens', 0),
              '; **only %d items per set** (quick run)' % ev['limit_per_set']
              if ev.get('limit_per_set') else ''))
        w('')
        desc = {'arith2': 'two-digit +, −, × (last number in the reply)',
                'identity': '"who are you" (mentions Starfire / 星火)',
                'instruct': 'templated instructions (exact answer)',
                'limits': 'declines real-time requests (keyword check, weak)'}
        w('| task | what | English | Chinese | all |')
        w('|---|---|---:|---:|---:|')
        for name, t in ev.get('tasks', {}).items():
            bl = t.get('by_lang', {})
            w('| %s | %s | %s | %s | %s |' % (name, desc.get(name, ''), acc(bl.get('en', {})),
                                             acc(bl.get('zh', {})), acc(t)))
        w('')
        ppl = ev.get('perplexity', {})
        if ppl:
            cmp_ = ev.get('compare', {}).get('perplexity', {})
            w('Perplexity on held-out text (documents of the corpus never trained on, '
              'docs/CORPUS.md "held out"), in windows of %d tokens:' % (
                  next(iter(ppl.values())).get('window', 0)))
            w('')
            w('| language | tokens | perplexity | bits per byte | f16 export (before quantization) |')
            w('|---|---:|---:|---:|---:|')
            for lang in ('zh', 'en'):
                p = ppl.get(lang)
                if not p:
                    continue
                c = cmp_.get(lang)
                w('| %s | %s | %.2f | %.3f | %s |' % (
                    lang, fmt_int(p['scored_tokens']), p['perplexity'], p['bits_per_byte'],
                    '%.2f' % c['perplexity'] if c else '–'))
            w('')
        ex = ev.get('examples', {})
        if ex:
            w('<details><summary>Example answers</summary>')
            w('')
            w('| task | question | expected | reply | ok |')
            w('|---|---|---|---|---|')
            for name, rows_ in ex.items():
                for r in rows_:
                    exp = r['expected'] if isinstance(r['expected'], str) else ' / '.join(r['expected'])
                    cell = lambda s: s.replace('|', '\\|').replace('\n', ' ')[:120]
                    w('| %s | %s | %s | %s | %s |' % (name, cell(r['question']), cell(exp),
                                                     cell(r['reply']), 'yes' if r['correct'] else 'no'))
            w('')
            w('</details>')
            w('')
    else:
        w('No eval.json: run `tools/recipe/eval_default.py`.')
        w('')

    # ---- speed
    w('## Speed and size')
    w('')
    if bench:
        w('`starfire bench` on this machine (%d threads):' % bench[0].get('threads', 0))
        w('')
        w('| test | tokens/s | ± |')
        w('|---|---:|---:|')
        for b in bench:
            w('| %s | %.1f | %.1f |' % (b['test'], b['avg_ts'], b.get('stddev_ts', 0)))
        w('')
    if size is not None:
        w('File size: %s bytes (%s); the issue\'s limit is 40 MB.' % (fmt_int(size), human_bytes(size)))
        w('')

    # ---- transcript
    w('## Chat transcript')
    w('')
    tr = os.path.join(work, 'transcript.md')
    if os.path.exists(tr):
        w(open(tr, encoding='utf-8').read().rstrip())
        w('')
    w('<!-- A transcript of `starfire chat` tried by hand as a new user would, in Chinese and '
      'English, goes here (default sampling settings, the exact command line, unedited). -->')
    w('_Hand-tried transcript: to be added._')
    w('')

    # ---- limitations
    w('## Limitations')
    w('')
    w('- **Tiny by design**: %s parameters trained on about %s tokens on a 2-core CPU. '
      'Expect very little world knowledge, made-up facts, repetition and lost context in '
      'longer conversations (see the transcript above); do not rely on anything it states.' % (
          fmt_m(n_params(pcfg)['total']) if pcfg else '?',
          fmt_int(ptrain[-1]['tokens']) if ptrain else '?'))
    w('- **Narrow data**: the Chinese text is mostly technical manuals (man pages, LibreOffice '
      'help, kernel and Debian docs) and classical poetry; the English side is manuals, the '
      'World English Bible, WordNet glosses and fortunes. Everyday conversation style comes '
      'almost entirely from templated synthetic dialogues, so it answers in a few fixed '
      'patterns and knows its identity and refusals as memorised texts.')
    w('- **Arithmetic and instruction following are unreliable**: see the accuracies above; '
      'a wrong answer reads as confidently as a right one.')
    w('- **Context of %s tokens**: longer conversations do not fit.' % (pcfg['ctx'] if pcfg else '?'))
    w('- No safety tuning beyond a handful of templated refusals; it has no access to time, '
      'weather, news or the web and says so only for phrasings close to its training data.')
    w('- The evaluation sets are small (hundreds of items) and templated; the `limits` check '
      'only looks for refusal keywords.')
    w('')
    with open(out, 'w', encoding='utf-8') as f:
        f.write('\n'.join(L) + '\n')
    print('wrote %s%s' % (out, ' and %s' % os.path.join(work, 'loss.svg') if runs else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
