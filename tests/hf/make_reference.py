#!/usr/bin/python3
"""Writes tiny random-weight Hugging Face model folders and PyTorch reference
logits for Starfire's HF tests (tests/models/test_hf_models.cpp).

For each family (LlamaForCausalLM with Llama 3 rope scaling, MistralForCausalLM
with a sliding window and linear rope scaling, Qwen2ForCausalLM with q/k/v
bias and tied embeddings, Qwen3ForCausalLM with q/k norms and an explicit
head_dim) it writes tests/data/hf/<name>/:
  config.json, model.safetensors (f32), tokenizer.json, tokenizer_config.json,
  reference.json  {"prompt_ids": [...], "n_vocab": V}
  logits.f32      float32 logits of every prompt position, row-major [T, V]

The forward pass is written out in plain torch following transformers'
modeling_{llama,mistral,qwen2,qwen3}.py (RMSNorm in f32, rotate-half RoPE with
cos/sin of cat(freqs, freqs), repeat_kv GQA, causal softmax, SiLU-gated MLP),
because Debian packages torch but not transformers. Needs Debian's
python3-torch; CI does not run this, only the committed outputs are used.

Run from the repository root:  /usr/bin/python3 tests/hf/make_reference.py
"""
import json
import math
import os
import struct
import sys

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "hf")
PROMPT = [1, 17, 42, 250, 7, 99, 311, 5, 64, 128, 200, 33, 12, 280, 3, 77]
TEXT = "the theory of the three thin things: then they thought it through."


# ---------------------------------------------------------------- tokenizers

def bytes_to_unicode():
    """GPT-2's byte -> printable character map (byte-level BPE alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def learn_merges(words, n_merges):
    """Plain BPE training over a list of symbol lists; returns merges in rank order."""
    words = [list(w) for w in words]
    merges = []
    for _ in range(n_merges):
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            break
        best = max(sorted(counts), key=lambda p: counts[p])
        if counts[best] < 2:
            break
        merges.append(best)
        for w in words:
            i = 0
            while i < len(w) - 1:
                if (w[i], w[i + 1]) == best:
                    w[i:i + 2] = [w[i] + w[i + 1]]
                else:
                    i += 1
    return merges


QWEN_SPLIT = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"
              "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
LLAMA3_SPLIT = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
                "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")

CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
          " + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
          "{% endif %}")
LLAMA3_CHAT = ("{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
               "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
               "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
               "{% endif %}")
MISTRAL_CHAT = ("{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
                "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ message['content'] + eos_token }}"
                "{% endif %}{% endfor %}")


def added(i, content, special=True):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": not special, "special": special}


def byte_level_tokenizer(style):
    """A tiny byte-level BPE tokenizer.json in the style of Qwen2 or Llama 3."""
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: i for i, b in enumerate(sorted(b2u))}
    words = ["".join(b2u[c] for c in (" " + w if k else w).encode()) for k, w in enumerate(TEXT.split(" "))]
    merges = learn_merges(words * 3, 40)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    if style == "qwen":
        specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        split = QWEN_SPLIT
    else:
        specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                    "<|end_header_id|>", "<|eot_id|>"]
        split = LLAMA3_SPLIT
    added_tokens = []
    for s in specials:
        added_tokens.append(added(len(vocab), s))
        vocab[s] = len(vocab)
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    tok = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added_tokens,
        "normalizer": {"type": "NFC"} if style == "qwen" else None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": split}, "behavior": "Isolated", "invert": False},
            byte_level]},
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": style != "qwen", "vocab": vocab,
                  "merges": [a + " " + b for a, b in merges]},
    }
    if style == "qwen":
        cfg = {"add_bos_token": False, "bos_token": None, "eos_token": "<|im_end|>",
               "pad_token": "<|endoftext|>", "chat_template": CHATML,
               "tokenizer_class": "Qwen2Tokenizer"}
    else:
        bos = vocab["<|begin_of_text|>"]
        tok["post_processor"] = {"type": "Sequence", "processors": [
            byte_level,
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                        {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                      {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}},
                      {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [bos],
                                                      "tokens": ["<|begin_of_text|>"]}}}]}
        cfg = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "chat_template": LLAMA3_CHAT,
               "tokenizer_class": "PreTrainedTokenizerFast"}
    return tok, cfg, len(vocab)


def spm_style_tokenizer():
    """A tiny SentencePiece-style BPE tokenizer.json (Llama 2 / Mistral layout):
    <unk> <s> </s>, 256 byte-fallback tokens, single characters, then merged
    pieces in merge order (so merge rank == id order, as in converted SPM models)."""
    meta = "\u2581"
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    text = meta + TEXT.replace(" ", meta)
    for ch in sorted(set(text)):
        vocab[ch] = len(vocab)
    words = [meta + w for w in TEXT.split(" ")]
    merges = learn_merges(words * 3, 40)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    tok = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": meta},
            {"type": "Replace", "pattern": {"String": " "}, "content": meta}]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": meta}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
                  "ignore_merges": False, "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
    }
    cfg = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
           "unk_token": "<unk>", "chat_template": MISTRAL_CHAT, "tokenizer_class": "LlamaTokenizer"}
    return tok, cfg, len(vocab)


# ---------------------------------------------------------------- safetensors

def write_safetensors(path, tensors):
    """tensors: list of (name, float32 torch tensor). Header padded to 8 bytes."""
    header, offset, blobs = {}, 0, []
    for name, t in tensors:
        data = t.contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------- forward pass

def rms_norm(x, w, eps):
    x32 = x.to(torch.float32)
    var = x32.pow(2).mean(-1, keepdim=True)
    return w * (x32 * torch.rsqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def inv_freq_for(cfg):
    hd = cfg["head_dim"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    rs = cfg.get("rope_scaling")
    if rs and rs.get("rope_type") == "linear":
        inv = inv / rs["factor"]
    if rs and rs.get("rope_type") == "llama3":  # transformers' _compute_llama3_parameters
        factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wl, high_wl = old / lo, old / hi
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        inv = torch.where(medium, smoothed, inv_l)
    return inv


def forward(cfg, W, ids):
    T = len(ids)
    H, KV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    x = W["model.embed_tokens.weight"][torch.tensor(ids)]
    pos = torch.arange(T, dtype=torch.float32)
    freqs = pos[:, None] * inv_freq_for(cfg)[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((T, T), float("-inf")).triu(1)
    win = cfg.get("sliding_window")
    if win:  # Mistral: a token sees at most `win` positions back (none here: T < win)
        mask = mask + torch.full((T, T), float("-inf")).tril(-win)
    for l in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % l
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)

        def proj(name):
            y = h @ W[p + "self_attn.%s_proj.weight" % name].T
            b = W.get(p + "self_attn.%s_proj.bias" % name)
            return y if b is None else y + b

        q = proj("q").view(T, H, hd)
        k = proj("k").view(T, KV, hd)
        v = proj("v").view(T, KV, hd)
        if p + "self_attn.q_norm.weight" in W:
            q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps)
        q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = H // KV
        k = k[:, None].expand(KV, rep, T, hd).reshape(H, T, hd)
        v = v[:, None].expand(KV, rep, T, hd).reshape(H, T, hd)
        att = (q @ k.transpose(1, 2)) / math.sqrt(hd) + mask
        att = torch.softmax(att.float(), dim=-1)
        o = (att @ v).transpose(0, 1).reshape(T, H * hd)
        x = x + o @ W[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = torch.nn.functional.silu(h @ W[p + "mlp.gate_proj.weight"].T)
        u = h @ W[p + "mlp.up_proj.weight"].T
        x = x + (g * u) @ W[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    return x @ head.T


# ---------------------------------------------------------------- models

def make(name, arch, extra, tok_style, seed):
    gen = torch.Generator().manual_seed(seed)
    if tok_style == "spm":
        tok, tok_cfg, n_tok = spm_style_tokenizer()
    else:
        tok, tok_cfg, n_tok = byte_level_tokenizer(tok_style)
    cfg = {
        "architectures": [arch], "vocab_size": 320, "hidden_size": 64, "intermediate_size": 96,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "max_position_embeddings": 512, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
        "hidden_act": "silu", "tie_word_embeddings": False, "torch_dtype": "float32",
        "_name_or_path": "starfire-test/tiny-" + name,
    }
    cfg.update(extra)
    assert n_tok <= cfg["vocab_size"], n_tok
    hd = cfg.get("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    E, F, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]

    def randn(*shape, std=0.08, mean=0.0):
        return torch.randn(*shape, generator=gen) * std + mean

    tensors = [("model.embed_tokens.weight", randn(V, E, std=0.5))]
    for l in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % l
        tensors += [
            (p + "input_layernorm.weight", randn(E, std=0.1, mean=1.0)),
            (p + "self_attn.q_proj.weight", randn(H * hd, E, std=0.2)),
            (p + "self_attn.k_proj.weight", randn(KV * hd, E, std=0.2)),
            (p + "self_attn.v_proj.weight", randn(KV * hd, E)),
            (p + "self_attn.o_proj.weight", randn(E, H * hd)),
        ]
        if arch == "Qwen2ForCausalLM":
            tensors += [(p + "self_attn.%s_proj.bias" % n, randn(s, std=0.1))
                        for n, s in (("q", H * hd), ("k", KV * hd), ("v", KV * hd))]
        if arch == "Qwen3ForCausalLM":
            tensors += [(p + "self_attn.q_norm.weight", randn(hd, std=0.1, mean=1.0)),
                        (p + "self_attn.k_norm.weight", randn(hd, std=0.1, mean=1.0))]
        tensors += [
            (p + "post_attention_layernorm.weight", randn(E, std=0.1, mean=1.0)),
            (p + "mlp.gate_proj.weight", randn(F, E, std=0.15)),
            (p + "mlp.up_proj.weight", randn(F, E, std=0.15)),
            (p + "mlp.down_proj.weight", randn(E, F, std=0.15)),
        ]
    tensors.append(("model.norm.weight", randn(E, std=0.1, mean=1.0)))
    if not cfg["tie_word_embeddings"]:
        tensors.append(("lm_head.weight", randn(V, E, std=0.3)))
    W = dict(tensors)

    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
    with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tok_cfg, f, ensure_ascii=False, indent=2)
    write_safetensors(os.path.join(d, "model.safetensors"), tensors)
    rcfg = dict(cfg, head_dim=hd)
    if arch != "MistralForCausalLM":
        rcfg.pop("sliding_window", None)
    with torch.no_grad():
        logits = forward(rcfg, W, PROMPT)
    with open(os.path.join(d, "logits.f32"), "wb") as f:
        f.write(logits.to(torch.float32).numpy().tobytes())
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump({"prompt_ids": PROMPT, "n_vocab": V, "text": TEXT,
                   "generator": "tests/hf/make_reference.py (torch %s)" % torch.__version__}, f, indent=2)
    print(name, "logits", tuple(logits.shape), "max|x|=%.3f" % logits.abs().max().item())


def main():
    torch.set_num_threads(1)
    make("llama", "LlamaForCausalLM",
         {"rope_theta": 500000.0,
          "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                           "high_freq_factor": 4.0, "original_max_position_embeddings": 64}},
         "llama3", 1)
    make("mistral", "MistralForCausalLM",
         {"sliding_window": 256, "rope_scaling": {"rope_type": "linear", "factor": 2.0}}, "spm", 2)
    make("qwen2", "Qwen2ForCausalLM",
         {"tie_word_embeddings": True, "rope_theta": 1000000.0, "use_sliding_window": False,
          "sliding_window": 4096}, "qwen", 3)
    make("qwen3", "Qwen3ForCausalLM",
         {"tie_word_embeddings": True, "head_dim": 32, "rope_theta": 1000000.0, "attention_bias": False},
         "qwen", 4)


if __name__ == "__main__":
    sys.exit(main())
