// CPU feature detection and the instruction-set level the kernels run at.
//
// Features are read once (cpuid + xgetbv, so a level is only offered when the
// OS also saves its registers). The active level starts as the best one the
// CPU supports, or as the environment variable STARFIRE_ISA says
// (scalar | avx2 | avx512); a level the CPU lacks is refused with a message on
// stderr and the best supported level is used instead. set_isa() changes the
// level at run time (tests run every level in one process).
//
// Levels:
//   Scalar  portable reference code: matmul dequantizes each weight row to f32
//           and takes f32 dot products (the oracle the model tests check).
//   Avx2    AVX2 + FMA + F16C.
//   Avx512  AVX-512 F/BW/VL/DQ + VNNI (+ BF16 dot products when the CPU has
//           AVX512-BF16; otherwise those use f32 FMA).
// Thread-safety: set_isa() must not race with running kernels; reading the
// level is a relaxed atomic load.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sf {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool bmi2 = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
};

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

const CpuFeatures& cpu_features();  // detected once, on first use

bool isa_supported(Isa isa);                              // the CPU (and OS) can run this level
Isa best_isa();                                           // highest supported level
Isa active_isa();                                         // level the kernels use now
bool set_isa(Isa isa);                                    // false (level unchanged) if unsupported
const char* isa_name(Isa isa);                            // "scalar", "avx2", "avx512"
std::optional<Isa> isa_from_name(std::string_view name);  // case-insensitive

// One line for logs and `starfire`: the active level, how it was chosen and the
// detected features, e.g. "avx512 (auto; cpu: avx2 fma f16c avx512f ...)".
std::string describe_isa();

}  // namespace sf
