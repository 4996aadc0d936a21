#!/usr/bin/env python3
"""Build Starfire's bilingual training corpus from Debian packages.

    python3 tools/corpus/build.py [WORKDIR]        (tools/corpus/build.sh wraps it)

Steps: download the packages named in sources.py with `apt-get download`
(pinned to the versions in versions.lock when the archive still has them),
unpack them with `dpkg-deb -x`, check each package's licence, extract plain
text, filter and de-duplicate it, cap English to the chosen mix, split a
held-out validation set by document, generate the synthetic data (synth.py)
and write manifest.json and SOURCES.md.  Standard library only.

Output (under WORKDIR):
  pretrain/{zh,en,bi,synth}/<source>.txt   training text
  pretrain/val/{zh,en}/<source>.txt        held-out documents
  lexicon/*.tsv                            word lists (for tokenizer work)
  sft/train.jsonl, sft/val.jsonl           chat-format supervised data
  eval/*.jsonl                             evaluation items with answers
  manifest.json, SOURCES.md, build.log
File format of every .txt: documents are separated by a line that is exactly
'<|endoftext|>' (the convention `starfire data prepare` splits at); inside a
document, paragraphs are separated by single newlines (no blank lines).
"""

import argparse
import glob
import hashlib
import json
import multiprocessing
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import clean                      # noqa: E402
import extract                    # noqa: E402
import synth                      # noqa: E402
from sources import SOURCES, packages  # noqa: E402

LOCK_FILE = os.path.join(HERE, 'versions.lock')
DEFAULT_MIX = 'zh=40,en=48,bi=6,synth=6'
VAL_PER_MILLE = 15          # share of documents held out for validation
LOG = []


def log(msg):
    line = '[%7.1fs] %s' % (time.time() - T0, msg)
    LOG.append(line)
    print(line, flush=True)


T0 = time.time()


# ==========================================================================
# packages

def read_lock():
    pins = {}
    if os.path.exists(LOCK_FILE):
        for ln in open(LOCK_FILE, encoding='utf-8'):
            ln = ln.split('#', 1)[0].strip()
            if ln:
                name, ver = ln.split()
                pins[name] = ver
    return pins


def deb_field(deb, field):
    return subprocess.run(['dpkg-deb', '-f', deb, field], check=True,
                          capture_output=True, text=True).stdout.strip()


def fetch_packages(work, names, offline):
    """Download (or reuse) each package's .deb; unpack it.  Returns
    {name: {'version','section','deb','root','pinned','sha256'}}."""
    debdir = os.path.join(work, 'cache', 'debs')
    rootdir = os.path.join(work, 'cache', 'root')
    os.makedirs(debdir, exist_ok=True)
    os.makedirs(rootdir, exist_ok=True)
    pins = read_lock()
    info = {}
    for name in names:
        pin = pins.get(name)
        have = sorted(glob.glob(os.path.join(debdir, name + '_*.deb')))
        deb = None
        for h in have:
            if pin is None or deb_field(h, 'Version') == pin:
                deb = h
        if deb is None and not offline:
            # the pinned version first, the current candidate if it is gone
            tries = ([name + '=' + pin] if pin else []) + [name]
            for t in tries:
                r = subprocess.run(['apt-get', 'download', '-q', t], cwd=debdir,
                                   capture_output=True, text=True)
                if r.returncode == 0:
                    break
                log('apt-get download %s failed: %s' % (t, r.stderr.strip().splitlines()[-1:]))
            have = sorted(glob.glob(os.path.join(debdir, name + '_*.deb')))
            for h in have:
                if pin is None or deb_field(h, 'Version') == pin:
                    deb = h
            if deb is None and have:
                deb = have[-1]
        if deb is None:
            log('package %s: not available, its sources are skipped' % name)
            continue
        version = deb_field(deb, 'Version')
        section = deb_field(deb, 'Section')
        root = os.path.join(rootdir, name)
        stamp = os.path.join(root, '.unpacked-version')
        if not (os.path.exists(stamp) and open(stamp).read() == version):
            subprocess.run(['rm', '-rf', root], check=True)
            os.makedirs(root)
            subprocess.run(['dpkg-deb', '-x', deb, root], check=True)
            with open(stamp, 'w') as f:
                f.write(version)
        with open(deb, 'rb') as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        info[name] = dict(version=version, section=section, deb=os.path.basename(deb),
                          root=root, pinned=(pin == version) if pin else None,
                          lock_version=pin, deb_sha256=sha)
        if pin and pin != version:
            log('package %s: locked version %s unavailable, using %s' % (name, pin, version))
    return info


def copyright_text(info, pkg):
    root = info[pkg]['root']
    path = os.path.join(root, 'usr/share/doc', pkg, 'copyright')
    if os.path.islink(os.path.join(root, 'usr/share/doc', pkg)):
        target = os.readlink(os.path.join(root, 'usr/share/doc', pkg))
        other = os.path.basename(target)
        if other in info:
            path = os.path.join(info[other]['root'], 'usr/share/doc', other, 'copyright')
    if not os.path.exists(path):
        return None
    return open(path, encoding='utf-8', errors='replace').read()


def check_licence(src, info):
    """(ok, reason, licence_fields) for one source."""
    pkg = src['package']
    if pkg not in info:
        return False, 'package not downloaded', []
    sec = info[pkg]['section']
    if sec.startswith(('non-free', 'contrib', 'restricted', 'multiverse')):
        return False, 'archive area %s is not main' % sec, []
    cpkg = src.get('copyright_pkg') or pkg
    if cpkg not in info:
        return False, 'copyright package %s not downloaded' % cpkg, []
    text = copyright_text(info, cpkg)
    if text is None:
        return False, 'no copyright file', []
    # short licence names of DEP-5 copyright files ("License: GPL-2+"); the
    # first lines of free-text licences are not names and are left out
    fields = sorted(set(m.strip() for m in re.findall(r'^License:[ \t]*(\S.*)$', text, re.M)
                        if re.fullmatch(r'[A-Za-z0-9.+_-]+(( or | and |, |, and |, or )[A-Za-z0-9.+_-]+)*,?', m.strip())))
    missing = [c for c in src['licence_check'] if c not in text]
    if missing:
        return False, 'copyright file no longer names %s: review it' % missing, fields
    return True, '', fields


# ==========================================================================
# readers: (src, root) -> list of (docid, raw_doc)

def _files(src, root):
    out = []
    for g in src['globs']:
        out.extend(glob.glob(os.path.join(root, g), recursive=True))
    out = sorted(set(p for p in out if os.path.isfile(p) or os.path.isdir(p)))
    # a symlink to a file we already read is a duplicate
    real = {}
    for p in out:
        real.setdefault(os.path.realpath(p), p)
    return sorted(real.values())


def _rel(p, root):
    return os.path.relpath(p, root)


def read_html(src, root):
    docs = []
    for p in _files(src, root):
        base = os.path.basename(p)
        if base.startswith(('genindex', 'search', 'py-modindex')):
            continue
        for i, d in enumerate(extract.html_docs(extract.read_text(p), src.get('split', 2))):
            docs.append(('%s#%d' % (_rel(p, root), i), d))
    return docs


def read_man(src, root):
    docs = []
    for p in _files(src, root):
        if os.path.islink(p):
            continue
        txt = extract.read_text(p)
        if re.match(r'\.so\s', txt):      # a link page
            continue
        for i, d in enumerate(extract.man_docs(txt)):
            docs.append(('%s#%d' % (_rel(p, root), i), d))
    return docs


def read_rst(src, root):
    docs = []
    for p in _files(src, root):
        for i, d in enumerate(extract.rst_docs(extract.read_text(p))):
            docs.append(('%s#%d' % (_rel(p, root), i), d))
    return docs


def read_pod(src, root):
    docs = []
    for p in _files(src, root):
        for i, d in enumerate(extract.pod_docs(extract.read_text(p))):
            docs.append(('%s#%d' % (_rel(p, root), i), d))
    return docs


def read_fortune_zh(src, root):
    docs = []
    for p in _files(src, root):
        for i, e in enumerate(extract.fortune_entries(extract.read_text(p))):
            # the 'chinese' file quotes pieces of the Debian Reference and its
            # reference card; those come whole from debian-reference-zh-cn
            if re.search(r'Debian 参考|参考卡片|Osamu Aoki', e):
                continue
            for d in extract.zh_poem_doc(e):
                docs.append(('%s#%d' % (_rel(p, root), i), d))
    return docs


def read_fortune_en(src, root, per_doc=20):
    docs = []
    for p in _files(src, root):
        ents = [extract.en_fortune_paragraph(e)
                for e in extract.fortune_entries(extract.read_text(p))]
        for i in range(0, len(ents), per_doc):
            docs.append(('%s#%d' % (_rel(p, root), i // per_doc),
                         [('p', t) for t in ents[i:i + per_doc]]))
    return docs


def read_sword(src, root):
    docs = []
    for p in _files(src, root):
        for i, d in enumerate(extract.sword_ztext_docs(p)):
            docs.append(('%s#%d' % (_rel(p, root), i), d))
    return docs


def read_wordnet(src, root, per_doc=40):
    docs = []
    for p in _files(src, root):
        pos = {'noun': 'noun', 'verb': 'verb', 'adj': 'adjective', 'adv': 'adverb'}[p.rsplit('.', 1)[1]]
        paras = []
        for words, posn, gloss in extract.wordnet_glosses(p, pos):
            gloss = gloss.replace('; "', '. Example: "', 1)
            paras.append('%s (%s): %s' % (', '.join(words[:4]), posn, gloss))
        for i in range(0, len(paras), per_doc):
            docs.append(('%s#%d' % (_rel(p, root), i // per_doc),
                         [('p', t) for t in paras[i:i + per_doc]]))
    return docs


def read_unihan(src, root, per_doc=50):
    files = _files(src, root)
    fields = {}
    for p in files:
        for ch, f in extract.unihan_fields(p, {'kDefinition', 'kMandarin', 'kGB0'}).items():
            fields.setdefault(ch, {}).update(f)
    paras = []
    for ch in sorted(fields):
        f = fields[ch]
        if 'kGB0' not in f or 'kDefinition' not in f:
            continue          # only the 6,763 characters of GB 2312
        py = f.get('kMandarin', '').split()
        py = ('（' + '、'.join(py) + '）') if py else ''
        paras.append('%s%s：%s' % (ch, py, f['kDefinition']))
    return [('unihan#%d' % (i // per_doc), [('p', t) for t in paras[i:i + per_doc]])
            for i in range(0, len(paras), per_doc)]


def ui_glossary_pairs(src, root):
    """(English, Chinese) UI string pairs from LibreOffice's .mo files."""
    pairs = []
    seen = set()
    for p in _files(src, root):
        for _ctx, en, zh in extract.mo_pairs(p):
            en_c = extract.clean_ui_string(en)
            zh_c = extract.clean_ui_string(zh, zh=True)
            if not en_c or not zh_c or en_c == zh_c:
                continue
            if '\n' in en or len(en_c) > 160 or not re.search('[A-Za-z]{2}', en_c):
                continue
            if clean.cjk_count(zh_c) == 0 or re.search(r'%[0-9a-z]|\$\(|<[a-z/]|\{', en_c):
                continue
            key = (en_c, zh_c)
            if key in seen:
                continue
            seen.add(key)
            pairs.append(key)
    return pairs


def read_mo(src, root, per_doc=50):
    pairs = ui_glossary_pairs(src, root)
    paras = ['%s：%s' % (en, zh) for en, zh in pairs]
    return [('ui#%d' % (i // per_doc), [('p', t) for t in paras[i:i + per_doc]])
            for i in range(0, len(paras), per_doc)]


def parallel_pairs(src, root, root2):
    """Aligned (English, Chinese) paragraph pairs from the two LibreOffice
    help packages, page by page: [(page, [(en, zh), ...]), ...]."""
    out = []
    zh_base = os.path.join(root, 'usr/share/libreoffice/help/zh-CN')
    en_base = os.path.join(root2, 'usr/share/libreoffice/help/en-US')
    for p in _files(src, root):
        rel = os.path.relpath(p, zh_base)
        q = os.path.join(en_base, rel)
        if not os.path.exists(q):
            continue
        pairs = []
        for en, zh in extract.lo_help_pairs(extract.read_text(p), extract.read_text(q)):
            if len(en) > 400 or len(zh) > 400 or len(en.split()) < 2:
                continue
            if clean.cjk_count(zh) < 2 or clean.cjk_count(en) or clean.letters_ratio(en) < 0.7:
                continue
            if clean.symbol_ratio(en) > 0.08 or clean.symbol_ratio(zh) > 0.08:
                continue
            pairs.append((en, zh))
        if pairs:
            out.append((rel, pairs))
    return out


def read_lo_parallel(src, root, root2):
    return [(rel, [('pair', pr) for pr in pairs]) for rel, pairs in parallel_pairs(src, root, root2)]


READERS = {'html': read_html, 'man': read_man, 'rst': read_rst, 'pod': read_pod,
           'fortune_zh': read_fortune_zh, 'fortune_en': read_fortune_en,
           'sword': read_sword, 'wordnet': read_wordnet, 'unihan': read_unihan,
           'mo': read_mo, 'lo_parallel': read_lo_parallel}


def _read_source(args):
    src, roots = args
    t = time.time()
    docs = READERS[src['reader']](src, *roots)
    return docs, time.time() - t


# ==========================================================================
# lexicons

def write_lexicons(work, srcs, info, files):
    os.makedirs(os.path.join(work, 'lexicon'), exist_ok=True)
    stats = {}
    for src in srcs:
        root = info[src['package']]['root']
        rows = []
        for p in _files(src, root):
            for ln in extract.read_text(p).split('\n'):
                ln = clean.normalize_line(ln)
                if not ln or ln.startswith('#'):
                    continue
                parts = ln.split(' ')
                word = parts[0]
                if clean.cjk_count(word) == 0:
                    continue
                freq = parts[1] if len(parts) > 1 and parts[1].isdigit() else ''
                rows.append('%s\t%s' % (word, freq))
        path = os.path.join(work, 'lexicon', src['name'] + '.tsv')
        write_text(path, 'word\tcount\n' + '\n'.join(rows) + '\n', files)
        stats[src['name']] = dict(entries=len(rows))
    return stats


# ==========================================================================
# output helpers

def write_text(path, text, files):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = text.encode('utf-8')
    with open(path, 'wb') as f:
        f.write(data)
    files[path] = data


DOC_SEP = '\n<|endoftext|>\n'


def docs_to_text(docs):
    """Documents separated by a line '<|endoftext|>' (what `starfire data
    prepare` splits .txt files at); paragraphs by single newlines."""
    if not docs:
        return ''
    return DOC_SEP.join('\n'.join(d) for d in docs) + '\n'


def measure(docs):
    """bytes: of the written file; CJK chars and tokens: of the text alone
    (separator lines not counted)."""
    text = docs_to_text(docs)
    body = '\n'.join('\n'.join(d) for d in docs)
    return dict(docs=len(docs), bytes=len(text.encode('utf-8')),
                cjk_chars=clean.cjk_count(body), est_tokens=int(round(clean.est_tokens(body))))


def water_fill(sizes, weights, budget):
    """Per-source budgets: weighted shares, a source smaller than its share
    is taken whole and the rest is shared again among the others."""
    alloc = {}
    active = [k for k in sizes if sizes[k] > 0]
    rem = budget
    while active:
        tw = sum(weights[k] for k in active)
        small = [k for k in active if sizes[k] <= rem * weights[k] / tw]
        if not small:
            for k in active:
                alloc[k] = rem * weights[k] / tw
            break
        for k in small:
            alloc[k] = sizes[k]
            rem -= sizes[k]
            active.remove(k)
    for k in sizes:
        alloc.setdefault(k, 0)
    return alloc


def select_docs(docs, budget):
    """Deterministic pseudo-random subset of docs (by content hash) whose
    estimated tokens add up to about budget; original order is kept."""
    order = sorted(range(len(docs)), key=lambda i: hashlib.sha256(
        '\n'.join(docs[i]).encode('utf-8')).hexdigest())
    chosen = set()
    total = 0.0
    for i in order:
        if total >= budget:
            break
        chosen.add(i)
        total += clean.est_tokens('\n'.join(docs[i]))
    return [d for i, d in enumerate(docs) if i in chosen]


def is_val(doc):
    h = hashlib.sha256(('val:' + '\n'.join(doc)).encode('utf-8')).hexdigest()
    return int(h[:8], 16) % 1000 < VAL_PER_MILLE


# ==========================================================================
# main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('work', nargs='?', default='corpus-work')
    ap.add_argument('--mix', default=DEFAULT_MIX,
                    help='target shares by estimated tokens (default %s)' % DEFAULT_MIX)
    ap.add_argument('--offline', action='store_true', help='use only .debs already in WORK/cache')
    ap.add_argument('--jobs', type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument('--seed', type=int, default=1234, help='seed of the synthetic training data')
    ap.add_argument('--eval-seed', type=int, default=98765, help='seed of the evaluation data')
    ap.add_argument('--write-lock', action='store_true',
                    help='rewrite tools/corpus/versions.lock with the versions used')
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    mix = {k: float(v) for k, v in (kv.split('=') for kv in args.mix.split(','))}
    os.makedirs(work, exist_ok=True)
    # a work dir inside a git checkout ignores itself, so it is never committed
    with open(os.path.join(work, '.gitignore'), 'w') as f:
        f.write('*\n')
    for sub in ('pretrain', 'sft', 'eval', 'lexicon'):
        subprocess.run(['rm', '-rf', os.path.join(work, sub)], check=True)

    log('work dir %s' % work)
    info = fetch_packages(work, packages(), args.offline)
    log('%d packages ready' % len(info))

    # licence checks
    used, excluded = [], []
    for src in SOURCES:
        ok, why, fields = check_licence(src, info)
        src['licence_fields'] = fields
        if ok:
            used.append(src)
        else:
            excluded.append(dict(name=src['name'], package=src['package'], reason=why))
            log('EXCLUDED %s: %s' % (src['name'], why))

    files = {}
    text_srcs = [s for s in used if s['lang'] in ('zh', 'en', 'bi')
                 and all(p in info for p in (s['package'], s.get('package2')) if p)]
    lex_srcs = [s for s in used if s['lang'] == 'lex']

    # extraction (parallel), then cleaning and de-duplication (in order)
    jobs = [(s, [info[p]['root'] for p in (s['package'], s.get('package2')) if p])
            for s in text_srcs]
    if args.jobs > 1:
        with multiprocessing.Pool(args.jobs) as pool:
            raw = pool.map(_read_source, jobs, chunksize=1)
    else:
        raw = [_read_source(j) for j in jobs]
    deduper = clean.Deduper()
    cleaned = {}
    stats = {}
    for src, (docs, secs) in zip(text_srcs, raw):
        lang = src['lang']
        out = []
        before = deduper.dropped
        for _docid, d in docs:
            if src['reader'] == 'lo_parallel':
                kept = clean.clean_parallel(d, deduper)
            elif lang == 'bi':
                kept = clean.clean_glossary(d, deduper)
            elif src['reader'] in ('wordnet', 'fortune_en'):
                kept = clean.clean_document(d, lang, deduper, min_chars=100)
            elif src['reader'] == 'fortune_zh':
                kept = clean.clean_document(d, lang, deduper, min_cjk=10)
            else:
                kept = clean.clean_document(d, lang, deduper)
            if kept:
                out.append(kept)
        cleaned[src['name']] = out
        stats[src['name']] = dict(raw_docs=len(docs), kept_docs=len(out),
                                  dup_paragraphs_dropped=deduper.dropped - before)
        m = measure(out)
        log('%-26s %-3s raw docs %6d kept %6d  %9d bytes  %8d CJK  ~%8d tok  (%.1fs)' % (
            src['name'], lang, len(docs), len(out), m['bytes'], m['cjk_chars'], m['est_tokens'], secs))

    # language mix: all Chinese is kept; the others are sized against it
    zh_tok = sum(measure(cleaned[s['name']])['est_tokens'] for s in text_srcs if s['lang'] == 'zh')
    budgets = {k: zh_tok * mix[k] / mix['zh'] for k in mix}
    selected = {}
    for lang in ('en', 'bi'):
        ls = [s for s in text_srcs if s['lang'] == lang]
        sizes = {s['name']: measure(cleaned[s['name']])['est_tokens'] for s in ls}
        weights = {s['name']: s.get('weight', 1.0) for s in ls}
        alloc = water_fill(sizes, weights, budgets[lang])
        for s in ls:
            selected[s['name']] = select_docs(cleaned[s['name']], alloc[s['name']])
    for s in text_srcs:
        if s['lang'] == 'zh':
            selected[s['name']] = cleaned[s['name']]

    # validation split by document, then write
    per_source = {}
    for s in text_srcs:
        docs = selected[s['name']]
        if s['lang'] in ('zh', 'en'):
            val = [d for d in docs if is_val(d)]
            train = [d for d in docs if not is_val(d)]
        else:
            val, train = [], docs
        write_text(os.path.join(work, 'pretrain', s['lang'], s['name'] + '.txt'),
                   docs_to_text(train), files)
        if val:
            write_text(os.path.join(work, 'pretrain', 'val', s['lang'], s['name'] + '.txt'),
                       docs_to_text(val), files)
        available = measure(cleaned[s['name']])
        per_source[s['name']] = dict(
            package=s['package'], version=info[s['package']]['version'],
            lang=s['lang'], licence=s['licence'], licence_fields=s['licence_fields'],
            train=measure(train), val=measure(val),
            available_after_cleaning=available, **stats[s['name']])

    # synthetic data
    glossary, parallel = [], []
    for s in text_srcs:
        if s['reader'] == 'mo':
            glossary = ui_glossary_pairs(s, info[s['package']]['root'])
    for name, docs in cleaned.items():
        src = next(x for x in text_srcs if x['name'] == name)
        if src['reader'] == 'lo_parallel':
            for d in docs:
                parallel.extend((d[i], d[i + 1]) for i in range(0, len(d) - 1, 2))
    synth_stats = synth.write_all(work, seed=args.seed, eval_seed=args.eval_seed,
                                  pretrain_tokens=budgets['synth'], glossary=glossary,
                                  parallel=parallel,
                                  files=files, log=log)

    lex_stats = write_lexicons(work, lex_srcs, info, files)

    # totals
    totals = {}
    for lang in ('zh', 'en', 'bi'):
        ms = [per_source[s['name']]['train'] for s in text_srcs if s['lang'] == lang]
        totals[lang] = {k: sum(m[k] for m in ms) for k in ('docs', 'bytes', 'cjk_chars', 'est_tokens')}
    totals['synth'] = dict(synth_stats['pretrain'])
    grand = sum(totals[k]['est_tokens'] for k in totals)
    gbytes = sum(totals[k]['bytes'] for k in totals)
    for k in totals:
        totals[k]['share_of_tokens'] = round(totals[k]['est_tokens'] / grand, 4) if grand else 0
        totals[k]['share_of_bytes'] = round(totals[k]['bytes'] / gbytes, 4) if gbytes else 0
    val_tot = {}
    for lang in ('zh', 'en'):
        ms = [per_source[s['name']]['val'] for s in text_srcs if s['lang'] == lang]
        val_tot[lang] = {k: sum(m[k] for m in ms) for k in ('docs', 'bytes', 'cjk_chars', 'est_tokens')}

    pkgs = {}
    for name, d in sorted(info.items()):
        pkgs[name] = {k: d[k] for k in ('version', 'section', 'deb', 'deb_sha256', 'lock_version')}
    manifest = dict(
        format='documents separated by a line <|endoftext|>; paragraphs inside a document by single newlines',
        token_estimate='one per Han character + one per 4 other characters',
        mix_target=mix, mix_actual={k: totals[k]['share_of_tokens'] for k in totals},
        val_per_mille=VAL_PER_MILLE, seeds=dict(train=args.seed, eval=args.eval_seed),
        packages=pkgs, sources=per_source, excluded=excluded,
        totals_train=totals, totals_val=val_tot, synthetic=synth_stats,
        lexicons=lex_stats,
        outputs={os.path.relpath(p, work): dict(bytes=len(b), sha256=hashlib.sha256(b).hexdigest())
                 for p, b in sorted(files.items())})
    mtext = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + '\n'
    with open(os.path.join(work, 'manifest.json'), 'w', encoding='utf-8') as f:
        f.write(mtext)
    with open(os.path.join(work, 'SOURCES.md'), 'w', encoding='utf-8') as f:
        f.write(sources_md(manifest))
    if args.write_lock:
        with open(LOCK_FILE, 'w', encoding='utf-8') as f:
            f.write('# package version -- written by build.py --write-lock\n')
            for name, d in sorted(info.items()):
                f.write('%s %s\n' % (name, d['version']))
    log('total train: ~%d tokens, %d bytes; mix %s' % (
        grand, gbytes, ', '.join('%s %.1f%%' % (k, 100 * totals[k]['share_of_tokens']) for k in totals)))
    log('done')
    with open(os.path.join(work, 'build.log'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(LOG) + '\n')


def sources_md(m):
    L = ['# Corpus sources (generated by tools/corpus/build.py)', '',
         'Every package is from Debian main.  Sizes are of the training split after '
         'cleaning, de-duplication and the English cap; tokens are estimated '
         '(one per Han character, one per four other characters).', '',
         '| source | package | version | licence | lang | docs | bytes | CJK chars | ~tokens | val docs |',
         '|---|---|---|---|---|---:|---:|---:|---:|---:|']
    for name, s in m['sources'].items():
        L.append('| %s | %s | %s | %s | %s | %d | %d | %d | %d | %d |' % (
            name, s['package'], s['version'], s['licence'], s['lang'], s['train']['docs'],
            s['train']['bytes'], s['train']['cjk_chars'], s['train']['est_tokens'], s['val']['docs']))
    syn = m['totals_train']['synth']
    L.append('| synthetic (synth.py) | - | - | generated by Starfire | synth | %d | %d | %d | %d | 0 |' % (
        syn['docs'], syn['bytes'], syn['cjk_chars'], syn['est_tokens']))
    L += ['', '## Totals (training split)', '',
          '| part | docs | bytes | CJK chars | ~tokens | share of tokens | share of bytes |',
          '|---|---:|---:|---:|---:|---:|---:|']
    for k, t in m['totals_train'].items():
        L.append('| %s | %d | %d | %d | %d | %.1f%% | %.1f%% |' % (
            k, t['docs'], t['bytes'], t['cjk_chars'], t['est_tokens'],
            100 * t['share_of_tokens'], 100 * t['share_of_bytes']))
    L += ['', 'Held-out validation: ' + ', '.join(
        '%s %d docs / %d bytes' % (k, v['docs'], v['bytes']) for k, v in m['totals_val'].items()), '']
    if m['excluded']:
        L += ['## Excluded', '']
        for e in m['excluded']:
            L.append('- %s (%s): %s' % (e['name'], e['package'], e['reason']))
        L.append('')
    L += ['## Available but capped (English, bilingual)', '',
          '| source | after cleaning ~tokens | used ~tokens |', '|---|---:|---:|']
    for name, s in m['sources'].items():
        if s['lang'] in ('en', 'bi'):
            L.append('| %s | %d | %d |' % (name, s['available_after_cleaning']['est_tokens'],
                                          s['train']['est_tokens'] + s['val']['est_tokens']))
    L += ['', '## Licence fields found in each copyright file', '']
    for name, s in m['sources'].items():
        L.append('- %s: %s' % (name, ', '.join(s['licence_fields']) or '(no machine-readable License: fields)'))
    L.append('')
    return '\n'.join(L)


if __name__ == '__main__':
    main()
