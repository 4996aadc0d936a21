// What a Hugging Face checkpoint of a supported family means to Starfire:
// config.json -> ModelConfig, and each safetensors tensor name -> its GGUF
// name. Shared by Model::load_hf (run a folder directly) and the converter
// (models/hf_convert.h), so both read a checkpoint the same way.
//
// Layout facts both rely on: HF Linear weights are [out, in] row-major, which
// is GGUF's layout (ne[0] = in), so tensors map one to one. HF keeps q/k in
// the "rotate halves" order, so a model run from HF weights uses neox RoPE for
// every family; a GGUF for arch "llama" instead has q/k rows permuted to the
// adjacent-pair order llama.cpp expects (hf_convert.cpp does that).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "formats/hf_config.h"
#include "models/config.h"

namespace sf::hfmap {

// The GGUF name of an HF tensor ("model.layers.3.mlp.up_proj.weight" ->
// "blk.3.ffn_up.weight"); "" for tensors that carry nothing the model needs
// (rotary_emb.inv_freq buffers); nullopt for names we do not know.
std::optional<std::string> gguf_name(const std::string& hf_name);

// The HF name of a GGUF tensor (inverse of gguf_name for known names).
std::optional<std::string> hf_name(const std::string& gguf_name);

// ModelConfig for running the checkpoint from its HF layout (neox RoPE).
// n_vocab comes from vocab_size; the loader checks it against the embedding.
ModelConfig model_config(const hf::Config& c);

// Llama 3 rope scaling as per-pair frequency divisors [head_dim / 2], the
// values llama.cpp's converter stores as rope_freqs.weight.
std::vector<float> llama3_rope_factors(const hf::RopeScaling& rs, double theta, int head_dim);

}  // namespace sf::hfmap
