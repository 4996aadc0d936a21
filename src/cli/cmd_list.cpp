// `starfire list`: the models in the local store (models/model_store.h).
#include <cstdio>

#include "cli/args.h"
#include "cli/command.h"
#include "cli/progress.h"
#include "models/model_store.h"

namespace sf::cli {
namespace {

int run(int argc, char** argv) {
  Args args("list", "", {});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  const auto models = store::list();
  if (models.empty()) {
    std::printf("no models in %s (fetch one with `starfire pull ORG/NAME`)\n",
                store::root().c_str());
    return 0;
  }
  std::printf("%-48s %10s %6s  %s\n", "NAME", "SIZE", "FILES", "REVISION");
  for (const auto& m : models) {
    std::printf("%-48s %10s %6zu  %.12s\n", m.repo.c_str(),
                human_bytes(static_cast<double>(m.bytes())).c_str(), m.files.size(),
                m.revision.c_str());
    for (const auto& f : m.files)
      if (f.path.size() > 5 && f.path.compare(f.path.size() - 5, 5, ".gguf") == 0)
        std::printf("  %s:%s\n", m.repo.c_str(), f.path.c_str());
  }
  return 0;
}

const RegisterCommand reg({"list", "list models in the local store", run});

}  // namespace
}  // namespace sf::cli
