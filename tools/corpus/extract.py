"""Format readers for the corpus builder (standard library only).

Each reader turns one file (or one package's data files) into *raw documents*:
lists of (kind, text) blocks where kind is 'h' for a heading and 'p' for a
paragraph.  Cleaning, filtering and de-duplication happen later (clean.py).
Readers never decide on language or quality, they only strip markup.
"""

import bz2
import gzip
import html
import html.parser
import os
import re
import struct
import zlib

from clean import join_wrapped, normalize_line


def read_bytes(path):
    with open(path, 'rb') as f:
        data = f.read()
    if path.endswith('.gz'):
        data = gzip.decompress(data)
    elif path.endswith('.bz2'):
        data = bz2.decompress(data)
    return data


def read_text(path):
    data = read_bytes(path)
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return data.decode('utf-8', errors='replace')


# ==========================================================================
# HTML

_VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link',
         'meta', 'param', 'source', 'track', 'wbr', 'keygen'}
_BLOCK = {'p', 'div', 'li', 'dt', 'dd', 'tr', 'blockquote', 'table', 'ul',
          'ol', 'dl', 'section', 'article', 'body', 'caption', 'figcaption',
          'center', 'form', 'fieldset', 'main', 'thead', 'tbody', 'tfoot',
          'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'br', 'address'}
_HEAD = {'h1': 1, 'h2': 2, 'h3': 3, 'h4': 4, 'h5': 5, 'h6': 6}
# Elements whose whole content is dropped: code, navigation, page chrome.
_SKIP_TAGS = {'head', 'script', 'style', 'pre', 'nav', 'aside', 'header',
              'footer', 'noscript', 'svg', 'math', 'button', 'select',
              'textarea', 'object', 'iframe', 'kbd', 'samp', 'var'}
_SKIP_CLASSES = {
    # DocBook / Publican
    'navheader', 'navfooter', 'docnav', 'toc', 'list-of-tables',
    'list-of-figures', 'list-of-examples', 'indexterm', 'index', 'legalnotice',
    'screen', 'programlisting', 'synopsis', 'cmdsynopsis', 'funcsynopsis',
    'literallayout', 'revhistory', 'authorgroup', 'copyright', 'author',
    'othercredit', 'editor', 'mediaobject', 'informalexample', 'example',
    # Sphinx
    'sphinxsidebar', 'related', 'footer', 'headerlink', 'highlight',
    'toctree-wrapper', 'doctest', 'highlight-python3', 'highlight-c',
    'highlight-default', 'highlight-none', 'highlight-sh', 'highlight-console',
    'mobile-nav', 'clearer', 'versionmodified',
    # LibreOffice help
    'relatedtopics', 'relatedbody', 'howtoget', 'contents-treeview',
    'donation', 'bug', 'acknowledgement', 'bm_module', 'search', 'infotext',
    'embedded-code',
    # MoinMoin / misc
    'navigation', 'breadcrumbs', 'sidebar', 'table-of-contents',
}
_SKIP_IDS = {'banner', 'title', 'TopLeftHeader', 'Contents', 'Index',
             'Bookmarks', 'DonationFrame', 'SearchFrame', 'WarnOffline',
             'footer', 'header', 'navigation', 'sidebar', 'toc'}


class _HTMLText(html.parser.HTMLParser):
    def __init__(self, split_level):
        super().__init__(convert_charrefs=True)
        self.split_level = split_level
        self.docs = [[]]
        self.buf = []
        self.stack = []          # [tag, skipping]
        self.heading = None      # level of the open heading, if any

    # -- helpers
    def _skipping(self):
        return bool(self.stack) and self.stack[-1][1]

    def _flush(self):
        text = join_wrapped(''.join(self.buf).split('\n'))
        self.buf = []
        if not text:
            return
        if self.heading is not None:
            if self.heading <= self.split_level and self.docs[-1]:
                # start a new document at a section heading, unless the
                # current one is still tiny (then merge into it)
                size = sum(len(t) for _, t in self.docs[-1])
                if size > 400:
                    self.docs.append([])
            self.docs[-1].append(('h', text))
        else:
            self.docs[-1].append(('p', text))

    # -- parser callbacks
    def handle_starttag(self, tag, attrs):
        parent_skip = self._skipping()
        if tag in _VOID:
            if tag in ('br', 'hr') and not parent_skip:
                self._flush()
            return
        a = dict(attrs)
        cls = set((a.get('class') or '').split())
        skip = (parent_skip or tag in _SKIP_TAGS or bool(cls & _SKIP_CLASSES)
                or a.get('id') in _SKIP_IDS or a.get('hidden') is not None
                or 'display:none' in (a.get('style') or '').replace(' ', ''))
        if not parent_skip and (tag in _BLOCK or tag in _HEAD):
            self._flush()
            if tag in _HEAD:
                self.heading = _HEAD[tag]
        if tag in ('td', 'th') and not parent_skip:
            self.buf.append(' ')
        self.stack.append([tag, skip])

    def handle_startendtag(self, tag, attrs):
        if tag in ('br', 'hr') and not self._skipping():
            self._flush()

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        # pop up to the matching open tag; ignore stray end tags
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                was_skip = self.stack[i][1]
                del self.stack[i:]
                break
        else:
            return
        parent_skip = self._skipping()
        if not parent_skip and (tag in _BLOCK or tag in _HEAD):
            if not was_skip:
                self._flush()
            if tag in _HEAD:
                self.heading = None
        elif tag in ('td', 'th') and not parent_skip:
            self.buf.append(' ')

    def handle_data(self, data):
        if not self._skipping():
            self.buf.append(data)

    def close(self):
        super().close()
        self._flush()


def html_docs(text, split_level=2):
    """HTML page -> raw documents, split before headings of level <=
    split_level.  Code (<pre>), navigation and page chrome are dropped."""
    p = _HTMLText(split_level)
    p.feed(text)
    p.close()
    return [d for d in p.docs if d]


# ==========================================================================
# man pages (troff with the man macros): a small troff stripper

_TROFF_SPECIAL = {
    'em': '—', 'en': '–', 'bu': '•', 'co': '©', 'rg': '®', 'tm': '™',
    'aq': "'", 'dq': '"', 'lq': '“', 'rq': '”', 'oq': '‘', 'cq': '’',
    'hy': '-', 'mi': '-', 'ti': '~', 'ha': '^', 'rs': '\\', 'at': '@',
    'sh': '#', 'Do': '$', 'bv': '|', 'ba': '|', 'or': '|', 'sl': '/',
    'lh': '<', 'rh': '>', 'Fo': '«', 'Fc': '»', 'fo': '‹', 'fc': '›',
    'de': '°', 'mu': '×', 'di': '÷', 'pl': '+', 'eq': '=', 'la': '⟨',
    'ra': '⟩', 'ga': '`', 'ul': '_', 'lB': '[', 'rB': ']', 'lC': '{',
    'rC': '}', 'ct': '¢', 'Po': '£', 'Ye': '¥', 'Eu': '€', 'eu': '€',
    'Bq': '„', 'bq': '‚', '->': '→', '<-': '←', '>=': '≥', '<=': '≤',
    '!=': '≠', '+-': '±', 'aa': '´', 'ss': 'ß', 'ae': 'æ', "'e": 'é',
}

_ESC_RE = re.compile(
    r"\\(?:"
    r"f(?:\[[^\]]*\]|\(..|.)"        # font changes
    r"|s[-+]?(?:\d|\(\d\d|\[\d+\])"  # size changes
    r"|\((?P<sp2>..)"                # \(xx special character
    r"|\[(?P<spn>[^\]]*)\]"          # \[name] special character
    r"|\*(?:\[[^\]]*\]|\(..|.)"      # string interpolation
    r"|n(?:\[[^\]]*\]|\(..|.)"       # number registers
    r"|[hvwlLoDxbZkHSNXY]'[^']*'"    # motion / drawing / etc. with args
    r"|(?P<lit>[-e\\.'`\"~ 0|^&%:c!)/,t])"  # single-character escapes
    r")")


def _troff_inline(s):
    def rep(m):
        if m.group('sp2') is not None:
            return _TROFF_SPECIAL.get(m.group('sp2'), '')
        if m.group('spn') is not None:
            n = m.group('spn')
            if n.startswith('u') and re.fullmatch(r'u[0-9A-Fa-f]{4,6}', n):
                return chr(int(n[1:], 16))
            return _TROFF_SPECIAL.get(n, '')
        lit = m.group('lit')
        if lit is None:
            return ''
        return {'-': '-', 'e': '\\', '\\': '\\', '.': '.', "'": "'",
                '`': '`', '~': ' ', ' ': ' ', '0': ' ', 't': ' ',
                '"': ''}.get(lit, '')
    # comments first
    i = s.find('\\"')
    if i >= 0:
        s = s[:i]
    return _ESC_RE.sub(rep, s)


def _split_macro_args(s):
    args = []
    for m in re.finditer(r'"((?:[^"]|"")*)"|(\S+)', s):
        args.append(m.group(1).replace('""', '"') if m.group(1) is not None else m.group(2))
    return args


# Sections whose content is not prose (synopsis, references, credits).
_MAN_DROP_SECTIONS = re.compile(
    r'^(SYNOPSIS|SEE ALSO|AUTHORS?|COPYRIGHT|COLOPHON|REPORTING BUGS|FILES|'
    r'HISTORY|VERSIONS|STANDARDS|CONFORMING TO|ATTRIBUTES|TRANSLATORS?|'
    r'概要|总览|大纲|纲要|语法|用法|概述|简介|摘要|参见|另见|参考|相关|作者|版权|'
    r'著作权|翻译|译者|中文版维护人|中文版最新更新|跋|文件|相关文件|标准|历史)\b', re.I)


def man_docs(text):
    """troff man page -> one raw document.  Code blocks (.nf/.EX), tables
    (.TS) and the synopsis / see-also / author sections are dropped."""
    blocks = []
    para = []
    nofill = False
    in_table = False
    drop_section = False
    ignore_block = 0

    def flush():
        if para:
            t = join_wrapped(para)
            if t and not drop_section:
                blocks.append(('p', t))
            para.clear()

    lines = text.replace('\r', '').split('\n')
    # join escaped newlines
    joined = []
    acc = ''
    for ln in lines:
        if ln.endswith('\\') and not ln.endswith('\\\\'):
            acc += ln[:-1]
            continue
        joined.append(acc + ln)
        acc = ''
    for ln in joined:
        if ignore_block:
            if ln.startswith('..'):
                ignore_block = 0
            continue
        if in_table:
            if ln.startswith('.TE'):
                in_table = False
            continue
        if ln.startswith('.') or ln.startswith("'"):
            m = re.match(r"[.'][ \t]*(\S*)[ \t]*(.*)", ln)
            req, rest = m.group(1), m.group(2)
            if req.startswith('\\"') or req == '':
                continue
            if req in ('de', 'de1', 'am', 'ig'):
                flush()
                ignore_block = 1
                continue
            if req == 'TS':
                flush()
                in_table = True
                continue
            if req in ('nf', 'EX'):
                flush()
                nofill = True
                continue
            if req in ('fi', 'EE'):
                nofill = False
                continue
            if req in ('SH', 'SS'):
                flush()
                title = normalize_line(_troff_inline(' '.join(_split_macro_args(rest))))
                drop_section = bool(_MAN_DROP_SECTIONS.match(title)) if req == 'SH' else drop_section
                if title and not drop_section:
                    blocks.append(('h', title))
                continue
            if req in ('B', 'I', 'SM', 'SB'):
                if not nofill:
                    para.append(_troff_inline(' '.join(_split_macro_args(rest))))
                continue
            if req in ('BR', 'RB', 'BI', 'IB', 'IR', 'RI'):
                if not nofill:
                    para.append(_troff_inline(''.join(_split_macro_args(rest))))
                continue
            if req in ('TP', 'PP', 'LP', 'P', 'HP', 'sp', 'br', 'RS', 'RE',
                       'in', 'ti', 'bp', 'ne', 'TQ'):
                flush()
                continue
            if req == 'IP':
                flush()
                args = _split_macro_args(rest)
                if args:
                    tag = normalize_line(_troff_inline(args[0]))
                    if tag and tag not in ('•', '-', '*', 'o') and len(tag) > 2:
                        para.append(tag + ' ')
                continue
            if req == 'TH':
                continue
            # every other request is ignored
            continue
        if nofill:
            continue
        t = _troff_inline(ln)
        if not t.strip():
            flush()
            continue
        para.append(t)
    flush()
    return [blocks] if blocks else []


# ==========================================================================
# reStructuredText (kernel documentation sources)

_RST_UNDERLINE = re.compile(r'^([=\-~^*#+"`:\'.])\1{2,}\s*$')
_RST_ROLE = re.compile(r':[\w:.+-]+:`([^`<]*?)\s*(?:<[^>]*>)?`')
_RST_LINK = re.compile(r'`([^`<]+?)\s*<[^>]*>`_{1,2}')
_RST_REF = re.compile(r'`([^`]+)`_{1,2}')
_RST_LIT = re.compile(r'``([^`]+)``')
_RST_EMPH = re.compile(r'\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*')
_RST_TITLE_ADMON = {'note', 'warning', 'tip', 'important', 'attention',
                    'hint', 'caution', 'danger', 'admonition'}


def _rst_inline(s):
    s = _RST_ROLE.sub(r'\1', s)
    s = _RST_LINK.sub(r'\1', s)
    s = _RST_LIT.sub(r'\1', s)
    s = _RST_REF.sub(r'\1', s)
    s = _RST_EMPH.sub(lambda m: m.group(1) or m.group(2), s)
    s = re.sub(r'\|([\w-]+)\|', r'\1', s)
    s = re.sub(r'\[#?\w*\]_', '', s)
    return s


def rst_docs(text, split_level=1):
    """reST source -> raw documents (split at the top heading level).
    Directives, literal blocks, tables and field lists are dropped; the
    bodies of admonitions (note/warning...) are kept."""
    lines = text.replace('\r', '').replace('\ufeff', '').split('\n')
    docs = [[]]
    levels = []          # heading adornment characters in order of appearance
    para = []
    i = 0
    n = len(lines)
    skip_indent = None   # skip lines indented more than this

    def flush():
        if para:
            t = join_wrapped([_rst_inline(x) for x in para])
            if t.endswith('::'):
                t = t[:-1]
            if t and t != ':':
                docs[-1].append(('p', t))
            para.clear()

    def indent(s):
        return len(s) - len(s.lstrip(' \t'))

    while i < n:
        ln = lines[i]
        if skip_indent is not None:
            if ln.strip() == '' or indent(ln) > skip_indent:
                i += 1
                continue
            skip_indent = None
        st = ln.strip()
        # section headings: text + underline (optionally with overline)
        if (st and i + 1 < n and _RST_UNDERLINE.match(lines[i + 1].strip())
                and not _RST_UNDERLINE.match(st)
                and len(lines[i + 1].strip()) >= min(len(st), 3)):
            flush()
            ch = lines[i + 1].strip()[0]
            if ch not in levels:
                levels.append(ch)
            lvl = levels.index(ch) + 1
            if lvl <= split_level and docs[-1]:
                docs.append([])
            docs[-1].append(('h', _rst_inline(st)))
            i += 2
            continue
        if _RST_UNDERLINE.match(st):      # overline or transition
            flush()
            i += 1
            continue
        if st.startswith('.. '):
            flush()
            m = re.match(r'\.\.\s+([\w-]+)::\s*(.*)', st)
            if m and m.group(1) in _RST_TITLE_ADMON:
                # keep the admonition body: treat it as normal text
                if m.group(2):
                    para.append(m.group(2))
                i += 1
                # skip the option lines (":class: ...") of the directive
                while i < n and lines[i].strip().startswith(':') and lines[i].strip():
                    i += 1
                continue
            skip_indent = indent(ln)
            i += 1
            continue
        if st == '':
            flush()
            i += 1
            continue
        if st.startswith(('+--', '+==', '|')) or re.match(r'^=+(\s+=+)+$', st):
            flush()                     # tables / line blocks
            skip_indent = indent(ln) - 1 if indent(ln) > 0 else None
            while i < n and lines[i].strip():
                i += 1
            continue
        if re.match(r'^:[\w -]+:( |$)', st):
            flush()                     # field list
            i += 1
            while i < n and lines[i].strip() and indent(lines[i]) > indent(ln):
                i += 1
            continue
        m = re.match(r'^([-*+•]|\d+[.)]|#\.|\(\d+\)|[a-z][.)])\s+(.*)$', st)
        if m:
            flush()
            para.append(m.group(2))
            i += 1
            continue
        para.append(st)
        if st.endswith('::'):
            flush()
            # the following indented block is literal: skip it
            j = i + 1
            while j < n and lines[j].strip() == '':
                j += 1
            if j < n:
                skip_indent = indent(ln) if indent(lines[j]) > indent(ln) else None
                if skip_indent is None:
                    skip_indent = indent(lines[j]) - 1
        i += 1
    flush()
    return [d for d in docs if d]


# ==========================================================================
# POD (Perl documentation)

def _pod_inline(s):
    # innermost first, repeat until stable; handles B<< x >> forms too
    s = re.sub(r'E<([^<>]+)>', lambda m: {'lt': '<', 'gt': '>', 'verbar': '|',
                                            'sol': '/'}.get(m.group(1), ''), s)
    s = re.sub(r'[XZ]<+[^<>]*>+', '', s)
    for _ in range(6):
        s2 = re.sub(r'[BICFS]<<+\s+(.*?)\s+>>+', r'\1', s, flags=re.S)
        s2 = re.sub(r'[BICFS]<([^<>]*)>', r'\1', s2)

        def link(m):
            t = m.group(1).strip()
            if '|' in t:
                return t.split('|', 1)[0]
            t = t.replace('"', '')
            if '://' in t:
                return t
            if '/' in t:
                page, sec = t.split('/', 1)
                return sec + (' in ' + page if page else '')
            return t
        s2 = re.sub(r'L<<+\s+(.*?)\s+>>+', link, s2, flags=re.S)
        s2 = re.sub(r'L<([^<>]*)>', link, s2)
        if s2 == s:
            break
        s = s2
    return s


def pod_docs(text):
    """POD -> one raw document; verbatim (code) paragraphs are dropped."""
    blocks = []
    skip_region = False
    for para in re.split(r'\n\s*\n', text.replace('\r', '')):
        if not para.strip():
            continue
        if para.startswith('='):
            m = re.match(r'=(\w+)\s*(.*)', para, re.S)
            cmd, rest = m.group(1), m.group(2)
            if cmd == 'begin':
                skip_region = True
            elif cmd == 'end':
                skip_region = False
            elif skip_region:
                pass
            elif cmd.startswith('head'):
                blocks.append(('h', join_wrapped(_pod_inline(rest).split('\n'))))
            elif cmd == 'item':
                t = rest.strip()
                if t and t not in ('*', '-') and not re.fullmatch(r'\d+\.?', t):
                    t = re.sub(r'^[*-]\s+', '', t)
                    blocks.append(('p', join_wrapped(_pod_inline(t).split('\n'))))
            continue
        if skip_region or para[0] in ' \t':
            continue
        blocks.append(('p', join_wrapped(_pod_inline(para).split('\n'))))
    return [blocks] if blocks else []


# ==========================================================================
# fortune files

def fortune_entries(text):
    """Split a fortune(6) data file into entries (strings)."""
    text = re.sub(r'\x1b\[[0-9;]*m', '', text)
    ents = re.split(r'\n%\n', text.replace('\r', ''))
    return [e.strip('\n') for e in ents if e.strip()]


def _strip_attr(line, dash='——'):
    s = line.strip()
    if s.startswith('--'):
        s = dash + s.lstrip('-').strip()
    return s


def zh_poem_doc(entry):
    """Chinese fortune (poem or saying) -> raw document.  Title and author
    lines stay separate; the verse lines are joined into one paragraph, so
    the poem survives the paragraph filter and de-duplication as a whole."""
    lines = [l for l in entry.split('\n') if l.strip()]
    head, body, tail = [], [], []
    for l in lines:
        s = l.strip()
        if s.startswith('《') and s.endswith('》') and not body:
            head.append(('h', s))
        elif s.startswith('作者') and not body:
            head.append(('h', s))
        elif s.startswith('--') or s.startswith('——'):
            tail.append(_strip_attr(s))
        else:
            body.append(s)
    if not body:
        return []
    text = join_wrapped(body)
    if tail:
        text += ' ' + ' '.join(tail)
    return [head + [('p', text)]]


def en_fortune_paragraph(entry):
    lines = [l.rstrip() for l in entry.split('\n')]
    return join_wrapped([_strip_attr(l, '— ') if l.strip().startswith('--') else l for l in lines])


# ==========================================================================
# SWORD zText module (World English Bible)

def sword_ztext_docs(moddir):
    """Decode a SWORD zText module (zlib, book blocks) with OSIS markup into
    one raw document per chapter.  Footnotes and cross references dropped."""
    stream = []
    for testament in ('ot', 'nt'):
        bzs = os.path.join(moddir, testament + '.bzs')
        if not os.path.exists(bzs):
            continue
        idx = read_bytes(bzs)
        data = read_bytes(os.path.join(moddir, testament + '.bzz'))
        ver = read_bytes(os.path.join(moddir, testament + '.bzv'))
        blocks = []
        for i in range(0, len(idx) - 11, 12):
            off, size, _usize = struct.unpack('<3I', idx[i:i + 12])
            blocks.append(zlib.decompress(data[off:off + size]))
        for i in range(0, len(ver) - 9, 10):
            b, off, size = struct.unpack('<IIH', ver[i:i + 10])
            if size and b < len(blocks):
                stream.append(blocks[b][off:off + size].decode('utf-8', 'replace'))
                stream.append(' ')
    osis = ''.join(stream)
    osis = re.sub(r'<note\b[^>]*/>', '', osis)
    osis = re.sub(r'<note\b.*?</note>', '', osis, flags=re.S)
    docs = []
    cur = []
    buf = []
    book = ''

    def flush(kind='p'):
        t = normalize_line(''.join(buf))
        buf.clear()
        if t:
            cur.append((kind, t))

    pos = 0
    for m in re.finditer(r'<[^>]+>', osis):
        buf.append(html.unescape(osis[pos:m.start()]))
        pos = m.end()
        tag = m.group(0)
        if tag.startswith('<chapter') and 'sID=' in tag:
            flush()
            if cur:
                docs.append(cur)
            cur = []
            cn = re.search(r'\bn="([^"]+)"', tag)
            if book and cn:
                cur.append(('h', '%s %s' % (book, cn.group(1))))
        elif tag.startswith('<milestone') and 'x-usfm-h' in tag:
            mm = re.search(r'\bn="([^"]+)"', tag)
            if mm:
                book = mm.group(1)
        elif tag.startswith('<title'):
            flush()
        elif tag.startswith('</title'):
            buf[:] = []          # section titles of the WEB are editorial
        elif tag.startswith('<div') and ('x-p' in tag or 'paragraph' in tag or 'sID' in tag):
            flush()
        elif tag.startswith('<l ') or tag.startswith('<lb') or tag.startswith('</l>'):
            buf.append(' ')
    buf.append(osis[pos:])
    flush()
    if cur:
        docs.append(cur)
    return docs


# ==========================================================================
# gettext .mo files

def mo_pairs(path):
    """(msgctxt, msgid, msgstr) triples from a GNU .mo file."""
    d = read_bytes(path)
    magic = struct.unpack('<I', d[:4])[0]
    end = '<' if magic == 0x950412de else '>'
    _magic, _rev, n, oo, ot = struct.unpack(end + '5I', d[:20])
    out = []
    for i in range(n):
        l1, o1 = struct.unpack(end + '2I', d[oo + 8 * i: oo + 8 * i + 8])
        l2, o2 = struct.unpack(end + '2I', d[ot + 8 * i: ot + 8 * i + 8])
        k = d[o1:o1 + l1].decode('utf-8', 'replace')
        v = d[o2:o2 + l2].decode('utf-8', 'replace')
        if not k:
            continue
        ctx = ''
        if '\x04' in k:
            ctx, k = k.split('\x04', 1)
        k = k.split('\x00')[0]
        v = v.split('\x00')[0]
        out.append((ctx, k, v))
    return out


def clean_ui_string(s, zh=False):
    """Strip accelerator markers from a UI string."""
    if zh:
        s = re.sub(r'\s*[(（][_~&]?[A-Za-z0-9][)）]', '', s)
    s = s.replace('~', '').replace('_', '').replace('&', '')
    return normalize_line(s)


# ==========================================================================
# WordNet

def wordnet_glosses(path, pos_name):
    """(words, pos, gloss) from a WordNet data.* file, in file order."""
    out = []
    for line in read_text(path).split('\n'):
        if not line or line.startswith('  '):
            continue
        if '|' not in line:
            continue
        head, gloss = line.split('|', 1)
        f = head.split()
        try:
            wcnt = int(f[3], 16)
        except (IndexError, ValueError):
            continue
        words = [f[4 + 2 * k].replace('_', ' ') for k in range(wcnt)]
        words = [re.sub(r'\([a-z]+\)$', '', w) for w in words]
        out.append((words, pos_name, gloss.strip()))
    return out


# ==========================================================================
# Unihan

def unihan_fields(path, fields):
    """{codepoint_char: {field: value}} for the requested fields."""
    res = {}
    for line in read_text(path).split('\n'):
        if not line.startswith('U+'):
            continue
        parts = line.split('\t')
        if len(parts) < 3 or parts[1] not in fields:
            continue
        ch = chr(int(parts[0][2:], 16))
        res.setdefault(ch, {})[parts[1]] = parts[2]
    return res


# ==========================================================================
# LibreOffice help: aligned Chinese / English paragraphs

_LO_PAR_RE = re.compile(
    r'<(p|h[1-6]|td)\b[^>]*\bid="((?:par|hd)_id\w+)"[^>]*>(.*?)</\1>', re.S)


def _lo_pars(text):
    out = {}
    for m in _LO_PAR_RE.finditer(text):
        inner = re.sub(r'<(pre|code)\b.*?</\1>', ' ', m.group(3), flags=re.S)
        t = normalize_line(html.unescape(re.sub(r'<[^>]+>', '', inner)).replace('\n', ' '))
        if t:
            out[m.group(2)] = t
    return out


def lo_help_pairs(zh_text, en_text):
    """(English, Chinese) pairs of paragraphs that carry the same id in the
    Chinese and the English version of one LibreOffice help page."""
    zh = _lo_pars(zh_text)
    en = _lo_pars(en_text)
    return [(en[k], zh[k]) for k in zh if k in en and en[k] != zh[k]]
