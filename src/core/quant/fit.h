// Scale searches shared by the reference quantizers. They follow the same
// arithmetic as llama.cpp's reference quantizers (same candidate grids, same
// float sums in the same order), so a K-quant row quantized here gets the
// bytes llama-quantize writes for the same weights without an importance
// matrix. Q4_1/Q5_1 deliberately differ: llama.cpp uses plain min/max there,
// we search (about 11% lower RMS error).
#pragma once

#include <cmath>
#include <cstdint>

namespace sf::quant {

// Groups searched at once never exceed one 32-element sub-block.
inline constexpr int kMaxGroup = 32;

// Groups whose largest magnitude is below this are stored as all zero: a
// scale fitted to them would overflow its reciprocal.
inline constexpr float kGroupMaxEps = 1e-15f;

// Round half to even, as the quantizers' rounding must be to reproduce
// llama.cpp's bytes (lrintf under the default rounding mode).
inline int nearest_int(float v) {
  return static_cast<int>(std::lrintf(v));
}

inline int clamp_int(int v, int lo, int hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

// The value of largest magnitude (the first on ties), with its sign; its
// magnitude goes to *amax.
float signed_absmax(const float* x, int n, float* amax);

// How fit_affine searches: after the plain min..max grid it tries grids of
// nmax + rmin + k * rstep steps (k = 0..nsteps) from the best offset so far
// to max, solves weighted least squares for (scale, offset) on each, and
// keeps the best.
struct AffineSearch {
  float rmin;
  float rstep;
  int nsteps;
  bool abs_error;           // weigh |error| instead of error² (Q2_K)
  bool offset_nonpositive;  // K-quants store -offset as an unsigned min
};

struct AffineFit {
  float scale;
  float offset;
};

// Fits x[i] ≈ scale * L[i] + offset with L[i] in [0, nmax], minimizing the
// w-weighted error. n <= kMaxGroup. Writes the chosen L.
AffineFit fit_affine(const float* x, const float* w, int n, int nmax, const AffineSearch& search,
                     uint8_t* L);

// One Q4_1/Q5_1 group of kMaxGroup values: fit_affine with unit weights (the
// plain squared error), the scale and offset stored as fp16 bit patterns in
// *d and *m, then each level re-picked against the stored (rounded) values.
void quantize_affine_group(const float* x, int nmax, uint16_t* d, uint16_t* m, uint8_t* L);

// Fits x[i] ≈ scale * (L[i] - nmax) with L[i] in [0, 2*nmax - 1], weighting
// each error by x[i]² so the large values, which dominate a dot product, are
// kept best. Tries the grid that puts the largest |x| at -nmax and 18 grids
// around it, each with its least-squares scale. Returns the scale (its sign
// may be either); 0 for an all-zero group.
float fit_symmetric(const float* x, int n, int nmax, int8_t* L);

// Like fit_symmetric, but from the single absmax grid improves the levels one
// at a time (up to 5 passes) while the weighted error drops. For 3-bit
// groups, where 8 levels make that coordinate search worthwhile.
float fit_symmetric_refined(const float* x, int n, int nmax, int8_t* L);

}  // namespace sf::quant
