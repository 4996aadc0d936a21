// `starfire tokenize`: text from stdin to token ids, with a model's GGUF
// tokenizer or a Hugging Face tokenizer.json.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common.h"
#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace sf::cli {
namespace {

Result<std::shared_ptr<const Tokenizer>> load_tokenizer(const Args& args) {
  if (args.has("--tokenizer")) {
    std::string cfg = args.str("--tokenizer-config");
    return Tokenizer::from_hf(args.str("--tokenizer"), cfg);
  }
  if (!args.has("--model"))
    return Status::error("give -m MODEL.gguf or --tokenizer tokenizer.json");
  SF_ASSIGN_OR_RETURN(auto f, gguf::GgufFile::open(args.str("--model")));
  return Tokenizer::from_gguf(*f);
}

int run(int argc, char** argv) {
  Args args("tokenize", "(-m MODEL.gguf | --tokenizer tokenizer.json) [--json] < text",
            {{"--model", "-m", "PATH", "GGUF file with tokenizer metadata", ""},
             {"--tokenizer", "", "PATH", "Hugging Face tokenizer.json", ""},
             {"--tokenizer-config", "", "PATH", "tokenizer_config.json (with --tokenizer)", ""},
             {"--no-special", "", "", "do not add BOS/EOS", ""},
             {"--no-parse-special", "", "", "treat special-token text as plain text", ""},
             {"--pieces", "", "", "also print each token's text", ""},
             {"--json", "", "", "print {\"ids\": [...]}", ""}});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  auto tok = load_tokenizer(args);
  if (!tok.ok()) return fail(tok.status().message());
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto ids = (*tok)->encode(text, !args.flag("--no-special"), !args.flag("--no-parse-special"));
  if (args.flag("--json")) {
    nlohmann::json j;
    j["ids"] = ids;
    if (args.flag("--pieces")) {
      std::vector<std::string> pieces;
      for (int32_t id : ids) pieces.push_back((*tok)->token_to_piece(id));
      j["pieces"] = pieces;
    }
    std::puts(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (args.flag("--pieces"))
      std::printf("%6d  '%s'\n", ids[i], (*tok)->token_to_piece(ids[i]).c_str());
    else
      std::printf(i ? " %d" : "%d", ids[i]);
  }
  if (!args.flag("--pieces")) std::printf("\n");
  return 0;
}

const RegisterCommand reg({"tokenize", "text (stdin) to token ids", run});

}  // namespace
}  // namespace sf::cli
