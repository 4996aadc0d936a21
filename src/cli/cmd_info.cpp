// `starfire info`: a GGUF file's metadata and tensor table.
#include <cstdio>
#include <map>

#include "cli/command.h"
#include "cli/common.h"
#include "formats/gguf.h"

namespace sf::cli {
namespace {

int run(int argc, char** argv) {
  Args args("info", "MODEL.gguf", {{"--max-items", "", "N", "array items shown per key", "8"}});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help") || args.positional().size() != 1) {
    std::fputs(args.help().c_str(), args.flag("--help") ? stdout : stderr);
    return args.flag("--help") ? 0 : 1;
  }
  auto max_items = args.integer("--max-items");
  if (!max_items.ok()) return fail(max_items.status().message());
  auto f = gguf::GgufFile::open(args.positional()[0]);
  if (!f.ok()) return fail(f.status().message());
  const gguf::GgufFile& g = **f;
  std::printf(
      "file: %s\nGGUF version %u, %zu bytes, alignment %zu, %zu metadata keys, %zu tensors\n\n",
      g.path().c_str(), g.version(), g.file_size(), g.alignment(), g.metadata().size(),
      g.tensors().size());
  std::printf("metadata:\n");
  for (const auto& [key, value] : g.metadata())
    std::printf("  %-48s %-8s %s\n", key.c_str(), gguf::value_type_name(value.type),
                value.to_display(static_cast<size_t>(std::max(*max_items, 0))).c_str());
  std::printf("\ntensors:\n  %-40s %-8s %-22s %12s %12s\n", "name", "type", "shape", "offset",
              "bytes");
  std::map<std::string, std::pair<size_t, size_t>> by_type;  // type -> (count, bytes)
  size_t total = 0;
  for (const auto& t : g.tensors()) {
    std::string shape = "[";
    for (size_t i = 0; i < t.dims.size(); ++i) shape += (i ? ", " : "") + std::to_string(t.dims[i]);
    shape += "]";
    std::printf("  %-40s %-8s %-22s %12llu %12zu\n", t.name.c_str(), type_name(t.type),
                shape.c_str(), static_cast<unsigned long long>(t.offset), t.n_bytes);
    auto& bt = by_type[type_name(t.type)];
    bt.first++;
    bt.second += t.n_bytes;
    total += t.n_bytes;
  }
  std::printf("\nsummary: %.2f MiB of tensor data;", total / 1048576.0);
  for (const auto& [type, cb] : by_type)
    std::printf(" %s: %zu tensors (%.2f MiB);", type.c_str(), cb.first, cb.second / 1048576.0);
  std::printf("\n");
  return 0;
}

const RegisterCommand reg({"info", "print a GGUF file's metadata and tensors", run});

}  // namespace
}  // namespace sf::cli
