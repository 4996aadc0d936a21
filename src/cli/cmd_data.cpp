// `starfire data prepare`: text / JSONL (plain or chat) -> token shards for
// training (train/data_prepare.h). `starfire data info DIR`: what a prepared
// folder holds, with its first tokens decoded.
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/command.h"
#include "train/data_prepare.h"
#include "train/shard.h"

namespace sf::cli {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

// "1234567" -> "1,234,567": token counts are easier to read grouped.
std::string grouped(int64_t v) {
  std::string s = std::to_string(v < 0 ? -v : v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return v < 0 ? "-" + s : s;
}

Result<uint64_t> parse_u64(const std::string& flag, const std::string& s) {
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] == '-' || *end != '\0' || errno == ERANGE)
    return errorf("starfire data: %s expects a non-negative integer, got '%s'", flag.c_str(),
                  s.c_str());
  return static_cast<uint64_t>(v);
}

void print_split(const char* name, const train::SplitStats& s) {
  std::printf("  %-6s %s documents, %s tokens, loss on %s, %zu shard%s\n", name,
              grouped(s.documents).c_str(), grouped(s.tokens).c_str(),
              grouped(s.loss_tokens).c_str(), s.shards.size(), s.shards.size() == 1 ? "" : "s");
}

int prepare(int argc, char** argv) {
  Args args("data prepare",
            "--input PATH [PATH...] --tokenizer PATH -o OUTDIR [options]\n\n"
            "Inputs are files or folders (searched recursively for .txt, .md, .jsonl).\n"
            ".txt/.md: one document per file, or per part between lines that read "
            "<|endoftext|>.\n"
            ".jsonl: {\"text\": ...} per line, or {\"messages\": [{\"role\", \"content\"}...]} "
            "for chat,\n"
            "where the loss mask covers only the assistant replies.",
            {{"--input", "-i", "PATH", "input file or folder (more may follow as arguments)", ""},
             {"--tokenizer", "", "PATH", "GGUF model/vocab, tokenizer.json, or its folder", ""},
             {"--output", "-o", "DIR", "output folder for shards and meta.json", ""},
             {"--val-fraction", "", "F", "share of documents held out for validation", "0.01"},
             {"--shard-tokens", "", "N", "tokens per shard file", "100000000"},
             {"--seed", "", "S", "seed of the train/val split", "1234"},
             {"--max-documents", "", "N", "stop after N documents (0: all)", "0"},
             {"--threads", "-t", "N", "tokenizer threads (output does not depend on it)", "2"},
             {"--strict", "", "", "fail on a malformed JSONL line instead of skipping it", ""},
             {"--overwrite", "", "", "replace prepared data already in the output folder", ""},
             {"--json", "", "", "print the report (meta.json) as JSON", ""}});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  train::PrepareOptions o;
  o.inputs = args.all("--input");
  for (const std::string& p : args.positional()) o.inputs.push_back(p);
  if (o.inputs.empty()) return fail("data prepare: give the input with --input PATH");
  if (!args.has("--tokenizer"))
    return fail(
        "data prepare: give the tokenizer with --tokenizer PATH (a GGUF model, or a "
        "tokenizer.json / its folder)");
  if (!args.has("--output")) return fail("data prepare: give the output folder with -o OUTDIR");
  o.tokenizer = args.str("--tokenizer");
  o.out_dir = args.str("--output");
  auto vf = args.number("--val-fraction");
  if (!vf.ok()) return fail(vf.status().message());
  o.val_fraction = *vf;
  auto st = parse_u64("--shard-tokens", args.str("--shard-tokens"));
  auto seed = parse_u64("--seed", args.str("--seed"));
  auto maxd = parse_u64("--max-documents", args.str("--max-documents"));
  for (auto* r : {&st, &seed, &maxd})
    if (!r->ok()) return fail(r->status().message());
  if (*st > static_cast<uint64_t>(INT64_MAX) || *maxd > static_cast<uint64_t>(INT64_MAX))
    return fail("data prepare: --shard-tokens / --max-documents is too large");
  o.shard_tokens = static_cast<int64_t>(*st);
  o.seed = *seed;
  o.max_documents = static_cast<int64_t>(*maxd);
  auto threads = args.integer("--threads");
  if (!threads.ok()) return fail(threads.status().message());
  if (*threads < 1 || *threads > 256) return fail("data prepare: --threads must be 1..256");
  o.threads = *threads;
  o.strict = args.flag("--strict");
  o.overwrite = args.flag("--overwrite");

  auto rep = train::prepare_data(o);
  if (!rep.ok()) return fail("data prepare: " + rep.status().message());
  const train::PrepareReport& r = *rep;
  if (args.flag("--json")) {
    ojson j = r.meta;
    j["seconds"] = r.seconds;
    j["input_bytes"] = r.input_bytes;
    std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  const double mb = static_cast<double>(r.input_bytes) / 1e6;
  std::printf(
      "prepared %zu source file%s, %.2f MB in %.2f s (%.1f MB/s; %s tokenizer loaded in %.2f s)\n",
      r.sources.size(), r.sources.size() == 1 ? "" : "s", mb, r.seconds,
      r.seconds > 0 ? mb / r.seconds : 0.0, r.tokenizer_kind.c_str(), r.load_seconds);
  std::printf("  documents: %s (%s text, %s chat), skipped lines: %s\n",
              grouped(r.text_documents + r.chat_documents).c_str(),
              grouped(r.text_documents).c_str(), grouped(r.chat_documents).c_str(),
              grouped(r.skipped_lines).c_str());
  print_split("train", r.train);
  print_split("val", r.val);
  for (const train::SkippedLine& s : r.first_skipped)
    std::printf("  skipped %s:%" PRId64 ": %s\n", s.file.c_str(), s.line, s.reason.c_str());
  if (r.skipped_lines > static_cast<int64_t>(r.first_skipped.size()))
    std::printf("  ... and %s more skipped lines\n",
                grouped(r.skipped_lines - static_cast<int64_t>(r.first_skipped.size())).c_str());
  if (r.chat_documents > 0 && r.default_chat_template)
    std::printf("  note: the tokenizer has no chat template; chats were rendered as ChatML\n");
  if (r.chat_segmented > 0)
    std::printf("  note: %s chats were tokenized per segment (a token crossed a reply boundary)\n",
                grouped(r.chat_segmented).c_str());
  if (o.val_fraction > 0 && r.val.documents == 0)
    std::printf("  note: the val split is empty (too few documents for --val-fraction %g)\n",
                o.val_fraction);
  std::printf("  wrote %s\n", (fs::path(o.out_dir) / "meta.json").string().c_str());
  return 0;
}

struct SplitInfo {
  int shards = 0;
  int64_t tokens = 0, loss_tokens = 0;
  bool has_mask = false;
  std::vector<int32_t> first_ids;
};

Result<SplitInfo> split_info(const std::string& dir, const std::string& split, size_t n_first) {
  SplitInfo info;
  SF_ASSIGN_OR_RETURN(std::vector<std::string> paths, train::list_shards(dir, split));
  for (const std::string& p : paths) {
    SF_ASSIGN_OR_RETURN(train::Shard s, train::open_shard(p));
    ++info.shards;
    info.tokens += static_cast<int64_t>(s.n_tokens);
    info.has_mask |= s.has_mask;
    for (uint64_t i = 0; i < s.n_tokens; ++i) {
      info.loss_tokens += s.mask_at(i);
      if (info.first_ids.size() < n_first) info.first_ids.push_back(s.id(i));
    }
  }
  return info;
}

int info(int argc, char** argv) {
  Args args(
      "data info", "DIR [--tokenizer PATH] [-n N] [--json]",
      {{"--tokenizer", "", "PATH", "decode with this tokenizer (default: from meta.json)", ""},
       {"--n-tokens", "-n", "N", "how many of the first tokens to show", "32"},
       {"--json", "", "", "print JSON", ""}});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help")) {
    std::fputs(args.help().c_str(), stdout);
    return 0;
  }
  if (args.positional().size() != 1)
    return fail("data info: give one folder made by 'starfire data prepare'");
  const std::string dir = args.positional()[0];
  auto n_first = args.integer("--n-tokens");
  if (!n_first.ok()) return fail(n_first.status().message());
  if (*n_first < 0) return fail("data info: -n must be non-negative");

  ojson meta;
  const fs::path meta_path = fs::path(dir) / "meta.json";
  std::error_code ec;
  if (fs::exists(meta_path, ec)) {
    std::ifstream f(meta_path, std::ios::binary);
    meta = ojson::parse(f, nullptr, false);
    if (meta.is_discarded() || !meta.is_object())
      return fail(meta_path.string() +
                  ": not valid JSON (rewrite it with 'starfire data prepare')");
  }
  ojson out;
  out["dir"] = dir;
  std::vector<int32_t> first;
  bool any = false;
  for (const char* split : {"train", "val"}) {
    auto si = split_info(dir, split, static_cast<size_t>(*n_first));
    if (!si.ok()) return fail("data info: " + si.status().message());
    any |= si->shards > 0;
    if (first.empty()) first = si->first_ids;
    out["splits"][split] = {{"shards", si->shards},
                            {"tokens", si->tokens},
                            {"loss_tokens", si->loss_tokens},
                            {"has_mask", si->has_mask}};
    if (meta.contains("splits") && meta["splits"].contains(split) &&
        meta["splits"][split].contains("documents"))
      out["splits"][split]["documents"] = meta["splits"][split]["documents"];
  }
  if (!any)
    return fail("data info: " + dir +
                " holds no train-*.bin or val-*.bin shards (make them with 'starfire data "
                "prepare')");
  out["first_ids"] = first;

  std::string tok_path = args.str("--tokenizer");
  if (tok_path.empty() && meta.contains("tokenizer") && meta["tokenizer"].contains("path") &&
      meta["tokenizer"]["path"].is_string())
    tok_path = meta["tokenizer"]["path"].get<std::string>();
  std::string tok_note;
  if (!tok_path.empty()) {
    auto tok = train::load_tokenizer(tok_path);
    if (tok.ok()) {
      out["tokenizer"] = tok_path;
      out["first_text"] = (*tok)->decode(first);
    } else {
      tok_note = tok.status().message();
    }
  } else {
    tok_note = "no tokenizer in meta.json; give --tokenizer PATH to decode";
  }
  if (meta.contains("skipped_lines")) out["skipped_lines"] = meta["skipped_lines"]["count"];

  if (args.flag("--json")) {
    if (!tok_note.empty()) out["tokenizer_note"] = tok_note;
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("%s\n", dir.c_str());
  for (const char* split : {"train", "val"}) {
    const ojson& s = out["splits"][split];
    std::printf("  %-6s %d shard%s, %s tokens, loss on %s%s", split, s["shards"].get<int>(),
                s["shards"].get<int>() == 1 ? "" : "s", grouped(s["tokens"].get<int64_t>()).c_str(),
                grouped(s["loss_tokens"].get<int64_t>()).c_str(),
                s["has_mask"].get<bool>() ? " (masked)" : "");
    if (s.contains("documents"))
      std::printf(", %s documents", grouped(s["documents"].get<int64_t>()).c_str());
    std::printf("\n");
  }
  std::printf("  first %zu ids:", first.size());
  for (int32_t id : first) std::printf(" %d", id);
  std::printf("\n");
  if (out.contains("first_text"))
    std::printf(
        "  decoded: %s\n",
        out["first_text"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  else
    std::printf("  (not decoded: %s)\n", tok_note.c_str());
  return 0;
}

int run(int argc, char** argv) {
  const std::string sub = argc > 0 ? argv[0] : "";
  if (sub == "prepare") return prepare(argc - 1, argv + 1);
  if (sub == "info") return info(argc - 1, argv + 1);
  if (sub == "--help" || sub == "-h" || sub.empty()) {
    std::puts(
        "usage: starfire data prepare --input PATH... --tokenizer PATH -o OUTDIR [options]\n"
        "       starfire data info DIR\n\n"
        "  prepare  tokenize text / JSONL (plain or chat) into training shards\n"
        "  info     what a prepared folder holds, its first tokens decoded\n\n"
        "'starfire data <subcommand> --help' for the options.");
    return sub.empty() ? 1 : 0;
  }
  return fail("data: unknown subcommand '" + sub + "' (prepare, info)");
}

const RegisterCommand reg({"data", "prepare training data (token shards) and inspect it", run});

}  // namespace
}  // namespace sf::cli
