#include "core/quant/fit.h"

#include "core/fp16.h"
#include "core/status.h"

namespace sf::quant {
namespace {

float error_of(float diff, bool abs_error) {
  return abs_error ? std::fabs(diff) : diff * diff;
}

}  // namespace

float signed_absmax(const float* x, int n, float* amax_out) {
  float amax = 0, max = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  *amax_out = amax;
  return max;
}

AffineFit fit_affine(const float* x, const float* w, int n, int nmax, const AffineSearch& search,
                     uint8_t* L) {
  SF_CHECK(n > 0 && n <= kMaxGroup, "fit_affine group size");
  float min = x[0], max = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (search.offset_nonpositive && min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return {0.f, min};
  }

  float iscale = nmax / (max - min);
  AffineFit best{1 / iscale, min};
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = static_cast<uint8_t>(clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax));
    best_error += w[i] * error_of(best.scale * L[i] + min - x[i], search.abs_error);
  }

  uint8_t trial[kMaxGroup];
  for (int step = 0; step <= search.nsteps; ++step) {
    iscale = (search.rmin + search.rstep * step + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
      trial[i] = static_cast<uint8_t>(l);
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    // Normal equations of the 2x2 weighted least-squares problem.
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;
    float scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float offset = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (search.offset_nonpositive && offset > 0) {
      offset = 0;
      scale = sum_xl / sum_l2;
    }
    float err = 0;
    for (int i = 0; i < n; ++i)
      err += w[i] * error_of(scale * trial[i] + offset - x[i], search.abs_error);
    if (err < best_error) {
      for (int i = 0; i < n; ++i) L[i] = trial[i];
      best_error = err;
      best = {scale, offset};
      // Later grids start from the best offset so far, as llama.cpp's search
      // does; without this, our files would not match llama-quantize's bytes.
      min = offset;
    }
  }
  return best;
}

void quantize_affine_group(const float* x, int nmax, uint16_t* d, uint16_t* m, uint8_t* L) {
  // Grids of nmax-1 .. nmax+1 steps: the extremes need not sit on levels.
  constexpr AffineSearch kSearch{-1.f, 0.1f, 20, false, false};
  float w[kMaxGroup];
  for (float& v : w) v = 1.f;
  const AffineFit fit = fit_affine(x, w, kMaxGroup, nmax, kSearch, L);
  *d = f32_to_fp16(fit.scale);
  *m = f32_to_fp16(fit.offset);
  const float ds = fp16_to_f32(*d), ms = fp16_to_f32(*m);
  if (ds == 0) return;
  for (int i = 0; i < kMaxGroup; ++i)
    L[i] = static_cast<uint8_t>(clamp_int(nearest_int((x[i] - ms) / ds), 0, nmax));
}

float fit_symmetric(const float* x, int n, int nmax, int8_t* L) {
  float amax;
  const float max = signed_absmax(x, n, &amax);
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  // Sums for the least-squares scale of the grid iscale; weights are x².
  auto sums = [&](float iscale, float* sumlx, float* suml2) {
    *sumlx = *suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
      const float w = x[i] * x[i];
      *sumlx += w * x[i] * l;
      *suml2 += w * l * l;
    }
  };
  auto assign = [&](float iscale) {
    for (int i = 0; i < n; ++i)
      L[i] = static_cast<int8_t>(nmax + clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1));
  };

  float iscale = -nmax / max;
  float sumlx, suml2;
  sums(iscale, &sumlx, &suml2);
  assign(iscale);
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  // The error of a least-squares scale is sum(w x²) - sumlx²/suml2, so the
  // best grid is the one with the largest sumlx²/suml2.
  float best = scale * sumlx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    iscale = -(nmax + 0.1f * k) / max;
    sums(iscale, &sumlx, &suml2);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      assign(iscale);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

float fit_symmetric_refined(const float* x, int n, int nmax, int8_t* L) {
  float amax;
  const float max = signed_absmax(x, n, &amax);
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  const float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
    L[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      // Best level for x[i] given the scale the other elements imply; taken
      // only if it raises sumlx²/suml2 (lowers the weighted error).
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * L[i];
      if (!(slx > 0)) continue;
      float sl2 = suml2 - w * L[i] * L[i];
      const int l = clamp_int(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
      if (l == L[i]) continue;
      slx += w * x[i] * l;
      sl2 += w * l * l;
      if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
        L[i] = static_cast<int8_t>(l);
        sumlx = slx;
        suml2 = sl2;
        ++changed;
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

}  // namespace sf::quant
