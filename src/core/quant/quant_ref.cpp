// Dispatch of core/quant.h's reference kernels by type.
#include <algorithm>

#include "core/quant.h"
#include "core/quant/kernels.h"
#include "core/status.h"

namespace sf {
namespace {

struct RefKernels {
  DType type;
  void (*dequantize)(const void*, float*, int64_t);
  void (*quantize)(const float*, void*, int64_t);
};

constexpr RefKernels kKernels[] = {
    {DType::F32, quant::dequantize_f32, quant::quantize_f32},
    {DType::F16, quant::dequantize_f16, quant::quantize_f16},
    {DType::BF16, quant::dequantize_bf16, quant::quantize_bf16},
    {DType::Q4_0, quant::dequantize_q4_0, quant::quantize_q4_0},
    {DType::Q4_1, quant::dequantize_q4_1, quant::quantize_q4_1},
    {DType::Q5_0, quant::dequantize_q5_0, quant::quantize_q5_0},
    {DType::Q5_1, quant::dequantize_q5_1, quant::quantize_q5_1},
    {DType::Q8_0, quant::dequantize_q8_0, quant::quantize_q8_0},
    {DType::Q2_K, quant::dequantize_q2_k, quant::quantize_q2_k},
    {DType::Q3_K, quant::dequantize_q3_k, quant::quantize_q3_k},
    {DType::Q4_K, quant::dequantize_q4_k, quant::quantize_q4_k},
    {DType::Q5_K, quant::dequantize_q5_k, quant::quantize_q5_k},
    {DType::Q6_K, quant::dequantize_q6_k, quant::quantize_q6_k},
    {DType::Q8_K, quant::dequantize_q8_k, quant::quantize_q8_k},
};

const RefKernels& kernels_for(DType type, int64_t n) {
  SF_CHECK(n >= 0 && n % traits(type).block_size == 0,
           "row length is not a multiple of the type's block size");
  for (const auto& k : kKernels)
    if (k.type == type) return k;
  SF_CHECK(false, "no reference kernel for this tensor type");
  std::abort();
}

}  // namespace

void dequantize_row_ref(DType type, const void* src, float* dst, int64_t n) {
  kernels_for(type, n).dequantize(src, dst, n);
}

void quantize_row_ref(DType type, const float* src, void* dst, int64_t n) {
  kernels_for(type, n).quantize(src, dst, n);
}

float dot_row_ref(DType type, const void* row, const float* x, int64_t n) {
  const RefKernels& k = kernels_for(type, n);
  // One float partial per block (32 elements for the unblocked float types),
  // then the partials summed: the order a blocked SIMD kernel follows, so
  // its results stay close to this oracle's.
  const int64_t bs = traits(type).block_size;
  const int64_t chunk = bs == 1 ? 32 : bs;
  const auto* bytes = static_cast<const uint8_t*>(row);
  float buf[256];
  float sum = 0;
  for (int64_t i = 0; i < n; i += chunk) {
    const int64_t len = std::min(chunk, n - i);
    k.dequantize(bytes + row_bytes(type, i), buf, len);
    float part = 0;
    for (int64_t j = 0; j < len; ++j) part += buf[j] * x[i + j];
    sum += part;
  }
  return sum;
}

}  // namespace sf
