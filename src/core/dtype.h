// Tensor element types, numbered exactly as GGUF/ggml numbers them, with their
// block layout (elements per block, bytes per block).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sf {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

struct TypeTraits {
  DType type;
  const char* name;    // as GGUF tools print it ("Q4_K")
  int64_t block_size;  // elements per block
  size_t block_bytes;  // bytes per block
  bool computable;     // Starfire has dequantize/dot kernels for it
};

// Traits of a raw GGUF type id; nullopt for ids no known format uses.
std::optional<TypeTraits> type_traits(uint32_t raw_type);
const TypeTraits& traits(DType t);  // for a DType value that exists (checked)
inline const char* type_name(DType t) {
  return traits(t).name;
}
std::optional<DType> type_from_name(std::string_view name);  // case-insensitive

// Bytes of n elements (n must be a multiple of the block size; checked by callers).
inline size_t row_bytes(DType t, int64_t n) {
  const TypeTraits& tt = traits(t);
  return static_cast<size_t>(n / tt.block_size) * tt.block_bytes;
}

}  // namespace sf
