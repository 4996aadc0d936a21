#!/usr/bin/env python3
"""Tests of the recipe's Python helpers (no starfire binary, no network, ~1 s):

    python3 -m unittest discover -s tools/recipe -p 'test_*.py'
"""
import hashlib
import json
import os
import shutil
import sys
import tempfile
import unittest
import xml.dom.minidom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import eval_default  # noqa: E402
import model_card  # noqa: E402
import recipe_util  # noqa: E402


class ScoreTest(unittest.TestCase):
    def test_number_takes_the_last_integer(self):
        row = {'match': 'number', 'expected': '109'}
        self.assertTrue(eval_default.score(row, '20 + 89 = 109.'))
        self.assertTrue(eval_default.score(row, '答案是1,09？不，是 109'))
        self.assertFalse(eval_default.score(row, '109 = 110'))
        self.assertFalse(eval_default.score(row, 'I do not know'))
        self.assertTrue(eval_default.score({'match': 'number', 'expected': '-7'}, '3 - 10 = -7'))

    def test_exact_strips_only_whitespace(self):
        row = {'match': 'exact', 'expected': 'horse horse'}
        self.assertTrue(eval_default.score(row, '  horse horse\n'))
        self.assertFalse(eval_default.score(row, 'horse horse.'))

    def test_contains_any_ignores_case(self):
        row = {'match': 'contains_any', 'expected': ['Starfire', '星火']}
        self.assertTrue(eval_default.score(row, "I'm STARFIRE."))
        self.assertTrue(eval_default.score(row, '我是星火。'))
        self.assertFalse(eval_default.score(row, 'I am a model.'))

    def test_pick_spreads_over_the_set(self):
        rows = list(range(100))
        self.assertEqual(eval_default.pick(rows, 0), rows)
        self.assertEqual(eval_default.pick(rows, 4), [0, 25, 50, 75])
        self.assertEqual(eval_default.pick(rows[:3], 10), [0, 1, 2])


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


class CorpusTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def make_corpus(self):
        files = {
            'pretrain/zh/a.txt': '第一篇\n<|endoftext|>\n第二篇文档\n<|endoftext|>\n第三篇\n',
            'pretrain/en/b.txt': 'one\n<|endoftext|>\ntwo\n',
            'pretrain/bi/c.txt': 'x = 叉\n',
            'pretrain/synth/synth.txt': 'Question: 1+1?\nAnswer: 2\n',
            'pretrain/val/zh/a.txt': '留出\n',
            'sft/train.jsonl': '{"messages": []}\n' * 5,
            'eval/arith2.jsonl': '{}\n',
        }
        outputs = {}
        for rel, text in files.items():
            write(os.path.join(self.dir, rel), text)
            data = text.encode('utf-8')
            outputs[rel] = {'bytes': len(data), 'sha256': hashlib.sha256(data).hexdigest()}
        man = {'seeds': dict(recipe_util.DEFAULT_SEEDS), 'mix_target': dict(recipe_util.DEFAULT_MIX),
               'packages': {}, 'outputs': outputs}
        write(os.path.join(self.dir, 'manifest.json'), json.dumps(man))

    def test_matching_corpus(self):
        self.make_corpus()
        self.assertIsNone(recipe_util.corpus_mismatch(self.dir))

    def test_changed_output_or_settings_do_not_match(self):
        self.make_corpus()
        write(os.path.join(self.dir, 'pretrain/en/b.txt'), 'one\n<|endoftext|>\nTWO\n')
        self.assertIn('differs', recipe_util.corpus_mismatch(self.dir))
        self.make_corpus()
        man = json.load(open(os.path.join(self.dir, 'manifest.json')))
        man['seeds']['train'] = 1
        write(os.path.join(self.dir, 'manifest.json'), json.dumps(man))
        self.assertIn('seeds', recipe_util.corpus_mismatch(self.dir))
        self.assertEqual(recipe_util.corpus_mismatch(os.path.join(self.dir, 'nowhere')),
                         'no manifest.json')

    def test_first_docs_keeps_whole_documents(self):
        self.make_corpus()
        path = os.path.join(self.dir, 'pretrain/zh/a.txt')
        self.assertEqual(recipe_util.first_docs(path, 1), '第一篇\n')
        self.assertEqual(recipe_util.first_docs(path, 11), '第一篇\n<|endoftext|>\n第二篇文档\n')
        self.assertEqual(recipe_util.first_docs(path, 10 ** 6),
                         '第一篇\n<|endoftext|>\n第二篇文档\n<|endoftext|>\n第三篇\n')


class CardTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_card_and_svg_from_logs(self):
        cfg = {'dim': 64, 'layers': 2, 'heads': 2, 'kv_heads': 2, 'head_dim': 32, 'ff': 192,
               'vocab': 2048, 'ctx': 128, 'tie_embeddings': False, 'batch': 8, 'seq': 128,
               'accum': 1, 'steps': 300, 'lr': 0.003, 'min_lr': 0.0003, 'warmup': 15,
               'beta1': 0.9, 'beta2': 0.95, 'wd': 0.1, 'clip': 1.0, 'precision': 'f32',
               'threads': 2}
        for stage in ('pretrain', 'sft'):
            write(os.path.join(self.dir, stage, 'ckpt', 'step-00000300', 'state.json'),
                  json.dumps({'config': cfg, 'elapsed_s': 9.5}))
            rows = [{'type': 'train', 'step': s, 'loss': 8 - s / 100, 'tokens': s * 1024,
                     'tokens_per_s': 30000} for s in range(1, 301)]
            rows += [{'type': 'eval', 'step': s, 'val_loss': 8 - s / 90} for s in (100, 200, 300)]
            write(os.path.join(self.dir, stage, 'log.jsonl'),
                  ''.join(json.dumps(r) + '\n' for r in rows))
        sys.argv = ['model_card.py', self.dir, '--corpus', os.path.join(self.dir, 'none')]
        with open(os.devnull, 'w') as null:
            old, sys.stdout = sys.stdout, null
            try:
                self.assertEqual(model_card.main(), 0)
            finally:
                sys.stdout = old
        card = open(os.path.join(self.dir, 'MODEL_CARD.md'), encoding='utf-8').read()
        self.assertIn('0.37 M', card)                 # parameters from the settings
        self.assertIn('![training and validation loss](loss.svg)', card)
        self.assertIn('No eval.json', card)           # missing pieces are said to be missing
        svg = xml.dom.minidom.parse(os.path.join(self.dir, 'loss.svg'))
        self.assertEqual(len(svg.getElementsByTagName('circle')), 6)  # 3 val points x 2 runs

    def test_n_params_matches_the_trainer(self):
        # the trainer printed 0.37M (368,960 by `starfire bench`) for this shape
        cfg = {'dim': 64, 'layers': 2, 'heads': 2, 'kv_heads': 2, 'head_dim': 32, 'ff': 192,
               'vocab': 2048}
        self.assertEqual(model_card.n_params(cfg)['total'], 368960)


if __name__ == '__main__':
    unittest.main()
