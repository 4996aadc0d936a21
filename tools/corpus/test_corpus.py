#!/usr/bin/env python3
"""Unit tests of the corpus builder (standard library only, no network).

    python3 -m unittest discover -s tools/corpus -p 'test_*.py'
"""

import json
import os
import re
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import clean    # noqa: E402
import extract  # noqa: E402
import synth    # noqa: E402


class CleanTest(unittest.TestCase):
    def test_join_wrapped_cjk(self):
        self.assertEqual(clean.join_wrapped(['这是一个', '句子。', 'Next', 'line']),
                         '这是一个句子。 Next line')

    def test_spaced_out_chinese(self):
        self.assertEqual(clean.normalize_line('文 件 用 于 记 录 ， 因 为 utmp 文件'),
                         '文件用于记录，因为 utmp 文件')

    def test_normalize_keeps_fullwidth_punctuation(self):
        self.assertEqual(clean.normalize_line('\ufeff你好，\u3000世界！\x1b[32m'), '你好，世界！')

    def test_filters(self):
        self.assertTrue(clean.keep_paragraph('这是一个相当普通的中文段落，用来测试过滤器。', 'zh'))
        self.assertFalse(clean.keep_paragraph('This paragraph is English only and not Chinese.', 'zh'))
        self.assertFalse(clean.keep_paragraph('for (i = 0; i < n; i++) { x[i] = y[i]; }', 'en'))
        self.assertTrue(clean.keep_paragraph(
            'The quick brown fox jumps over the lazy dog, as every typist knows.', 'en'))
        self.assertFalse(clean.keep_paragraph('│ apt │ 高级软件包工具，用于安装软件 │', 'zh'))
        self.assertFalse(clean.keep_paragraph('上一页', 'zh'))

    def test_dedup_across_documents(self):
        d = clean.Deduper()
        p = '这是一个会重复出现的段落，内容足够长，可以去重。'
        a = clean.clean_document([('p', p), ('p', '另一段不一样的文字，长度也足够长了，可以保留下来。')],
                                 'zh', d, min_cjk=5)
        b = clean.clean_document([('p', p + ' ')], 'zh', d, min_cjk=5)
        self.assertEqual(len(a), 2)
        self.assertIsNone(b)

    def test_rejected_document_does_not_consume_keys(self):
        d = clean.Deduper()
        p = '这个段落所在的文档太短会被丢弃，不应占用去重的键。'
        self.assertIsNone(clean.clean_document([('p', p)], 'zh', d, min_cjk=1000))
        self.assertIsNotNone(clean.clean_document([('p', p)], 'zh', d, min_cjk=5))


class ExtractTest(unittest.TestCase):
    def test_html(self):
        page = ('<html><head><title>T</title><script>var x=1;</script></head><body>'
                '<div class="navheader">上一页 下一页</div><h1>标题</h1><p>第一段<b>文字</b>，'
                '换行\n继续。</p><pre>code here</pre><br><p>Second <code>para</code>.</p>'
                '<div class="toc"><a>目录项</a></div></body></html>')
        docs = extract.html_docs(page)
        flat = [b for d in docs for b in d]
        self.assertIn(('h', '标题'), flat)
        self.assertIn(('p', '第一段文字，换行继续。'), flat)
        self.assertIn(('p', 'Second para.'), flat)
        text = ' '.join(t for _, t in flat)
        for bad in ('code here', '目录项', '上一页', 'var x'):
            self.assertNotIn(bad, text)

    def test_man(self):
        src = ('.TH LS 1\n.SH NAME\nls \\- list directory\n.SH SYNOPSIS\n.B ls\n[\\fIOPTION\\fR]\n'
               '.SH DESCRIPTION\nList information about the\n\\fBFILE\\fPs (the current\n'
               'directory by default).\n.PP\n.nf\ncode line\n.fi\nSecond \\(em paragraph.\n')
        blocks = extract.man_docs(src)[0]
        self.assertIn(('p', 'ls - list directory'), blocks)
        self.assertIn(('p', 'List information about the FILEs (the current directory by default).'),
                      blocks)
        self.assertIn(('p', 'Second — paragraph.'), blocks)
        text = ' '.join(t for _, t in blocks)
        self.assertNotIn('OPTION', text)     # synopsis dropped
        self.assertNotIn('code line', text)  # no-fill block dropped

    def test_rst(self):
        src = ('Title\n=====\n\nSome *text* with ``code`` and :c:func:`kmalloc`.\n\n'
               'Example::\n\n    int x = 1;\n\n.. note::\n\n   Keep this.\n\n.. code-block:: c\n\n'
               '   drop();\n\n- item one\n- item two\n')
        docs = extract.rst_docs(src)
        flat = [b for d in docs for b in d]
        self.assertIn(('h', 'Title'), flat)
        self.assertIn(('p', 'Some text with code and kmalloc.'), flat)
        self.assertIn(('p', 'Example:'), flat)
        self.assertIn(('p', 'item one'), flat)
        text = ' '.join(t for _, t in flat)
        self.assertNotIn('int x', text)
        self.assertNotIn('drop()', text)
        self.assertIn('Keep this.', text)

    def test_pod(self):
        src = ('=head1 NAME\n\nperlfoo - B<bold> and L<perlfunc/open>\n\n    my $code = 1;\n\n'
               '=over\n\n=item * C<< a => b >> thing\n\n=back\n\n=begin html\n\n<p>x</p>\n\n=end html\n')
        blocks = extract.pod_docs(src)[0]
        self.assertIn(('h', 'NAME'), blocks)
        self.assertIn(('p', 'perlfoo - bold and open in perlfunc'), blocks)
        self.assertIn(('p', 'a => b thing'), blocks)
        self.assertNotIn('my $code', ' '.join(t for _, t in blocks))

    def test_fortune_poem(self):
        e = '\x1b[32m《静夜思》\x1b[m\n\x1b[33m作者：李白\x1b[m\n床前明月光，疑是地上霜。\n举头望明月，低头思故乡。'
        d = extract.zh_poem_doc(extract.fortune_entries(e + '\n%\n')[0])[0]
        self.assertEqual(d, [('h', '《静夜思》'), ('h', '作者：李白'),
                             ('p', '床前明月光，疑是地上霜。举头望明月，低头思故乡。')])

    def test_mo(self):
        pairs = [(b'', b'Content-Type: text/plain; charset=UTF-8\n'),
                 (b'ctx\x04Insert Table', '插入表格(_T)'.encode())]
        n = len(pairs)
        keys = b''.join(k + b'\0' for k, _ in pairs)
        vals = b''.join(v + b'\0' for _, v in pairs)
        ko = 28 + 16 * n
        vo = ko + len(keys)
        tab_k, tab_v, o1, o2 = b'', b'', ko, vo
        for k, v in pairs:
            tab_k += struct.pack('<2I', len(k), o1)
            tab_v += struct.pack('<2I', len(v), o2)
            o1 += len(k) + 1
            o2 += len(v) + 1
        data = struct.pack('<7I', 0x950412de, 0, n, 28, 28 + 8 * n, 0, 0) + tab_k + tab_v + keys + vals
        with tempfile.NamedTemporaryFile(suffix='.mo', delete=False) as f:
            f.write(data)
        try:
            got = extract.mo_pairs(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(got, [('ctx', 'Insert Table', '插入表格(_T)')])
        self.assertEqual(extract.clean_ui_string('插入表格(_T)', zh=True), '插入表格')
        self.assertEqual(extract.clean_ui_string('_Insert ~Table'), 'Insert Table')


class ParallelTest(unittest.TestCase):
    def test_lo_pairs_and_dedup(self):
        zh = '<p id="par_id1" class="paragraph">打开<span>文件</span>。</p><h1 id="hd_id2">标题</h1>'
        en = '<p id="par_id1" class="paragraph">Opens the <span>file</span>.</p><h1 id="hd_id2">Title</h1>'
        pairs = extract.lo_help_pairs(zh, en)
        self.assertEqual(pairs, [('Opens the file.', '打开文件。'), ('Title', '标题')])
        d = clean.Deduper()
        self.assertEqual(clean.clean_parallel([('pair', p) for p in pairs], d),
                         ['Opens the file.', '打开文件。', 'Title', '标题'])
        self.assertIsNone(clean.clean_parallel([('pair', pairs[0])], d))


class FormatTest(unittest.TestCase):
    def test_document_separator(self):
        sys.modules.setdefault('synth', synth)
        import build
        self.assertEqual(build.docs_to_text([['a', 'b'], ['c']]), 'a\nb\n<|endoftext|>\nc\n')
        self.assertEqual(build.docs_to_text([]), '')

    def test_water_fill(self):
        import build
        alloc = build.water_fill({'a': 10, 'b': 100, 'c': 100}, {'a': 1, 'b': 1, 'c': 2}, 100)
        self.assertEqual(alloc['a'], 10)
        self.assertAlmostEqual(alloc['b'], 30)
        self.assertAlmostEqual(alloc['c'], 60)


class SynthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.stats = synth.write_all(cls.tmp, seed=7, eval_seed=8, pretrain_tokens=20000,
                                    glossary=[('Insert Table', '插入表格')],
                                    parallel=[('Opens the file.', '打开文件。')], sft_examples=3000,
                                    log=lambda *a: None)

    def read(self, *p):
        with open(os.path.join(self.tmp, *p), encoding='utf-8') as f:
            return f.read()

    def test_answers_are_right(self):
        """Recompute every arithmetic answer in the SFT data from its question."""
        n = 0
        for line in self.read('sft', 'train.jsonl').splitlines():
            msgs = json.loads(line)['messages']
            for u, a in zip(msgs, msgs[1:]):
                if u['role'] != 'user':
                    continue
                m = re.fullmatch(r'(-?\d+) ([-+×]) (-?\d+) = (-?\d+)[.。]', a['content'])
                if m:
                    x, op, y, r = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
                    self.assertEqual({'+': x + y, '-': x - y, '×': x * y}[op], r)
                    self.assertIn(str(x), u['content'])
                    self.assertIn(str(y), u['content'])
                    n += 1
        self.assertGreater(n, 500)

    def test_eval_disjoint_from_training(self):
        users = set()
        for f in ('train.jsonl', 'val.jsonl'):
            for line in self.read('sft', f).splitlines():
                users.update(m['content'] for m in json.loads(line)['messages'] if m['role'] == 'user')
        pre = self.read('pretrain', 'synth', 'synth.txt')
        for name in ('arith2', 'identity', 'instruct', 'limits'):
            for line in self.read('eval', name + '.jsonl').splitlines():
                q = json.loads(line)['messages'][0]['content']
                self.assertNotIn(q, users)
                self.assertNotIn('\n' + q + '\n', '\n' + pre.replace('Question: ', '').replace('问：', ''))

    def test_eval_answers(self):
        for line in self.read('eval', 'arith2.jsonl').splitlines():
            r = json.loads(line)
            q = r['messages'][0]['content']
            nums = [int(x) for x in re.findall(r'\d+', q)]
            self.assertEqual(len(nums), 2)
            a, b = nums
            self.assertTrue(10 <= a <= 99 and 10 <= b <= 99)
            self.assertEqual(str({'+': a + b, '-': a - b, '*': a * b}[r['op']]), r['expected'])
            self.assertTrue(synth.is_eval_pair(r['op'], a, b))

    def test_training_avoids_reserved_pairs(self):
        for line in self.read('sft', 'train.jsonl').splitlines():
            for m in json.loads(line)['messages']:
                if m['role'] != 'assistant':
                    continue
                g = re.fullmatch(r'(\d+) ([-+×]) (\d+) = -?\d+[.。]', m['content'])
                if g:
                    op = {'+': '+', '-': '-', '×': '*'}[g.group(2)]
                    self.assertFalse(synth.is_eval_pair(op, int(g.group(1)), int(g.group(3))))

    def test_deterministic(self):
        other = tempfile.mkdtemp()
        synth.write_all(other, seed=7, eval_seed=8, pretrain_tokens=20000,
                        glossary=[('Insert Table', '插入表格')], parallel=[('Opens the file.', '打开文件。')],
                        sft_examples=3000, log=lambda *a: None)
        for rel in ('sft/train.jsonl', 'sft/val.jsonl', 'pretrain/synth/synth.txt', 'eval/arith2.jsonl'):
            with open(os.path.join(other, rel), 'rb') as f1, open(os.path.join(self.tmp, rel), 'rb') as f2:
                self.assertEqual(f1.read(), f2.read(), rel)


if __name__ == '__main__':
    unittest.main()
