#!/usr/bin/python3
"""PyTorch golden data for Starfire's trainer (tests/train/test_torch_golden.cpp).

For each tiny config it writes tests/data/train/<config>/:
  weights.safetensors  initial parameters, F32, GGUF tensor names and shapes
                       ([out, in] matrices, token_embd [vocab, dim]; no
                       output.weight when the head is tied)
  grads.safetensors    d(loss)/d(param) of that batch, computed in float64
                       (F64) from the same f32 initial values
  final.safetensors    parameters after 10 AdamW steps on that batch (F32 run)
  reference.json       config, tokens/targets/mask, loss (f64 and f32), the
                       learning-rate schedule and per-step lr, the exact
                       AdamW / clipping formulas, the loss before every step
                       and after the last, the f32-vs-f64 gradient noise of
                       torch itself, torch version

The decoder is written out in plain torch (no transformers) to match the
engine's forward pass (src/models/decoder.cpp) on GGUF-layout weights:
  x = token_embd[tokens]
  per layer: h = rmsnorm(x) * attn_norm; q,k,v = h W^T (+ bias, qwen2);
             qwen3: per-head rmsnorm(q) * attn_q_norm, rmsnorm(k) * attn_k_norm;
             RoPE: theta_i = pos * base^(-2i/head_dim), i < head_dim/2, angle
             in float64, cos/sin rounded to the compute dtype;
             "norm" (llama) rotates pairs (2i, 2i+1), "neox" (qwen) (i, i+d/2);
             causal softmax(q k^T / sqrt(head_dim)) v, query head h reads kv
             head h / (n_head / n_head_kv); x += att W_o^T;
             h = rmsnorm(x) * ffn_norm; x += (silu(h W_gate^T) * (h W_up^T)) W_down^T
  logits = (rmsnorm(x) * output_norm) W_out^T, W_out = token_embd when tied
  rmsnorm(x) = x / sqrt(mean(x^2) + eps)
  loss = sum_{b,t} mask[b,t] * CE(logits[b,t], targets[b,t]) / sum mask
Positions are 0..T-1 in every row of the batch.

Needs Debian's python3-torch (apt-get install python3-torch); CI does not run
this, only the committed outputs are used.
Run from the repository root:  /usr/bin/python3 tests/train/make_reference.py
  [--engine build/release/starfire]   also checks the engine's logits on the
  initial weights (written as a GGUF) against this forward pass (<= 1e-4)
"""
import json
import math
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "train")

B, T = 2, 12
STEPS = 10
LR_MAX, LR_MIN, WARMUP = 1e-2, 1e-3, 2
BETA1, BETA2, ADAM_EPS, WEIGHT_DECAY = 0.9, 0.95, 1e-8, 0.1
CLIP = 1.0

CONFIGS = {
    # (a) llama: untied head, adjacent-pair RoPE, GQA 4/2.
    "llama": dict(arch="llama", n_vocab=64, n_embd=32, n_layer=2, n_head=4, n_head_kv=2,
                  head_dim=8, n_ff=48, rms_eps=1e-5, rope_base=10000.0, rope_mode="norm",
                  tied_output=False, qkv_bias=False, qk_norm=False, seed=1234),
    # (b) qwen3-like: tied head, per-head q/k RMSNorm, NeoX RoPE, and an
    # explicit head_dim (16) that differs from n_embd / n_head (8), as real
    # Qwen3 models have (q_dim 64 != n_embd 32).
    "qwen3": dict(arch="qwen3", n_vocab=64, n_embd=32, n_layer=2, n_head=4, n_head_kv=2,
                  head_dim=16, n_ff=48, rms_eps=1e-6, rope_base=1000000.0, rope_mode="neox",
                  tied_output=True, qkv_bias=False, qk_norm=True, seed=5678),
    # (c) qwen2-like: tied head, q/k/v biases, NeoX RoPE (one layer, to stay small).
    "qwen2": dict(arch="qwen2", n_vocab=64, n_embd=32, n_layer=1, n_head=4, n_head_kv=2,
                  head_dim=8, n_ff=48, rms_eps=1e-6, rope_base=1000000.0, rope_mode="neox",
                  tied_output=True, qkv_bias=True, qk_norm=False, seed=91011),
}


# ---------------------------------------------------------------- parameters

def param_shapes(c):
    """(name, shape, decay) in the order the trainer lays them out."""
    E, Q, KV, F, HD = c["n_embd"], c["n_head"] * c["head_dim"], c["n_head_kv"] * c["head_dim"], \
        c["n_ff"], c["head_dim"]
    out = [("token_embd.weight", [c["n_vocab"], E], True)]
    for l in range(c["n_layer"]):
        p = f"blk.{l}."
        out.append((p + "attn_norm.weight", [E], False))
        out.append((p + "attn_q.weight", [Q, E], True))
        out.append((p + "attn_k.weight", [KV, E], True))
        out.append((p + "attn_v.weight", [KV, E], True))
        if c["qkv_bias"]:
            out.append((p + "attn_q.bias", [Q], False))
            out.append((p + "attn_k.bias", [KV], False))
            out.append((p + "attn_v.bias", [KV], False))
        if c["qk_norm"]:
            out.append((p + "attn_q_norm.weight", [HD], False))
            out.append((p + "attn_k_norm.weight", [HD], False))
        out.append((p + "attn_output.weight", [E, Q], True))
        out.append((p + "ffn_norm.weight", [E], False))
        out.append((p + "ffn_gate.weight", [F, E], True))
        out.append((p + "ffn_up.weight", [F, E], True))
        out.append((p + "ffn_down.weight", [E, F], True))
    out.append(("output_norm.weight", [E], False))
    if not c["tied_output"]:
        out.append(("output.weight", [c["n_vocab"], E], True))
    return out


def init_params(c, gen):
    """float32: matrices N(0, 0.1^2), norm weights 1 + 0.1 N(0,1), biases 0.1 N(0,1)."""
    P = {}
    for name, shape, _ in param_shapes(c):
        noise = torch.randn(shape, generator=gen, dtype=torch.float32)
        if len(shape) == 2:
            P[name] = 0.1 * noise
        elif name.endswith(".bias"):
            P[name] = 0.1 * noise
        else:
            P[name] = 1.0 + 0.1 * noise
    return P


# ---------------------------------------------------------------- forward pass

def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope_tables(c, T_, dtype):
    """cos, sin [T, head_dim/2]: angle pos * base^(-2i/head_dim) in float64."""
    hd = c["head_dim"]
    i = torch.arange(hd // 2, dtype=torch.float64)
    inv_freq = torch.pow(torch.tensor(c["rope_base"], dtype=torch.float64), -2.0 * i / hd)
    ang = torch.arange(T_, dtype=torch.float64)[:, None] * inv_freq[None, :]
    return torch.cos(ang).to(dtype), torch.sin(ang).to(dtype)


def apply_rope(x, cos, sin, mode):
    """x [B, T, H, hd]; cos/sin [T, hd/2]."""
    cos, sin = cos[None, :, None, :], sin[None, :, None, :]
    if mode == "norm":
        a, b = x[..., 0::2], x[..., 1::2]
        ra, rb = a * cos - b * sin, a * sin + b * cos
        return torch.stack((ra, rb), dim=-1).flatten(-2)
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    return torch.cat((a * cos - b * sin, a * sin + b * cos), dim=-1)


def forward_logits(c, P, tokens):
    """tokens [B, T] int64 -> logits [B, T, V] in the dtype of P."""
    Bn, Tn = tokens.shape
    H, KVH, HD = c["n_head"], c["n_head_kv"], c["head_dim"]
    eps = c["rms_eps"]
    dtype = P["token_embd.weight"].dtype
    cos, sin = rope_tables(c, Tn, dtype)
    causal = torch.ones(Tn, Tn, dtype=torch.bool).tril()
    x = P["token_embd.weight"][tokens]
    for l in range(c["n_layer"]):
        p = f"blk.{l}."
        h = rms_norm(x, P[p + "attn_norm.weight"], eps)
        q = h @ P[p + "attn_q.weight"].t()
        k = h @ P[p + "attn_k.weight"].t()
        v = h @ P[p + "attn_v.weight"].t()
        if c["qkv_bias"]:
            q = q + P[p + "attn_q.bias"]
            k = k + P[p + "attn_k.bias"]
            v = v + P[p + "attn_v.bias"]
        q = q.view(Bn, Tn, H, HD)
        k = k.view(Bn, Tn, KVH, HD)
        v = v.view(Bn, Tn, KVH, HD)
        if c["qk_norm"]:
            q = rms_norm(q, P[p + "attn_q_norm.weight"], eps)
            k = rms_norm(k, P[p + "attn_k_norm.weight"], eps)
        q = apply_rope(q, cos, sin, c["rope_mode"])
        k = apply_rope(k, cos, sin, c["rope_mode"])
        group = H // KVH  # query head h reads kv head h // group
        k = k.repeat_interleave(group, dim=2)
        v = v.repeat_interleave(group, dim=2)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # [B, H, T, hd]
        s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(HD))
        s = s.masked_fill(~causal, float("-inf"))
        att = torch.softmax(s, dim=-1) @ v
        att = att.transpose(1, 2).reshape(Bn, Tn, H * HD)
        x = x + att @ P[p + "attn_output.weight"].t()
        h = rms_norm(x, P[p + "ffn_norm.weight"], eps)
        g = h @ P[p + "ffn_gate.weight"].t()
        u = h @ P[p + "ffn_up.weight"].t()
        x = x + (torch.nn.functional.silu(g) * u) @ P[p + "ffn_down.weight"].t()
    h = rms_norm(x, P["output_norm.weight"], eps)
    w_out = P["token_embd.weight"] if c["tied_output"] else P["output.weight"]
    return h @ w_out.t()


def masked_loss(c, P, tokens, targets, mask):
    logits = forward_logits(c, P, tokens)
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, c["n_vocab"]), targets.reshape(-1),
                                           reduction="none")
    m = mask.reshape(-1).to(ce.dtype)
    return (ce * m).sum() / m.sum()


# ---------------------------------------------------------------- optimizer

def lr_at(step):
    """1-based step. Linear warmup to LR_MAX over WARMUP steps, then cosine to
    LR_MIN at step STEPS."""
    if step <= WARMUP:
        return LR_MAX * step / WARMUP
    progress = (step - WARMUP) / (STEPS - WARMUP)
    return LR_MIN + 0.5 * (LR_MAX - LR_MIN) * (1.0 + math.cos(math.pi * progress))


SCHEDULE_TEXT = (f"lr(step), step = 1..{STEPS} (1-based): step <= warmup ({WARMUP}): lr_max * step / warmup; "
                 "else lr_min + 0.5 * (lr_max - lr_min) * (1 + cos(pi * (step - warmup) / "
                 "(total - warmup))); lr_max 1e-2, lr_min 1e-3, total 10; computed in double, "
                 "used as float")
CLIP_TEXT = ("torch.nn.utils.clip_grad_norm_(params, max_norm=1.0) over ALL parameters: "
             "total = sqrt(sum over tensors of ||g_t||_2^2) (per-tensor f32 norms, then the "
             "2-norm of those); coef = max_norm / (total + 1e-6); if coef < 1: g *= coef "
             "(torch multiplies by min(coef, 1) always); returns total (pre-clip)")
ADAMW_TEXT = ("torch.optim.AdamW (foreach=False, amsgrad=False, maximize=False), per element, step t "
              "1-based, lr = lr(t): p *= 1 - lr * wd (wd = 0.1 for 2-D weights incl. token_embd and "
              "output; 0 for 1-D norm weights and biases); m = b1 m + (1 - b1) g (torch 1.13: "
              "m.mul_(b1).add_(g, alpha=1-b1); torch 2.x: m.lerp_(g, 1-b1)); v = b2 v + "
              "(1 - b2) g^2; bc1 = 1 - b1^t; bc2 = 1 - b2^t; p -= (lr / bc1) * m / (sqrt(v) / "
              "sqrt(bc2) + eps); b1 0.9, b2 0.95, eps 1e-8; m, v start at 0; all in float32")


def train(c, P0, tokens, targets, mask, dtype):
    """10 steps: zero grads, loss+backward, clip, AdamW. Returns (losses, norms, final P)."""
    names = [n for n, _, _ in param_shapes(c)]
    decay = {n: d for n, _, d in param_shapes(c)}
    P = {n: P0[n].detach().clone().to(dtype).requires_grad_(True) for n in names}
    opt = torch.optim.AdamW(
        [{"params": [P[n] for n in names if decay[n]], "weight_decay": WEIGHT_DECAY},
         {"params": [P[n] for n in names if not decay[n]], "weight_decay": 0.0}],
        lr=LR_MAX, betas=(BETA1, BETA2), eps=ADAM_EPS, foreach=False)
    # The same update written out, as a check that the formula we state is
    # what torch does.
    Pm = {n: P0[n].detach().clone().to(dtype) for n in names}
    mm = {n: torch.zeros_like(Pm[n]) for n in names}
    vv = {n: torch.zeros_like(Pm[n]) for n in names}
    losses, norms, manual_diff = [], [], 0.0
    for step in range(1, STEPS + 1):
        lr = lr_at(step)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss = masked_loss(c, P, tokens, targets, mask)
        loss.backward()
        losses.append(loss.item())
        grads = {n: P[n].grad.detach().clone() for n in names}
        norm = torch.nn.utils.clip_grad_norm_([P[n] for n in names], CLIP)
        norms.append(norm.item())
        opt.step()
        # manual: same clip coefficient applied to the same grads
        coef = min(CLIP / (norm.item() + 1e-6), 1.0)
        for n in names:
            g = grads[n] * coef
            wd = WEIGHT_DECAY if decay[n] else 0.0
            Pm[n].mul_(1 - lr * wd)
            mm[n].mul_(BETA1).add_(g, alpha=1 - BETA1)
            vv[n].mul_(BETA2).addcmul_(g, g, value=1 - BETA2)
            bc1, bc2 = 1 - BETA1 ** step, 1 - BETA2 ** step
            Pm[n].addcdiv_(mm[n], vv[n].sqrt() / math.sqrt(bc2) + ADAM_EPS, value=-lr / bc1)
            manual_diff = max(manual_diff, (Pm[n] - P[n].detach()).abs().max().item())
            Pm[n].copy_(P[n].detach())  # keep the two runs in lock step
    with torch.no_grad():
        final_loss = masked_loss(c, P, tokens, targets, mask).item()
    return losses, norms, final_loss, {n: P[n].detach() for n in names}, manual_diff


# ---------------------------------------------------------------- output

def write_safetensors(path, tensors, dtype_name):
    """tensors: list of (name, tensor) written as F32 or F64; header padded to 8 bytes."""
    tdt = {"F32": torch.float32, "F64": torch.float64}[dtype_name]
    header, offset, blobs = {}, 0, []
    for name, t in tensors:
        data = t.detach().contiguous().to(tdt).numpy().tobytes()
        header[name] = {"dtype": dtype_name, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make(name, c):
    gen = torch.Generator().manual_seed(c["seed"])
    P0 = init_params(c, gen)
    seqs = torch.randint(0, c["n_vocab"], (B, T + 1), generator=gen)
    tokens, targets = seqs[:, :T].contiguous(), seqs[:, 1:].contiguous()
    # Row 0: a 4-token "prompt" outside the loss; row 1: the last 3 out.
    mask = torch.ones(B, T, dtype=torch.float32)
    mask[0, :4] = 0
    mask[1, T - 3:] = 0
    names = [n for n, _, _ in param_shapes(c)]

    def loss_and_grads(dtype):
        P = {n: P0[n].clone().to(dtype).requires_grad_(True) for n in names}
        loss = masked_loss(c, P, tokens, targets, mask)
        loss.backward()
        return loss.item(), {n: P[n].grad.detach() for n in names}

    loss64, g64 = loss_and_grads(torch.float64)
    loss32, g32 = loss_and_grads(torch.float32)
    grad_stats = {}
    for n in names:
        gmax = g64[n].abs().max().item()
        diff = (g32[n].double() - g64[n]).abs().max().item()
        grad_stats[n] = {"max_abs": gmax, "torch_f32_max_abs_diff": diff}

    losses, norms, final_loss, Pf, manual_diff = train(c, P0, tokens, targets, mask, torch.float32)
    losses64, norms64, final_loss64, Pf64, _ = train(c, P0, tokens, targets, mask, torch.float64)
    final_noise = max((Pf[n].double() - Pf64[n]).abs().max().item() for n in names)
    final_change = max((Pf[n] - P0[n]).abs().max().item() for n in names)

    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, "weights.safetensors"), [(n, P0[n]) for n in names], "F32")
    write_safetensors(os.path.join(d, "grads.safetensors"), [(n, g64[n]) for n in names], "F64")
    write_safetensors(os.path.join(d, "final.safetensors"), [(n, Pf[n]) for n in names], "F32")

    cfg = {k: v for k, v in c.items() if k != "seed"}
    ref = {
        "config": cfg,
        "init_seed": c["seed"],
        "init": "torch.Generator().manual_seed(seed); per tensor in layout order torch.randn: "
                "2-D 0.1*N, norm weights 1+0.1*N, biases 0.1*N (float32); then tokens",
        "B": B, "T": T,
        "positions": "0..T-1 in every row",
        "tokens": tokens.tolist(), "targets": targets.tolist(), "mask": mask.tolist(),
        "loss_definition": "sum(mask * CE) / sum(mask) over the B*T positions (mask is 0/1)",
        "loss_f64": loss64, "loss_f32": loss32,
        "grads": "grads.safetensors: float64 d(loss_f64)/d(param) at weights.safetensors",
        "grad_stats": grad_stats,
        "params": [{"name": n, "shape": s, "decay": dcy} for n, s, dcy in param_shapes(c)],
        "optimizer": {
            "steps": STEPS, "lr_max": LR_MAX, "lr_min": LR_MIN, "warmup": WARMUP,
            "beta1": BETA1, "beta2": BETA2, "eps": ADAM_EPS, "weight_decay": WEIGHT_DECAY,
            "clip_max_norm": CLIP,
            "schedule": SCHEDULE_TEXT,
            "lr": [lr_at(s) for s in range(1, STEPS + 1)],
            "clip": CLIP_TEXT,
            "adamw": ADAMW_TEXT,
            "step_order": "each step: grads = 0; loss, grads = forward_backward (loss recorded "
                          "here, before the update); clip; AdamW(step, lr(step))",
            "manual_vs_torch_adamw_max_abs_diff": manual_diff,
        },
        "losses": losses,
        "grad_norms_pre_clip": norms,
        "final_loss": final_loss,
        "final": "final.safetensors: params after the 10th update (float32 run)",
        "f64_run": {"losses": losses64, "grad_norms_pre_clip": norms64, "final_loss": final_loss64,
                    "final_params_max_abs_diff_f32_vs_f64": final_noise},
        "final_params_max_abs_change": final_change,
        "torch_version": torch.__version__,
    }
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    sizes = sum(os.path.getsize(os.path.join(d, x)) for x in os.listdir(d))
    print(f"{name}: loss f64 {loss64:.10f} f32 {loss32:.10f}; losses {losses[0]:.5f} -> "
          f"{losses[-1]:.5f}, final {final_loss:.5f}; grad noise f32 "
          f"{max(s['torch_f32_max_abs_diff'] for s in grad_stats.values()):.2e}; final params "
          f"f32 vs f64 {final_noise:.2e}; manual AdamW diff {manual_diff:.1e}; {sizes} bytes")


# ---------------------------------------------------------------- engine check

def write_gguf(path, c, P):
    """A GGUF v3 file (F32 tensors) of config c and parameters P, for the engine."""
    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b
    arch = c["arch"]
    kv = [("general.architecture", 8, s(arch)), ("general.name", 8, s("torch-golden")),
          (arch + ".context_length", 4, struct.pack("<I", 64)),
          (arch + ".embedding_length", 4, struct.pack("<I", c["n_embd"])),
          (arch + ".block_count", 4, struct.pack("<I", c["n_layer"])),
          (arch + ".feed_forward_length", 4, struct.pack("<I", c["n_ff"])),
          (arch + ".attention.head_count", 4, struct.pack("<I", c["n_head"])),
          (arch + ".attention.head_count_kv", 4, struct.pack("<I", c["n_head_kv"])),
          (arch + ".attention.layer_norm_rms_epsilon", 6, struct.pack("<f", c["rms_eps"])),
          (arch + ".rope.freq_base", 6, struct.pack("<f", c["rope_base"])),
          ("general.alignment", 4, struct.pack("<I", 32))]
    if arch == "qwen3":
        kv += [(arch + ".attention.key_length", 4, struct.pack("<I", c["head_dim"])),
               (arch + ".attention.value_length", 4, struct.pack("<I", c["head_dim"]))]
    names = [n for n, _, _ in param_shapes(c)]
    head = b"GGUF" + struct.pack("<IQQ", 3, len(names), len(kv))
    for k, t, v in kv:
        head += s(k) + struct.pack("<I", t) + v
    blobs, off = [], 0
    for n in names:
        t = P[n].detach().to(torch.float32).contiguous()
        dims = list(reversed(t.shape))  # GGUF: innermost dimension first
        head += s(n) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        head += struct.pack("<IQ", 0, off)  # type F32, offset
        data = t.numpy().tobytes()
        data += b"\0" * ((32 - len(data) % 32) % 32)
        blobs.append(data)
        off += len(data)
    head += b"\0" * ((32 - len(head) % 32) % 32)
    with open(path, "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)


def check_engine(engine):
    """The engine's logits (starfire logits, scalar kernels) on each config's
    initial weights vs this file's forward pass in float64."""
    import subprocess
    import tempfile
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, c in CONFIGS.items():
            d = os.path.join(OUT, name)
            with open(os.path.join(d, "reference.json")) as f:
                ref = json.load(f)
            P = read_safetensors(os.path.join(d, "weights.safetensors"))
            path = os.path.join(tmp, name + ".gguf")
            write_gguf(path, c, P)
            P64 = {n: t.double() for n, t in P.items()}
            for row in ref["tokens"]:
                want = forward_logits(c, P64, torch.tensor([row]))[0]
                out = subprocess.run([engine, "logits", "-m", path, "--prompt-ids",
                                      ",".join(map(str, row)), "--json", "-t", "1"],
                                     capture_output=True, text=True, check=True,
                                     env=dict(os.environ, STARFIRE_ISA="scalar"))
                got = torch.tensor(json.loads(out.stdout)["logits"], dtype=torch.float64)
                diff = (got - want).abs().max().item()
                worst = max(worst, diff)
                print(f"engine {name}: max |logit diff| {diff:.2e} (max |logit| "
                      f"{want.abs().max().item():.2f})")
    if worst > 1e-4:
        raise SystemExit(f"engine logits differ from the torch forward by {worst:.2e} > 1e-4")


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dt = {"F32": torch.float32, "F64": torch.float64}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:end]), dtype=dt[e["dtype"]]).reshape(e["shape"])
    return out


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engine", help="also compare `ENGINE logits` on each config's weights "
                    "(written as a GGUF) with this forward pass, e.g. build/release/starfire")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for name, c in CONFIGS.items():
        make(name, c)
    if args.engine:
        check_engine(args.engine)


if __name__ == "__main__":
    main()
