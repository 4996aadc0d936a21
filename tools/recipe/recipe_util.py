#!/usr/bin/env python3
"""Small helpers of tools/recipe/default_model.sh (standard library only).

    recipe_util.py check-corpus CORPUS_DIR
        exit 0 when CORPUS_DIR is a complete tools/corpus build with the
        pinned inputs (reuse it), 1 when it must be (re)built.
    recipe_util.py sample CORPUS_DIR OUT_DIR [--bytes-per-file N] [--sft N]
        a toy corpus for --quick: the first documents of every training
        text file (about N bytes each), the first N SFT conversations, and
        the held-out and eval files as they are.
    recipe_util.py plan --tok-s X --budget-s S --tokens-per-step N
        optimizer steps that fit a time budget at a measured speed.
    recipe_util.py transcript --starfire BIN --model GGUF --out FILE.md [-t N]
        a greedy `starfire chat` session per language with a few first
        questions a new user might ask, written as Markdown.

"Matching" corpus means: manifest.json exists; every output it lists exists
with the recorded size and sha256; the build used the default seeds and mix;
and every package was built against the version tools/corpus/versions.lock
pins now.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LOCK = os.path.join(HERE, '..', 'corpus', 'versions.lock')
DEFAULT_SEEDS = {'train': 1234, 'eval': 98765}
DEFAULT_MIX = {'zh': 40.0, 'en': 48.0, 'bi': 6.0, 'synth': 6.0}
SEP = '<|endoftext|>'


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def corpus_mismatch(work):
    """None when `work` matches its manifest, else why not."""
    path = os.path.join(work, 'manifest.json')
    if not os.path.exists(path):
        return 'no manifest.json'
    try:
        m = json.load(open(path, encoding='utf-8'))
    except ValueError as e:
        return 'manifest.json does not parse: %s' % e
    if m.get('seeds') != DEFAULT_SEEDS:
        return 'seeds %s differ from the defaults %s' % (m.get('seeds'), DEFAULT_SEEDS)
    if {k: float(v) for k, v in m.get('mix_target', {}).items()} != DEFAULT_MIX:
        return 'mix %s differs from the default %s' % (m.get('mix_target'), DEFAULT_MIX)
    pins = {}
    if os.path.exists(LOCK):
        for ln in open(LOCK, encoding='utf-8'):
            ln = ln.split('#', 1)[0].strip()
            if ln:
                name, ver = ln.split()
                pins[name] = ver
    for name, p in m.get('packages', {}).items():
        if name in pins and p.get('lock_version') != pins[name]:
            return 'package %s was built against %s, versions.lock now pins %s' % (
                name, p.get('lock_version'), pins[name])
    outputs = m.get('outputs', {})
    for rel in ('pretrain/synth/synth.txt', 'sft/train.jsonl', 'eval/arith2.jsonl'):
        if rel not in outputs:
            return 'the manifest lacks %s' % rel
    for rel, o in sorted(outputs.items()):
        f = os.path.join(work, rel)
        if not os.path.exists(f):
            return 'missing %s' % rel
        if os.path.getsize(f) != o['bytes'] or sha256(f) != o['sha256']:
            return '%s differs from the manifest (size or sha256)' % rel
    return None


def cmd_check_corpus(a):
    why = corpus_mismatch(a.corpus)
    if why:
        print('corpus in %s does not match: %s' % (a.corpus, why))
        return 1
    print('corpus in %s matches its manifest (every output verified)' % a.corpus)
    return 0


def first_docs(path, limit):
    """The leading documents of a corpus .txt file, about `limit` bytes."""
    out, size = [], 0
    doc = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.rstrip('\n') == SEP:
                if doc:
                    text = ''.join(doc)
                    out.append(text)
                    size += len(text.encode('utf-8'))
                    doc = []
                if size >= limit:
                    break
            else:
                doc.append(line)
    if doc and size < limit:
        out.append(''.join(doc))
    return (SEP + '\n').join(out)


def cmd_sample(a):
    src, dst = a.corpus, a.out
    if os.path.exists(dst):
        shutil.rmtree(dst)
    n_files = 0
    for part in ('zh', 'en', 'bi', 'synth'):
        d = os.path.join(src, 'pretrain', part)
        os.makedirs(os.path.join(dst, 'pretrain', part))
        for name in sorted(os.listdir(d)):
            if name.endswith('.txt'):
                # synthetic Q/A carries the skills the eval asks for: more of it
                limit = a.bytes_per_file * (4 if part == 'synth' else 1)
                text = first_docs(os.path.join(d, name), limit)
                with open(os.path.join(dst, 'pretrain', part, name), 'w', encoding='utf-8') as f:
                    f.write(text)
                n_files += 1
    os.makedirs(os.path.join(dst, 'sft'))
    with open(os.path.join(src, 'sft', 'train.jsonl'), encoding='utf-8') as f, \
            open(os.path.join(dst, 'sft', 'train.jsonl'), 'w', encoding='utf-8') as g:
        for i, line in enumerate(f):
            if i >= a.sft:
                break
            g.write(line)
    # Held-out text, eval sets and the manifest unchanged (the eval and the
    # model card read them).
    for rel in ('pretrain/val', 'eval'):
        shutil.copytree(os.path.join(src, rel), os.path.join(dst, rel))
    for rel in ('manifest.json', 'SOURCES.md'):
        if os.path.exists(os.path.join(src, rel)):
            shutil.copy(os.path.join(src, rel), os.path.join(dst, rel))
    print('sample: %d text files (<= ~%d bytes each), %d SFT conversations -> %s' % (
        n_files, a.bytes_per_file, a.sft, dst))
    return 0


def cmd_plan(a):
    steps = int(a.tok_s * a.budget_s / a.tokens_per_step)
    print(steps)
    return 0


TRANSCRIPT_QUESTIONS = {
    'zh': ['你好！你是谁？', '你能做什么？', '12 加 7 等于多少？', '请把“早上好”翻译成英文。',
           '明天北京会下雨吗？'],
    'en': ['Hello! Who are you?', 'What can you do?', 'What is 23 + 45?',
           'Translate "good morning" into Chinese.', 'What is the weather in London today?'],
}


def cmd_transcript(a):
    import subprocess
    per = a.per_session or 1000
    parts = ['Greedy decoding (`starfire chat --temp 0 -n %d`), %s, recorded by the recipe.\n' % (
        a.n_predict, 'one session per language' if per >= 1000 else
        'a new session every %d question(s) (short context)' % per)]
    for lang, qs in TRANSCRIPT_QUESTIONS.items():
        parts.append('```text')
        for i in range(0, len(qs), per):
            chunk = qs[i:i + per]
            r = subprocess.run([a.starfire, 'chat', '-m', a.model, '--temp', '0',
                                '-n', str(a.n_predict), '-t', str(a.threads)],
                               input='\n'.join(chunk + ['/exit']) + '\n',
                               capture_output=True, text=True)
            # stdout: "> " at the start of a line before each question is
            # read, the question echoed (stdin is not a terminal), then the reply.
            replies = re.split(r'(?:^|\n)> ', r.stdout)[1:1 + len(chunk)]
            for k, q in enumerate(chunk):
                parts.append('> ' + q)
                reply = replies[k] if k < len(replies) else None
                if reply is not None and reply.startswith(q + '\n'):
                    reply = reply[len(q) + 1:]
                parts.append(reply.strip() if reply is not None else
                             '[no reply: %s]' % r.stderr.strip().splitlines()[-1])
                parts.append('')
            if i + per < len(qs):
                parts.append('/reset')
                parts.append('')
        parts.append('```')
    with open(a.out, 'w', encoding='utf-8') as f:
        f.write('\n'.join(parts) + '\n')
    print(open(a.out, encoding='utf-8').read())
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('check-corpus')
    p.add_argument('corpus')
    p.set_defaults(fn=cmd_check_corpus)
    p = sub.add_parser('sample')
    p.add_argument('corpus')
    p.add_argument('out')
    p.add_argument('--bytes-per-file', type=int, default=60000)
    p.add_argument('--sft', type=int, default=3000)
    p.set_defaults(fn=cmd_sample)
    p = sub.add_parser('plan')
    p.add_argument('--tok-s', type=float, required=True)
    p.add_argument('--budget-s', type=float, required=True)
    p.add_argument('--tokens-per-step', type=int, required=True)
    p.set_defaults(fn=cmd_plan)
    p = sub.add_parser('transcript')
    p.add_argument('--starfire', required=True)
    p.add_argument('--model', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('-t', '--threads', type=int, default=2)
    p.add_argument('-n', '--n-predict', type=int, default=64)
    p.add_argument('--per-session', type=int, default=0,
                   help='questions per chat session (0: all of a language in one)')
    p.set_defaults(fn=cmd_transcript)
    a = ap.parse_args()
    return a.fn(a)


if __name__ == '__main__':
    sys.exit(main())
