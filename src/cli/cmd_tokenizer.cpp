// `starfire tokenizer train`: learns a byte-level BPE tokenizer from text
// (tokenizer/bpe_trainer.h) and writes tokenizer.json, tokenizer_config.json
// and a vocab-only tokenizer.gguf, then reports how well it compresses the
// training text, Chinese and Latin-script text separately.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/command.h"
#include "cli/progress.h"
#include "formats/gguf.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/text_corpus.h"
#include "tokenizer/tokenizer.h"

namespace sf::cli {
namespace {

// "20M", "1.5G", "65536" (K/M/G are powers of 1024).
Result<uint64_t> parse_bytes(const std::string& s) {
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(s.c_str(), &end);
  double mult = 1;
  if (end && *end) {
    const char c = static_cast<char>(*end | 0x20);
    mult = c == 'k' ? 1024.0 : c == 'm' ? 1048576.0 : c == 'g' ? 1073741824.0 : 0;
    if (mult != 0 && (end[1] == '\0' || ((end[1] | 0x20) == 'b' && end[2] == '\0')))
      end = const_cast<char*>(s.c_str() + s.size());
  }
  if (s.empty() || errno || !end || *end || mult == 0 || x < 0 || x * mult > 1.8e19)
    return errorf("--max-bytes expects a size like 20M, 1G or 65536, got '%s'", s.c_str());
  return static_cast<uint64_t>(x * mult);
}

void print_part(const char* name, const tok::BpeTrainer::Compression::Part& p) {
  if (p.tokens == 0) return;
  std::printf("  %-6s %8.3f bytes/token  (%s, %llu tokens)\n", name, p.bytes_per_token(),
              human_bytes(static_cast<double>(p.bytes)).c_str(),
              static_cast<unsigned long long>(p.tokens));
}

nlohmann::json part_json(const tok::BpeTrainer::Compression::Part& p) {
  return {{"bytes", p.bytes}, {"tokens", p.tokens}, {"bytes_per_token", p.bytes_per_token()}};
}

int train(int argc, char** argv) {
  Args args(
      "tokenizer train",
      "--input FILE_OR_DIR... --vocab-size N [--min-frequency N] [--special TOKEN]... "
      "[--max-bytes N] -o OUTDIR",
      {{"--input", "-i", "PATH",
        ".txt / .jsonl file or folder of them (repeatable; extra paths after it count too)", ""},
       {"--vocab-size", "", "N", "total tokens: 256 bytes + learned + special", "8000"},
       {"--min-frequency", "", "N", "never merge a pair seen fewer times", "2"},
       {"--special", "", "TOKEN",
        "another special token (repeatable), after <|endoftext|> <|im_start|> <|im_end|>", ""},
       {"--no-default-specials", "", "",
        "leave out <|endoftext|> <|im_start|> <|im_end|> (and the ChatML template)", ""},
       {"--max-bytes", "", "N", "read at most this much text (e.g. 200M; 0: all)", "0"},
       {"--output", "-o", "DIR", "folder for tokenizer.json, tokenizer_config.json, .gguf", ""},
       {"--json", "", "", "print the report as JSON", ""}});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  std::vector<std::string> inputs = args.all("--input");
  for (const std::string& p : args.positional()) inputs.push_back(p);
  if (inputs.empty()) return fail("tokenizer train: give --input FILE_OR_DIR (text to learn from)");
  if (!args.has("--output")) return fail("tokenizer train: give -o OUTDIR for the tokenizer files");

  tok::BpeTrainOptions opt;
  auto vocab = args.integer("--vocab-size");
  if (!vocab.ok()) return fail(vocab.status().message());
  auto minf = args.integer("--min-frequency");
  if (!minf.ok()) return fail(minf.status().message());
  auto max_bytes = parse_bytes(args.str("--max-bytes"));
  if (!max_bytes.ok()) return fail(max_bytes.status().message());
  opt.vocab_size = *vocab;
  opt.min_frequency = *minf;
  opt.max_bytes = *max_bytes;
  if (args.flag("--no-default-specials")) opt.special_tokens.clear();
  for (const std::string& s : args.all("--special")) opt.special_tokens.push_back(s);

  auto trainer = tok::BpeTrainer::create(opt);
  if (!trainer.ok()) return fail("tokenizer train: " + trainer.status().message());
  tok::BpeTrainer& tr = **trainer;

  ProgressBar bar("reading");
  tok::CorpusStats cs;
  const Status read = tok::read_text_corpus(
      inputs,
      [&](std::string_view doc) {
        const bool more = tr.add_text(doc);
        bar.update(tr.stats().bytes, opt.max_bytes, tr.stats().bytes);
        return more && !tr.full();
      },
      &cs);
  // Only a terminal gets the bar (its final line adds nothing to the report).
  if (isatty(STDERR_FILENO)) bar.finish();
  if (!read.ok()) return fail("tokenizer train: " + read.message());

  auto trained = tr.train();
  if (!trained.ok()) return fail("tokenizer train: " + trained.status().message());
  const std::string out = args.str("--output");
  if (Status s = tok::write_trained_bpe(*trained, out); !s.ok())
    return fail("tokenizer train: " + s.message());

  // Read the files back with the loaders every other command uses, so a
  // tokenizer that would not load is an error now, not when a model is trained on it.
  namespace fs = std::filesystem;
  const std::string tj = (fs::path(out) / "tokenizer.json").string();
  const std::string cfg = (fs::path(out) / "tokenizer_config.json").string();
  const std::string gg = (fs::path(out) / "tokenizer.gguf").string();
  auto tok = Tokenizer::from_hf(tj, cfg);
  if (!tok.ok()) return fail("tokenizer train: reading back: " + tok.status().message());
  auto gf = gguf::GgufFile::open(gg);
  if (!gf.ok()) return fail("tokenizer train: reading back: " + gf.status().message());
  auto gtok = Tokenizer::from_gguf(**gf);
  if (!gtok.ok()) return fail("tokenizer train: reading back: " + gtok.status().message());
  if ((*gtok)->n_vocab() != (*tok)->n_vocab())
    return fail("tokenizer train: tokenizer.gguf and tokenizer.json disagree on the vocabulary");

  const tok::BpeTrainStats& st = trained->stats;
  const auto comp = tr.measure(**tok);
  const size_t n_special = trained->specials.size();
  const size_t n_learned = trained->token_bytes.size() - 256;

  if (args.flag("--json")) {
    nlohmann::json j;
    j["files"] = cs.files;
    j["skipped_files"] = cs.skipped_files;
    j["bytes"] = st.bytes;
    j["words"] = st.words;
    j["unique_words"] = st.unique_words;
    j["merges"] = st.merges;
    j["n_vocab"] = trained->n_vocab();
    j["learned_tokens"] = n_learned;
    j["special_tokens"] = n_special;
    j["last_merge_count"] = st.last_merge_count;
    j["stop_reason"] = st.stop_reason;
    j["count_seconds"] = st.count_seconds;
    j["merge_seconds"] = st.merge_seconds;
    j["bytes_per_token"] = {{"all", part_json(comp.all)},
                            {"cjk", part_json(comp.cjk)},
                            {"latin", part_json(comp.latin)},
                            {"other", part_json(comp.other)}};
    j["output"] = {tj, cfg, gg};
    std::puts(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("read %llu files, %s: %llu words (%llu distinct) in %.2f s\n",
              static_cast<unsigned long long>(cs.files),
              human_bytes(static_cast<double>(st.bytes)).c_str(),
              static_cast<unsigned long long>(st.words),
              static_cast<unsigned long long>(st.unique_words), st.count_seconds);
  if (cs.skipped_files)
    std::printf("skipped %llu files that are not .txt or .jsonl\n",
                static_cast<unsigned long long>(cs.skipped_files));
  std::printf("learned %llu merges in %.2f s: %s (last merged pair seen %lld times)\n",
              static_cast<unsigned long long>(st.merges), st.merge_seconds, st.stop_reason.c_str(),
              static_cast<long long>(st.last_merge_count));
  std::printf("vocabulary: %d tokens = 256 bytes + %zu learned + %zu special\n", trained->n_vocab(),
              n_learned, n_special);
  std::printf("compression on the training text:\n");
  print_part("all", comp.all);
  print_part("CJK", comp.cjk);
  print_part("Latin", comp.latin);
  print_part("other", comp.other);
  std::printf("wrote %s, %s, %s\n", tj.c_str(), cfg.c_str(), gg.c_str());
  return 0;
}

int run(int argc, char** argv) {
  const std::string usage =
      "usage: starfire tokenizer train --input FILE_OR_DIR... --vocab-size N -o OUTDIR\n"
      "       (see 'starfire tokenizer train --help')\n";
  if (argc < 1 || std::string(argv[0]) == "--help" || std::string(argv[0]) == "-h") {
    std::fputs(usage.c_str(), argc < 1 ? stderr : stdout);
    return argc < 1 ? 1 : 0;
  }
  if (std::string(argv[0]) == "train") return train(argc - 1, argv + 1);
  return fail("tokenizer: unknown subcommand '" + std::string(argv[0]) + "' (known: train)");
}

const RegisterCommand reg({"tokenizer", "learn a byte-level BPE tokenizer from text (train)", run});

}  // namespace
}  // namespace sf::cli
