// Internal: walks an (nr weight rows) x (nc activation rows) product in
// register tiles. A kernel type K (defined in an ISA file's unnamed namespace,
// so every instantiation stays private to that file and its ISA flags) gives
//   static constexpr int kR, kC;   tile shape for nc > 1
//   static constexpr int kR1;      rows per tile when nc == 1 (token generation)
//   template <int R, int C> static void tile(const uint8_t* w, size_t ws,
//       const uint8_t* a, size_t as, int64_t n, float* y, int64_t ldy);
// tile<R, C> computes y[c * ldy + r] for r < R, c < C. Tiles must give each
// (row, column) pair the same sequence of operations whatever R and C are, so
// results do not depend on the tiling.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sf::kernels {

template <class K, int R, int C>
inline void tile_cols_tail(int rem, const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
                           int64_t n, float* y, int64_t ldy) {
  if constexpr (C > 0) {
    if (rem == C)
      K::template tile<R, C>(w, ws, a, as, n, y, ldy);
    else
      tile_cols_tail<K, R, C - 1>(rem, w, ws, a, as, n, y, ldy);
  }
}

template <class K, int R>
inline void tile_row_group(const uint8_t* w, size_t ws, const uint8_t* a, size_t as, int64_t nc,
                           int64_t n, float* y, int64_t ldy) {
  int64_t c = 0;
  for (; c + K::kC <= nc; c += K::kC)
    K::template tile<R, K::kC>(w, ws, a + c * as, as, n, y + c * ldy, ldy);
  if (c < nc)
    tile_cols_tail<K, R, K::kC - 1>(static_cast<int>(nc - c), w, ws, a + c * as, as, n, y + c * ldy,
                                    ldy);
}

template <class K, int R>
inline void tile_rows_tail(int rem, const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
                           int64_t nc, int64_t n, float* y, int64_t ldy) {
  if constexpr (R > 0) {
    if (rem == R)
      tile_row_group<K, R>(w, ws, a, as, nc, n, y, ldy);
    else
      tile_rows_tail<K, R - 1>(rem, w, ws, a, as, nc, n, y, ldy);
  }
}

template <class K, int R>
inline void tile_rows_tail1(int rem, const uint8_t* w, size_t ws, const uint8_t* a, int64_t n,
                            float* y) {
  if constexpr (R > 0) {
    if (rem == R)
      K::template tile<R, 1>(w, ws, a, 0, n, y, 0);
    else
      tile_rows_tail1<K, R - 1>(rem, w, ws, a, n, y);
  }
}

template <class K>
void gemm_tiles(const uint8_t* w, size_t ws, int64_t nr, const uint8_t* a, size_t as, int64_t nc,
                int64_t n, float* y, int64_t ldy) {
  int64_t r = 0;
  if (nc == 1) {
    for (; r + K::kR1 <= nr; r += K::kR1)
      K::template tile<K::kR1, 1>(w + r * ws, ws, a, as, n, y + r, ldy);
    if (r < nr)
      tile_rows_tail1<K, K::kR1 - 1>(static_cast<int>(nr - r), w + r * ws, ws, a, n, y + r);
    return;
  }
  for (; r + K::kR <= nr; r += K::kR)
    tile_row_group<K, K::kR>(w + r * ws, ws, a, as, nc, n, y + r, ldy);
  if (r < nr)
    tile_rows_tail<K, K::kR - 1>(static_cast<int>(nr - r), w + r * ws, ws, a, as, nc, n, y + r,
                                 ldy);
}

}  // namespace sf::kernels
