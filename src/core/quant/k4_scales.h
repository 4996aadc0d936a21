// The part Q4_K and Q5_K share: fitting one super-block's eight 32-element
// sub-blocks and storing their scales and mins as 6-bit values under fp16
// super-scales.
#pragma once

#include <cstdint>

#include "core/quant/fit.h"

namespace sf::quant {

struct K4Header {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
};

// x holds 256 values; levels (0..nmax) go to L.
void quantize_k4_superblock(const float* x, int nmax, const AffineSearch& search, K4Header* h,
                            uint8_t* L);

}  // namespace sf::quant
