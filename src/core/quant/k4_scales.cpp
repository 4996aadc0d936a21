#include "core/quant/k4_scales.h"

#include <cmath>

#include "core/fp16.h"
#include "core/quant_blocks.h"

namespace sf::quant {

void quantize_k4_superblock(const float* x, int nmax, const AffineSearch& search, K4Header* h,
                            uint8_t* L) {
  float scales[8], mins[8];
  float max_scale = 0, max_min = 0;
  for (int s = 0; s < 8; ++s) {
    const float* xs = x + 32 * s;
    // Weights rms + |x|: every value counts, large ones more, as they
    // dominate dot products.
    float sum_x2 = 0;
    for (int j = 0; j < 32; ++j) sum_x2 += xs[j] * xs[j];
    const float av_x = std::sqrt(sum_x2 / 32);
    float w[32];
    for (int j = 0; j < 32; ++j) w[j] = av_x + std::fabs(xs[j]);
    const AffineFit fit = fit_affine(xs, w, 32, nmax, search, L + 32 * s);
    scales[s] = fit.scale;
    mins[s] = -fit.offset;
    if (scales[s] > max_scale) max_scale = scales[s];
    if (mins[s] > max_min) max_min = mins[s];
  }

  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[8], lm[8];
  for (int s = 0; s < 8; ++s) {
    ls[s] = static_cast<uint8_t>(clamp_int(nearest_int(inv_scale * scales[s]), 0, 63));
    lm[s] = static_cast<uint8_t>(clamp_int(nearest_int(inv_min * mins[s]), 0, 63));
  }
  k4_pack_scales(ls, lm, h->scales);
  h->d = f32_to_fp16(max_scale / 63.f);
  h->dmin = f32_to_fp16(max_min / 63.f);

  // Re-pick levels against the stored (quantized) scales and mins.
  const float d = fp16_to_f32(h->d), dmin = fp16_to_f32(h->dmin);
  for (int s = 0; s < 8; ++s) {
    uint8_t sc, mn;
    k4_scale_min(s, h->scales, &sc, &mn);
    const float ds = d * sc;
    if (!ds) continue;
    const float ms = dmin * mn;
    for (int e = 32 * s; e < 32 * s + 32; ++e)
      L[e] = static_cast<uint8_t>(clamp_int(nearest_int((x[e] + ms) / ds), 0, nmax));
  }
}

}  // namespace sf::quant
