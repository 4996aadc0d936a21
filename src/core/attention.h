// Causal attention of many query rows against the cached keys and values of
// one sequence and one key/value head: the part of a decoder layer between the
// q/k/v projections and the output projection.
//
// For each query row r (head_dim floats) that sees the first n_keys[r]
// positions:  out[r] = sum_p softmax_p(scale * q[r] . K[p]) V[p].
//
// The keys are visited in fixed chunks of kAttnChunk positions from position 0
// with an online softmax (running maximum M, running sum L, output rescaled
// by exp(M_old - M_new) per chunk), so no row of scores longer than a chunk is
// ever materialized, however long the context. Callers group the rows that
// share keys (the query heads of one GQA group, for several batch entries of
// the same sequence): each chunk of keys is then brought into cache (and
// transposed, so 16 keys meet one query element per FMA) once for all of them.
//
// Determinism: a row's result depends only on its q, n_keys and the keys and
// values, never on which other rows share the call, their order, or the number
// of threads; so a token decoded alone gets bit-identical attention to the
// same token inside a prompt batch. The AVX-512 kernel and the scalar
// reference perform the same float operations in the same order (per-lane FMA
// chains, the same exp polynomial and the same reduction trees) and agree bit
// for bit; the scalar reference is itself checked against a plain two-pass
// softmax in double precision (tests/core/test_attention.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sf {

inline constexpr int kAttnChunk = 64;  // keys per online-softmax step

struct AttentionRows {
  int count = 0;
  const float* const* q = nullptr;  // q[r]: head_dim floats
  float* const* out = nullptr;      // out[r]: head_dim floats (written)
  const int* n_keys = nullptr;      // row r sees positions 0 .. n_keys[r]-1
};

struct KvRows {
  const float* k = nullptr;  // key of position p at k + p * stride
  const float* v = nullptr;  // value of position p at v + p * stride
  int64_t stride = 0;        // floats between consecutive positions
};

// Floats of scratch one attend() call over up to `rows` rows needs.
size_t attend_scratch_floats(int head_dim, int rows);

// Runs at the active ISA level (core/cpu.h). `scratch` holds
// attend_scratch_floats(head_dim, rows.count) floats, 64-byte alignment not
// required. A row with n_keys 0 gets zeros.
void attend(const AttentionRows& rows, const KvRows& kv, int head_dim, float scale, float* scratch);

}  // namespace sf
