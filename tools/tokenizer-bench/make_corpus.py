#!/usr/bin/env python3
"""Builds a mixed Chinese / English / code text for tokenizer benchmarks.

The text is assembled from files found on a Debian system (gettext catalogs
translated to Simplified Chinese, Vim's English user manual, Python and C++
sources), cut into ~2 KB chunks and interleaved, so every part of the file
mixes the three kinds of text. The result is deterministic for a given system.

usage: make_corpus.py OUT [--size BYTES]
"""
import argparse
import glob
import gettext
import os
import sys


def chinese_texts():
    out = []
    for path in sorted(glob.glob("/usr/share/locale/zh_CN/LC_MESSAGES/*.mo")):
        try:
            with open(path, "rb") as f:
                cat = gettext.GNUTranslations(f)
        except Exception:
            continue
        for k, v in sorted(cat._catalog.items(), key=lambda kv: str(kv[0])):
            if isinstance(v, str) and v.strip() and any("\u4e00" <= ch <= "\u9fff" for ch in v):
                out.append(v.strip())
    for path in ["/usr/lib/systemd/catalog/systemd.zh_CN.catalog", "/usr/share/gnupg/help.zh_CN.txt"]:
        if os.path.exists(path):
            out.append(open(path, encoding="utf-8", errors="replace").read())
    return "\n".join(out)


def english_texts():
    files = sorted(glob.glob("/usr/share/vim/vim*/doc/usr_*.txt"))
    return "\n".join(open(p, encoding="utf-8", errors="replace").read() for p in files)


def code_texts():
    files = sorted(glob.glob("/usr/lib/python3*/[a-m]*.py"))
    files += sorted(glob.glob("/usr/include/c++/*/bits/stl_*.h"))
    return "\n".join(open(p, encoding="utf-8", errors="replace").read() for p in files)


def chunks(text, size):
    lines, cur, n = [], [], 0
    for line in text.splitlines(keepends=True):
        cur.append(line)
        n += len(line.encode("utf-8"))
        if n >= size:
            lines.append("".join(cur))
            cur, n = [], 0
    if cur:
        lines.append("".join(cur))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=1 << 20)
    args = ap.parse_args()
    sources = [chunks(t, 2048) for t in (chinese_texts(), english_texts(), code_texts())]
    if not all(sources):
        sys.exit("missing source text (need zh_CN gettext catalogs, vim docs, python/c++ sources)")
    parts, total, i = [], 0, 0
    while total < args.size:
        for src in sources:
            c = src[i % len(src)]
            parts.append(c)
            total += len(c.encode("utf-8"))
        i += 1
    data = "".join(parts).encode("utf-8")[: args.size]
    data = data.decode("utf-8", errors="ignore").encode("utf-8")  # cut at a character boundary
    with open(args.out, "wb") as f:
        f.write(data)
    zh = sum(1 for ch in data.decode("utf-8") if "\u4e00" <= ch <= "\u9fff")
    print(f"{args.out}: {len(data)} bytes, {zh} CJK characters")


if __name__ == "__main__":
    main()
