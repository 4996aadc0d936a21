"""Text normalisation, quality filters and de-duplication for the corpus builder.

Standard library only.  Every function here is deterministic.

Vocabulary used throughout the builder:
  * a *paragraph* is one line of cleaned text (no newline inside);
  * a *document* is a list of paragraphs; on disk a document is its paragraphs
    joined by single newlines, and documents are separated by one blank line.
"""

import hashlib
import re
import unicodedata

# --------------------------------------------------------------------------
# character classes

_CJK_RANGES = (
    (0x3400, 0x4DBF),    # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),    # CJK Unified Ideographs
    (0xF900, 0xFAFF),    # CJK Compatibility Ideographs
    (0x20000, 0x2FFFF),  # Extensions B..F, compatibility supplement
    (0x30000, 0x3134F),  # Extension G
)


def is_cjk(ch):
    """True for a Han ideograph (what 'CJK chars' counts everywhere)."""
    o = ord(ch)
    if o < 0x3400:
        return False
    for lo, hi in _CJK_RANGES:
        if lo <= o <= hi:
            return True
    return False


_CJK_RE = re.compile('[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]')


def cjk_count(s):
    return len(_CJK_RE.findall(s))


def _wide(ch):
    """Characters between which no space is inserted when unwrapping lines."""
    if is_cjk(ch):
        return True
    o = ord(ch)
    # CJK punctuation, full-width forms, kana
    return 0x3000 <= o <= 0x30FF or 0xFF00 <= o <= 0xFFEF


def est_tokens(s):
    """Rough token estimate used for the language mix: one token per Han
    character, one per four other characters (spaces included)."""
    c = cjk_count(s)
    return c + (len(s) - c) / 4.0


# --------------------------------------------------------------------------
# normalisation

_ANSI_RE = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
_SPACES_RE = re.compile(r'[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+')
_ZERO_WIDTH_RE = re.compile('[\u200b\u200c\u200d\u2060\ufeff\u00ad]')
_CTRL_RE = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f]')


_WIDE = '\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef'
_WIDE_GAP_RE = re.compile('(?<=[%s]) (?=[%s])' % (_WIDE, _WIDE))


def normalize_line(s):
    """NFC, no control/zero-width characters, single ASCII spaces, stripped.
    Full-width Chinese punctuation is kept as it is (NFKC would turn '，' into
    ',', which is wrong for Chinese text)."""
    s = _ANSI_RE.sub('', s)
    s = unicodedata.normalize('NFC', s)
    s = s.replace('\r', '')
    s = _ZERO_WIDTH_RE.sub('', s)
    s = s.replace('\t', ' ')
    s = _CTRL_RE.sub('', s)
    # U+3000 ideographic space counts as a space too
    s = _SPACES_RE.sub(' ', s)
    # Chinese never puts a space between two characters; some old
    # translations (manpages-zh) space out every character.
    s = _WIDE_GAP_RE.sub('', s)
    return s.strip()


def join_wrapped(lines):
    """Join hard-wrapped lines of one paragraph.  No space is inserted between
    two wide (Chinese) characters, a single space otherwise."""
    out = ''
    for ln in lines:
        ln = normalize_line(ln)
        if not ln:
            continue
        if not out:
            out = ln
        elif _wide(out[-1]) and _wide(ln[0]):
            out += ln
        elif out.endswith('-') and len(out) > 1 and out[-2].isalpha() and ln[0].islower():
            # "hyphen-\nated" soft hyphenation from man/troff: keep the hyphen,
            # it is usually a real compound in these sources
            out += ln
        else:
            out += ' ' + ln
    return out


# --------------------------------------------------------------------------
# quality filters

_CODE_CHARS = set('{}[]<>=;$#/\\|_*&^~`@%')
_CODE_PATTERNS = re.compile(
    r'(^\$ |^# |^% |^>>> |^\.\.\. |^sudo |^apt(-get)? |[;{]\s*$|->|::|==|!=|&&|\|\||'
    r'^\s*(def|class|import|from|return|if|for|while|int|void|char|struct|#include|#define|'
    r'my|sub|use|print|echo|export|local)\b.*[(=;:{]|\w+\([^()]*\)\s*;|'
    r'^[\w./-]+\s*=\s*\S+$|^0x[0-9a-f]+)', re.I)
_URLISH = re.compile(r'(https?://|ftp://|www\.|\S+@\S+\.\w+)')

# Whole paragraphs that are navigation or legal boilerplate in these manuals.
_BOILER_RE = re.compile(
    r'^(上一页|下一页|起始页|上一级|首页|目录|索引|后退|前进|返回顶部|'
    r'Prev|Next|Previous|Up|Home|Contents|Index|Table of Contents|Back to top|'
    r'Navigation|Download the ebook|Report a Bug|Edit this page|Show Source|'
    r'This page is licensed under.*|Copyright ©.*|©.*|Last updated on.*|'
    r'Found a bug\?.*|Please donate.*|Created using Sphinx.*|'
    r'本页面|本页|此页面)$', re.I)


def symbol_ratio(s):
    ns = [c for c in s if not c.isspace()]
    if not ns:
        return 1.0
    return sum(1 for c in ns if c in _CODE_CHARS) / len(ns)


def looks_like_code(s):
    if symbol_ratio(s) > 0.10:
        return True
    if _CODE_PATTERNS.search(s):
        return True
    return False


def letters_ratio(s):
    ns = [c for c in s if not c.isspace()]
    if not ns:
        return 0.0
    return sum(1 for c in ns if c.isalpha()) / len(ns)


_BOX_RE = re.compile('[\u2500-\u259f]')


def keep_paragraph(p, lang, heading=False):
    """Quality gate for one cleaned paragraph.  lang is 'zh' or 'en'."""
    if not p:
        return False
    if _BOILER_RE.match(p) or _BOX_RE.search(p):   # navigation, box-drawn tables
        return False
    n = len(p)
    cjk = cjk_count(p)
    latin = sum(1 for c in p if 'a' <= c.lower() <= 'z')
    if lang == 'zh':
        # Chinese paragraphs must be mostly Chinese: untranslated English
        # paragraphs, command lines and tables of options are dropped.
        if cjk < (2 if heading else 4):
            return False
        if cjk < 0.4 * (cjk + latin):
            return False
        if symbol_ratio(p) > 0.10:
            return False
        if len(_URLISH.findall(p)) * 40 > n:
            return False
        return True
    # English
    if cjk > 0:
        return False
    if heading:
        return 3 <= n <= 200 and letters_ratio(p) > 0.6 and not looks_like_code(p)
    if n < 40 or len(p.split()) < 7:
        return False
    if letters_ratio(p) < 0.72:
        return False
    if looks_like_code(p):
        return False
    if len(_URLISH.findall(p)) * 60 > n:
        return False
    # mostly upper-case lines are headers, banners or option tables
    upper = sum(1 for c in p if c.isupper())
    if latin and upper > 0.5 * latin:
        return False
    return True


# --------------------------------------------------------------------------
# de-duplication

_DEDUP_STRIP = re.compile(r'[\W_]+', re.UNICODE)


def dedup_key(p):
    """Key for exact de-duplication: case-folded, all whitespace and
    punctuation removed.  None for paragraphs too short to de-duplicate
    (short headings such as '注意' may legitimately repeat)."""
    k = _DEDUP_STRIP.sub('', p.casefold())
    if len(k) < 12 and cjk_count(k) < 6:
        return None
    return hashlib.sha1(k.encode('utf-8')).digest()[:12]


class Deduper:
    """Global paragraph de-duplicator: the first occurrence wins, so sources
    are processed in a fixed priority order."""

    def __init__(self):
        self.seen = set()
        self.dropped = 0

    def fresh(self, p):
        k = dedup_key(p)
        if k is None:
            return True
        if k in self.seen:
            self.dropped += 1
            return False
        self.seen.add(k)
        return True


def clean_document(blocks, lang, deduper, min_cjk=30, min_chars=200):
    """blocks: list of (kind, text) with kind 'h' (heading) or 'p'.
    Returns the list of kept paragraphs, or None if the document is too
    small after filtering.  Headings are kept only when a kept paragraph
    follows them.  Paragraphs are registered with the de-duplicator only
    when the document is kept."""
    out = []
    keys = []
    local = set()
    pending = None
    for kind, text in blocks:
        t = normalize_line(text)
        if kind == 'h':
            if keep_paragraph(t, lang, heading=True):
                pending = t
            continue
        if not keep_paragraph(t, lang):
            continue
        k = dedup_key(t)
        if k is not None:
            if k in deduper.seen or k in local:
                deduper.dropped += 1
                continue
            local.add(k)
            keys.append(k)
        if pending is not None:
            out.append(pending)
            pending = None
        out.append(t)
    if not out:
        return None
    body = '\n'.join(out)
    if lang == 'zh' and cjk_count(body) < min_cjk:
        return None
    if lang == 'en' and len(body) < min_chars:
        return None
    deduper.seen.update(keys)
    return out


def doc_hash(paragraphs):
    return hashlib.sha256('\n'.join(paragraphs).encode('utf-8')).hexdigest()


def clean_glossary(blocks, deduper, max_len=300):
    """Bilingual glossary entries: light cleaning and de-duplication only."""
    out = []
    for _kind, text in blocks:
        t = normalize_line(text)
        if not t or len(t) > max_len or cjk_count(t) == 0:
            continue
        k = hashlib.sha1(t.encode('utf-8')).digest()[:12]
        if k in deduper.seen:
            deduper.dropped += 1
            continue
        deduper.seen.add(k)
        out.append(t)
    return out or None


def clean_parallel(blocks, deduper, max_len=400):
    """Aligned ('pair', (english, chinese)) blocks -> alternating English and
    Chinese lines; a pair seen before (anywhere) is dropped."""
    out = []
    for _kind, (en, zh) in blocks:
        en, zh = normalize_line(en), normalize_line(zh)
        if not en or not zh or len(en) > max_len or len(zh) > max_len:
            continue
        k = hashlib.sha1(('pair\x00' + en + '\x00' + zh).encode('utf-8')).digest()[:12]
        if k in deduper.seen:
            deduper.dropped += 1
            continue
        deduper.seen.add(k)
        out.extend([en, zh])
    return out or None
