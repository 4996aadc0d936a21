// `starfire rm ORG/NAME[:FILE]`: removes a stored model (or one of its files).
#include <cstdio>

#include "cli/args.h"
#include "cli/command.h"
#include "models/model_store.h"

namespace sf::cli {
namespace {

int run(int argc, char** argv) {
  Args args("rm", "ORG/NAME[:FILE] ...", {});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help") || args.positional().empty()) {
    std::fputs(args.help().c_str(), args.flag("--help") ? stdout : stderr);
    return args.flag("--help") ? 0 : 1;
  }
  for (const std::string& name : args.positional()) {
    if (Status s = store::remove(name); !s.ok()) return fail(s.message());
    std::printf("removed %s\n", name.c_str());
  }
  return 0;
}

const RegisterCommand reg({"rm", "remove a model from the local store", run});

}  // namespace
}  // namespace sf::cli
