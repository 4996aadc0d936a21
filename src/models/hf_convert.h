// Hugging Face folder -> GGUF (`starfire convert`).
//
// Writes a GGUF that our engine and llama.cpp load: llama.cpp's architecture
// keys and tensor names, q/k rows of arch "llama" permuted to the
// adjacent-pair RoPE order llama.cpp's converter uses, Llama 3 rope factors as
// rope_freqs.weight, 1-D tensors in F32, 2-D tensors in the requested type,
// and the full tokenizer (tokens, types, merges or scores, special ids,
// add_bos/eos, chat template). Rows that Q8_0 cannot hold (length not a
// multiple of 32) fall back to F16.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "formats/gguf.h"
#include "models/gguf_hparams.h"

namespace sf {

struct ConvertOptions {
  DType out_type = DType::F16;  // F32, F16, BF16 or Q8_0
  int n_threads = 0;            // for Q8_0 quantization; 0: all cores
  // Called after each tensor with (tensors done, total, bytes written so far).
  std::function<void(size_t, size_t, uint64_t)> progress;
};

struct ConvertReport {
  size_t n_tensors = 0;
  uint64_t n_params = 0;
  uint64_t tensor_bytes = 0;
  size_t n_fallback = 0;  // tensors written in F16 because the type could not hold their rows
  std::string arch;
};

Result<ConvertReport> convert_hf_to_gguf(const std::string& folder, const std::string& out_path,
                                         const ConvertOptions& opt);

// Adds tokenizer.ggml.* and tokenizer.chat_template from a folder's
// tokenizer.json / tokenizer_config.json, padded to n_vocab tokens as the
// embedding has. Byte-level BPE becomes model "gpt2" (pre-tokenizer named by
// its regex: llama-bpe, qwen2, gpt-2); SentencePiece-style BPE with byte
// fallback becomes model "llama" with scores in merge order.
Status add_hf_tokenizer(const std::string& folder, int n_vocab, GgufKv& kv);

// GGUF general.file_type of a whole-model type (llama.cpp's llama_ftype).
int gguf_file_type(DType t);

}  // namespace sf
