#include "models/model_store.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace sf::store {
namespace fs = std::filesystem;

namespace {

constexpr const char* kManifest = ".starfire.json";

void split_name(const std::string& name, std::string& repo, std::string& file) {
  const size_t colon = name.find(':');
  repo = name.substr(0, colon);
  file = colon == std::string::npos ? "" : name.substr(colon + 1);
}

bool valid_part(const std::string& s) {
  if (s.empty() || s == "." || s == ".." || s.size() > 96) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

}  // namespace

std::string root() {
  if (const char* h = std::getenv("STARFIRE_HOME"); h && *h)
    return (fs::path(h) / "models").string();
  const char* home = std::getenv("HOME");
  return (fs::path(home && *home ? home : "/tmp") / ".cache" / "starfire" / "models").string();
}

bool valid_repo(const std::string& repo) {
  const size_t slash = repo.find('/');
  if (slash == std::string::npos) return false;
  return valid_part(repo.substr(0, slash)) && valid_part(repo.substr(slash + 1));
}

std::string repo_dir(const std::string& repo) {
  return (fs::path(root()) / repo).string();
}

uint64_t StoredModel::bytes() const {
  uint64_t n = 0;
  for (const StoredFile& f : files) n += f.size;
  return n;
}

Result<StoredModel> read_manifest(const std::string& repo) {
  const fs::path p = fs::path(repo_dir(repo)) / kManifest;
  std::ifstream in(p, std::ios::binary);
  if (!in) return errorf("model '%s' is not in the store (%s)", repo.c_str(), root().c_str());
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return errorf("%s: not valid JSON", p.string().c_str());
  StoredModel m;
  m.repo = repo;
  m.dir = repo_dir(repo);
  m.revision = j.value("revision", "");
  if (auto it = j.find("files"); it != j.end() && it->is_array())
    for (const auto& f : *it)
      if (f.is_object())
        m.files.push_back(
            {f.value("path", ""), f.value("size", uint64_t{0}), f.value("sha256", "")});
  return m;
}

Status write_manifest(const StoredModel& m) {
  nlohmann::json j;
  j["repo"] = m.repo;
  j["revision"] = m.revision;
  j["files"] = nlohmann::json::array();
  for (const StoredFile& f : m.files)
    j["files"].push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  const fs::path p = fs::path(repo_dir(m.repo)) / kManifest;
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  std::ofstream out(p.string() + ".tmp", std::ios::binary | std::ios::trunc);
  out << j.dump(2) << "\n";
  out.close();
  if (!out) return errorf("%s: cannot write", p.string().c_str());
  fs::rename(p.string() + ".tmp", p, ec);
  if (ec) return errorf("%s: %s", p.string().c_str(), ec.message().c_str());
  return {};
}

Result<std::string> resolve(const std::string& name) {
  std::string repo, file;
  split_name(name, repo, file);
  if (!valid_repo(repo))
    return errorf(
        "model '%s' not found: it is not a file, a folder, or a stored model name "
        "(org/name[:file]); check the path (-m), or see `starfire list`",
        name.c_str());
  const fs::path dir = repo_dir(repo);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return errorf(
        "model '%s' not found: not a file or folder, and no model '%s' is stored in %s; "
        "fetch it with `starfire pull %s`",
        name.c_str(), repo.c_str(), root().c_str(), repo.c_str());
  if (!file.empty()) {
    const fs::path p = dir / file;
    if (file.find("..") != std::string::npos || !fs::is_regular_file(p, ec))
      return errorf("stored model '%s' has no file '%s'", repo.c_str(), file.c_str());
    return p.string();
  }
  if (fs::exists(dir / "config.json", ec)) return dir.string();
  std::vector<std::string> ggufs;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".gguf")
      ggufs.push_back(fs::relative(e.path(), dir).string());
  if (ggufs.size() == 1) return (dir / ggufs[0]).string();
  if (ggufs.empty())
    return errorf("stored model '%s' has neither config.json nor a .gguf file", repo.c_str());
  std::string list;
  for (const auto& g : ggufs) list += "\n  " + repo + ":" + g;
  return errorf("stored model '%s' has %zu .gguf files; name one:%s", repo.c_str(), ggufs.size(),
                list.c_str());
}

std::vector<StoredModel> list() {
  std::vector<StoredModel> out;
  std::error_code ec;
  for (const auto& org : fs::directory_iterator(root(), ec)) {
    if (!org.is_directory()) continue;
    for (const auto& repo : fs::directory_iterator(org.path(), ec)) {
      if (!fs::exists(repo.path() / kManifest)) continue;
      auto m =
          read_manifest(org.path().filename().string() + "/" + repo.path().filename().string());
      if (m.ok()) out.push_back(std::move(*m));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const StoredModel& a, const StoredModel& b) { return a.repo < b.repo; });
  return out;
}

Status remove(const std::string& name) {
  std::string repo, file;
  split_name(name, repo, file);
  if (!valid_repo(repo)) return errorf("'%s' is not a model name (org/name[:file])", name.c_str());
  SF_ASSIGN_OR_RETURN(StoredModel m, read_manifest(repo));
  std::error_code ec;
  if (file.empty()) {
    fs::remove_all(m.dir, ec);
    if (ec) return errorf("%s: %s", m.dir.c_str(), ec.message().c_str());
    fs::remove(fs::path(m.dir).parent_path(), ec);  // the org folder, if now empty
    return {};
  }
  auto it = std::find_if(m.files.begin(), m.files.end(),
                         [&](const StoredFile& f) { return f.path == file; });
  if (it == m.files.end())
    return errorf("stored model '%s' has no file '%s'", repo.c_str(), file.c_str());
  fs::remove(fs::path(m.dir) / file, ec);
  m.files.erase(it);
  return write_manifest(m);
}

}  // namespace sf::store
