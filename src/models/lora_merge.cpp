// merge_lora (models/lora_merge.h).
#include "models/lora_merge.h"

#include <filesystem>

#include "core/quant.h"
#include "core/threadpool.h"
#include "models/gguf_stream.h"
#include "models/lora_apply.h"
#include "models/model.h"

namespace sf {

Result<LoraMergeReport> merge_lora(const Model& base, const std::vector<LoraAdapter>& adapters,
                                   const std::string& out_path, const LoraMergeOptions& opt) {
  const gguf::GgufFile* f = base.gguf();
  if (!f)
    return Status::error(
        "lora merge: the base model was loaded from a Hugging Face folder; convert it to GGUF "
        "first (starfire convert) or merge with PEFT");
  std::error_code ec;
  if (std::filesystem::exists(out_path) && std::filesystem::equivalent(f->path(), out_path, ec))
    return errorf("lora merge: output %s is the base model file", out_path.c_str());
  if (opt.out_type && !traits(*opt.out_type).computable)
    return errorf("lora merge: cannot write type %s", type_name(*opt.out_type));
  SF_ASSIGN_OR_RETURN(auto set, LoraSet::create(base, adapters));

  GgufStreamWriter w;
  for (const auto& [k, v] : f->metadata()) w.set(k, v);
  struct Plan {
    std::optional<LoraTarget> target;  // set when this tensor gets a delta
    DType type;
  };
  std::vector<Plan> plan;
  for (const gguf::TensorInfo& t : f->tensors()) {
    Plan p{parse_lora_target(t.name), t.type};
    if (p.target && set->rank(p.target->layer, p.target->proj) == 0) p.target.reset();
    if (p.target && opt.out_type) p.type = *opt.out_type;
    if (p.target && t.dims[0] % traits(p.type).block_size != 0)
      return errorf("lora merge: '%s' has rows of %lld, which type %s (blocks of %lld) cannot hold",
                    t.name.c_str(), static_cast<long long>(t.dims[0]), type_name(p.type),
                    static_cast<long long>(traits(p.type).block_size));
    SF_RETURN_IF_ERROR(w.declare(t.name, p.type, t.dims));
    plan.push_back(p);
  }
  SF_RETURN_IF_ERROR(w.open(out_path));

  ThreadPool pool(opt.n_threads);
  LoraMergeReport rep;
  uint64_t bytes = 0;
  for (size_t i = 0; i < f->tensors().size(); ++i) {
    const gguf::TensorInfo& t = f->tensors()[i];
    const Plan& p = plan[i];
    if (!p.target) {
      SF_RETURN_IF_ERROR(w.write_next(t.data, t.n_bytes));
    } else {
      const int64_t cols = t.dims[0], rows = t.n_rows();
      const size_t src_rb = row_bytes(t.type, cols), dst_rb = row_bytes(p.type, cols);
      std::string out(dst_rb * rows, '\0');
      pool.parallel_for(rows, 8, [&](int64_t b, int64_t e, int) {
        std::vector<float> row(cols);
        for (int64_t r = b; r < e; ++r) {
          dequantize_row_ref(t.type, t.data + r * src_rb, row.data(), cols);
          set->add_delta_row(p.target->layer, p.target->proj, r, row.data());
          quantize_row_ref(p.type, row.data(), &out[r * dst_rb], cols);
        }
      });
      SF_RETURN_IF_ERROR(w.write_next(out.data(), out.size()));
      rep.n_merged++;
    }
    rep.n_tensors++;
    bytes += w.bytes_of(i);
    if (opt.progress) opt.progress(rep.n_tensors, f->tensors().size(), bytes);
  }
  SF_RETURN_IF_ERROR(w.finish());
  rep.file_bytes = std::filesystem::file_size(out_path, ec);
  return rep;
}

}  // namespace sf
