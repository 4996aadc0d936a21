#include "core/cpu.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define SF_X86 1
#endif

namespace sf {
namespace {

#if SF_X86
uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if SF_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  const bool fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = xgetbv0();
  const bool ymm_os = (xcr0 & 0x6) == 0x6;    // SSE + AVX state
  const bool zmm_os = (xcr0 & 0xe6) == 0xe6;  // + opmask, ZMM_Hi256, Hi16_ZMM
  if (!ymm_os) return f;
  f.fma = fma;
  f.f16c = f16c;
  unsigned max_leaf = __get_cpuid_max(0, nullptr);
  if (max_leaf < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  const unsigned leaf7_max_sub = a;
  f.avx2 = (b >> 5) & 1;
  f.bmi2 = (b >> 8) & 1;
  if (zmm_os) {
    f.avx512f = (b >> 16) & 1;
    f.avx512dq = (b >> 17) & 1;
    f.avx512bw = (b >> 30) & 1;
    f.avx512vl = (b >> 31) & 1;
    f.avx512vnni = (c >> 11) & 1;
    if (leaf7_max_sub >= 1) {
      __cpuid_count(7, 1, a, b, c, d);
      f.avx512bf16 = (a >> 5) & 1;
    }
  }
#endif
  return f;
}

bool supported(const CpuFeatures& f, Isa isa) {
  const bool avx2 = f.avx2 && f.fma && f.f16c && f.bmi2;
  switch (isa) {
    case Isa::Scalar:
      return true;
    case Isa::Avx2:
      return avx2;
    case Isa::Avx512:
      return avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq && f.avx512vnni;
  }
  return false;
}

Isa best(const CpuFeatures& f) {
  if (supported(f, Isa::Avx512)) return Isa::Avx512;
  if (supported(f, Isa::Avx2)) return Isa::Avx2;
  return Isa::Scalar;
}

struct State {
  std::atomic<int> level;
  std::atomic<const char*> how;  // "auto", "STARFIRE_ISA" or "set_isa"
};

State& state() {
  static State s = [] {
    const CpuFeatures& f = cpu_features();
    Isa isa = best(f);
    const char* how = "auto";
    if (const char* env = std::getenv("STARFIRE_ISA"); env && *env) {
      const auto want = isa_from_name(env);
      if (!want) {
        std::fprintf(stderr,
                     "starfire: STARFIRE_ISA=%s is not a level (scalar, avx2, avx512); using %s\n",
                     env, isa_name(isa));
      } else if (!supported(f, *want)) {
        std::fprintf(stderr, "starfire: STARFIRE_ISA=%s: this CPU lacks the %s level; using %s\n",
                     env, isa_name(*want), isa_name(isa));
      } else {
        isa = *want;
        how = "STARFIRE_ISA";
      }
    }
    return State{{static_cast<int>(isa)}, {how}};
  }();
  return s;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

bool isa_supported(Isa isa) {
  return supported(cpu_features(), isa);
}

Isa best_isa() {
  return best(cpu_features());
}

Isa active_isa() {
  return static_cast<Isa>(state().level.load(std::memory_order_relaxed));
}

bool set_isa(Isa isa) {
  if (!isa_supported(isa)) return false;
  State& s = state();
  s.level.store(static_cast<int>(isa), std::memory_order_relaxed);
  s.how.store("set_isa", std::memory_order_relaxed);
  return true;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar:
      return "scalar";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
  }
  return "?";
}

std::optional<Isa> isa_from_name(std::string_view name) {
  auto eq = [&](std::string_view lit) {
    if (name.size() != lit.size()) return false;
    for (size_t i = 0; i < lit.size(); ++i) {
      char ch = name[i];
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      if (ch != lit[i]) return false;
    }
    return true;
  };
  if (eq("scalar")) return Isa::Scalar;
  if (eq("avx2")) return Isa::Avx2;
  if (eq("avx512")) return Isa::Avx512;
  return std::nullopt;
}

std::string describe_isa() {
  const CpuFeatures& f = cpu_features();
  std::string s = isa_name(active_isa());
  s += " (";
  s += state().how.load(std::memory_order_relaxed);
  s += "; cpu:";
  const std::pair<bool, const char*> names[] = {{f.avx2, "avx2"},
                                                {f.fma, "fma"},
                                                {f.f16c, "f16c"},
                                                {f.bmi2, "bmi2"},
                                                {f.avx512f, "avx512f"},
                                                {f.avx512bw, "avx512bw"},
                                                {f.avx512vl, "avx512vl"},
                                                {f.avx512dq, "avx512dq"},
                                                {f.avx512vnni, "avx512vnni"},
                                                {f.avx512bf16, "avx512bf16"}};
  bool any = false;
  for (const auto& [on, name] : names) {
    if (!on) continue;
    s += ' ';
    s += name;
    any = true;
  }
  if (!any) s += " baseline x86-64";
  s += ')';
  return s;
}

}  // namespace sf
