#include "tokenizer/text_corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace sf::tok {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool cut_ok(std::string_view t, size_t p) {
  return p > 0 && p < t.size() && t[p - 1] == '\n' && t[p] > 0x20 && t[p] < 0x7F;
}

bool has_ext(const fs::path& p, const char* ext) {
  return p.extension().string() == ext;
}

// Plain text streamed in blocks of about `block` bytes, each cut at a safe point.
Status read_txt(const fs::path& path, const std::function<bool(std::string_view)>& sink,
                CorpusStats* st, bool* stop, size_t block) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return errorf("%s: cannot open for reading", path.string().c_str());
  std::string buf;
  bool eof = false;
  while (!eof) {
    const size_t old = buf.size();
    buf.resize(old + block);
    f.read(buf.data() + old, static_cast<std::streamsize>(block));
    buf.resize(old + static_cast<size_t>(f.gcount()));
    if (f.bad()) return errorf("%s: read error", path.string().c_str());
    eof = !f;
    // Keep the tail after the last safe point for the next block (all of it
    // when there is none yet: a very long line is read on until one comes).
    const size_t cut = eof ? buf.size() : text_safe_cut(buf, buf.size() - 1);
    if (cut == 0 || (!eof && cut == buf.size())) continue;
    ++st->docs;
    st->bytes += cut;
    if (!sink(std::string_view(buf).substr(0, cut))) {
      *stop = true;
      return Status();
    }
    buf.erase(0, cut);
  }
  return Status();
}

// One message content: a string, or OpenAI-style parts [{"type":"text","text":...}].
bool content_texts(const json& c, std::vector<std::string>* out) {
  if (c.is_string()) {
    out->push_back(c.get<std::string>());
    return true;
  }
  if (c.is_null()) return true;  // e.g. an assistant turn that only calls tools
  if (!c.is_array()) return false;
  for (const json& part : c) {
    if (!part.is_object()) return false;
    auto t = part.find("text");
    if (t != part.end() && t->is_string()) out->push_back(t->get<std::string>());
  }
  return true;
}

Status read_jsonl(const fs::path& path, const std::function<bool(std::string_view)>& sink,
                  CorpusStats* st, bool* stop) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return errorf("%s: cannot open for reading", path.string().c_str());
  std::string line;
  std::vector<std::string> docs;
  for (uint64_t lineno = 1; std::getline(f, line); ++lineno) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
    const auto where = [&] { return path.string() + ":" + std::to_string(lineno); };
    const char* hint =
        " (each line must be one JSON object with \"text\": \"...\" or \"messages\": "
        "[{\"role\": ..., \"content\": \"...\"}])";
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return Status::error(where() + ": not a JSON object (or not valid JSON / UTF-8)" + hint);
    docs.clear();
    if (auto t = j.find("text"); t != j.end() && t->is_string()) {
      docs.push_back(t->get<std::string>());
    } else if (auto m = j.find("messages"); m != j.end() && m->is_array()) {
      for (const json& msg : *m) {
        auto c = msg.is_object() ? msg.find("content") : msg.end();
        if (c == msg.end() || !content_texts(*c, &docs))
          return Status::error(where() + ": a message without a text \"content\"" + hint);
      }
    } else {
      return Status::error(where() + ": no \"text\" string or \"messages\" list" + hint);
    }
    for (const std::string& d : docs) {
      if (d.empty()) continue;
      ++st->docs;
      st->bytes += d.size();
      if (!sink(d)) {
        *stop = true;
        return Status();
      }
    }
  }
  if (f.bad()) return errorf("%s: read error", path.string().c_str());
  return Status();
}

Status read_file(const fs::path& p, const std::function<bool(std::string_view)>& sink,
                 CorpusStats* st, bool* stop, size_t block) {
  ++st->files;
  return has_ext(p, ".jsonl") ? read_jsonl(p, sink, st, stop) : read_txt(p, sink, st, stop, block);
}

}  // namespace

size_t text_safe_cut(std::string_view text, size_t target) {
  if (target >= text.size()) return text.size();
  for (size_t p = target; p > 0; --p)
    if (cut_ok(text, p)) return p;
  for (size_t p = target + 1; p < text.size(); ++p)
    if (cut_ok(text, p)) return p;
  return text.size();
}

Status read_text_corpus(const std::vector<std::string>& paths,
                        const std::function<bool(std::string_view)>& sink, CorpusStats* stats,
                        size_t block_bytes) {
  block_bytes = std::max<size_t>(block_bytes, 1);
  CorpusStats local;
  CorpusStats* st = stats ? stats : &local;
  bool stop = false;
  for (const std::string& arg : paths) {
    const fs::path p(arg);
    std::error_code ec;
    const fs::file_status s = fs::status(p, ec);
    if (ec || !fs::exists(s))
      return errorf("%s: no such file or directory (give .txt/.jsonl files or folders of them)",
                    arg.c_str());
    if (fs::is_directory(s)) {
      std::vector<fs::path> files;
      uint64_t skipped = 0;
      for (fs::recursive_directory_iterator
               it(p, fs::directory_options::skip_permission_denied, ec),
           end;
           !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        if (has_ext(it->path(), ".txt") || has_ext(it->path(), ".jsonl")) {
          files.push_back(it->path());
        } else {
          ++skipped;
        }
      }
      if (ec) return errorf("%s: cannot list: %s", arg.c_str(), ec.message().c_str());
      st->skipped_files += skipped;
      if (files.empty())
        return errorf("%s: no .txt or .jsonl files in this folder (%llu other files skipped)",
                      arg.c_str(), static_cast<unsigned long long>(skipped));
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) {
        SF_RETURN_IF_ERROR(read_file(f, sink, st, &stop, block_bytes));
        if (stop) return Status();
      }
    } else {
      SF_RETURN_IF_ERROR(read_file(p, sink, st, &stop, block_bytes));
      if (stop) return Status();
    }
  }
  return Status();
}

}  // namespace sf::tok
