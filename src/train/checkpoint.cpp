#include "train/checkpoint.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sf::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFormat = "starfire-checkpoint";
constexpr int kVersion = 1;
constexpr const char* kBinFiles[3] = {"params.bin", "adam_m.bin", "adam_v.bin"};

std::string errno_str() {
  return std::strerror(errno);
}

std::string step_name(int step) {
  char b[32];
  std::snprintf(b, sizeof b, "step-%08d", step);
  return b;
}

// "step-00000123" -> 123; -1 for anything else.
int parse_step_name(const std::string& name) {
  if (name.size() != 13 || name.compare(0, 5, "step-") != 0) return -1;
  int v = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    v = v * 10 + (name[i] - '0');
  }
  return v;
}

Status fsync_path(const std::string& path, bool dir) {
  const int fd = ::open(path.c_str(), (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Status::error("cannot open '" + path + "' to sync it: " + errno_str());
  const int r = ::fsync(fd);
  ::close(fd);
  if (r != 0) return Status::error("fsync of '" + path + "' failed: " + errno_str());
  return {};
}

// Writes `n` bytes to a new file and fsyncs it; the data reaches the disk
// before the folder holding it is renamed into place.
Status write_synced(const std::string& path, const void* data, size_t n) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error("cannot create '" + path + "': " + errno_str());
  const char* p = static_cast<const char*>(data);
  size_t left = n;
  while (left > 0) {
    const ssize_t w = ::write(fd, p, std::min<size_t>(left, size_t(1) << 30));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const std::string e = errno_str();
      ::close(fd);
      return Status::error("writing '" + path + "' failed: " + e + " (hint: is the disk full?)");
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) {
    const std::string e = errno_str();
    ::close(fd);
    return Status::error("fsync of '" + path + "' failed: " + e);
  }
  if (::close(fd) != 0) return Status::error("closing '" + path + "' failed: " + errno_str());
  return {};
}

std::string hex64(uint64_t x) {
  char b[24];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(x));
  return b;
}

// u64 values are stored as hex strings: JSON readers elsewhere (Python,
// jq) lose precision above 2^53.
Result<uint64_t> get_u64(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_string())
    return Status::error(where + ": missing or bad '" + key + "'");
  const std::string s = j[key].get<std::string>();
  if (s.empty() || s.size() > 16 || s.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Status::error(where + ": bad hex value for '" + key + "'");
  return static_cast<uint64_t>(std::stoull(s, nullptr, 16));
}

json layout_json(const ParamLayout& layout) {
  json t = json::array();
  for (const ParamTensor& p : layout.tensors())
    t.push_back({{"name", p.name}, {"shape", p.shape}, {"offset", p.offset}, {"decay", p.decay}});
  return {{"total", layout.total()}, {"tensors", t}};
}

}  // namespace

uint64_t checksum64(const void* data, size_t n) {
  // Four independent multiply-xor lanes over 8-byte words (memory speed),
  // then a splitmix64-style finalizer over the lanes and the length.
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h[4] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull,
                   0x27D4EB2F165667C5ull};
  constexpr uint64_t kMul = 0x100000001B3ull * 0x2545F4914F6CDD1Dull | 1;
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int l = 0; l < 4; ++l) {
      uint64_t w;
      std::memcpy(&w, p + i + 8 * l, 8);
      h[l] = (h[l] ^ w) * kMul;
      h[l] ^= h[l] >> 29;
    }
  for (; i < n; ++i) h[0] = (h[0] ^ p[i]) * kMul;
  uint64_t r = n;
  for (uint64_t x : {h[0], h[1], h[2], h[3]}) {
    r = (r ^ x) * 0xBF58476D1CE4E5B9ull;
    r ^= r >> 31;
    r *= 0x94D049BB133111EBull;
    r ^= r >> 29;
  }
  return r;
}

std::string checkpoint_path(const std::string& dir, int step) {
  return (fs::path(dir) / step_name(step)).string();
}

std::vector<int> list_checkpoints(const std::string& dir) {
  std::vector<int> steps;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const int s = parse_step_name(it->path().filename().string());
    if (s >= 0 && it->is_directory(ec) && fs::exists(it->path() / "state.json", ec))
      steps.push_back(s);
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

Status write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  SF_RETURN_IF_ERROR(write_synced(tmp, bytes.data(), bytes.size()));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string e = errno_str();
    std::remove(tmp.c_str());
    return Status::error("cannot rename '" + tmp + "' to '" + path + "': " + e);
  }
  fs::path parent = fs::path(path).parent_path();
  return fsync_path(parent.empty() ? "." : parent.string(), true);
}

Status save_checkpoint(const std::string& dir, const CheckpointState& state,
                       const ParamLayout& layout, const ParamBuffer<float>& params,
                       const ParamBuffer<float>& m, const ParamBuffer<float>& v, int keep) {
  const size_t total = layout.total();
  if (params.data.size() != total || m.data.size() != total || v.data.size() != total)
    return Status::error("save_checkpoint: buffers do not match the parameter layout");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::error("cannot create checkpoint folder '" + dir + "': " + ec.message());

  const std::string name = step_name(state.step);
  const std::string pid = std::to_string(::getpid());
  // Leftovers of killed runs: unfinished .tmp-* folders were never complete
  // and go; an .old-* folder is a complete checkpoint moved aside for a
  // re-save of its step, so it goes only if that step was saved again, and
  // otherwise moves back.
  std::vector<fs::path> leftovers;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    leftovers.push_back(it->path());
  for (const fs::path& lp : leftovers) {
    const std::string n = lp.filename().string();
    std::error_code ec2;
    if (n.rfind(".tmp-step-", 0) == 0) {
      fs::remove_all(lp, ec2);
    } else if (n.rfind(".old-step-", 0) == 0 && n.size() > 18) {
      const fs::path orig = fs::path(dir) / n.substr(5, 13);
      if (fs::exists(orig / "state.json", ec2))
        fs::remove_all(lp, ec2);
      else
        fs::rename(lp, orig, ec2);
    }
  }
  const fs::path tmp = fs::path(dir) / (".tmp-" + name + "-" + pid);
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return Status::error("cannot create '" + tmp.string() + "': " + ec.message());

  json files = json::object();
  const ParamBuffer<float>* bufs[3] = {&params, &m, &v};
  for (int i = 0; i < 3; ++i) {
    const size_t bytes = total * sizeof(float);
    const uint64_t sum = checksum64(bufs[i]->data.data(), bytes);
    SF_RETURN_IF_ERROR(write_synced((tmp / kBinFiles[i]).string(), bufs[i]->data.data(), bytes));
    files[kBinFiles[i]] = {{"bytes", bytes}, {"checksum", hex64(sum)}};
  }
  json j = {{"format", kFormat},
            {"version", kVersion},
            {"step", state.step},
            {"config", state.config},
            {"train_index", hex64(state.train_index)},
            {"val_index", hex64(state.val_index)},
            {"model_rng", hex64(state.model_rng)},
            {"sampler_rng", hex64(state.sampler_rng)},
            {"tokens_seen", hex64(state.tokens_seen)},
            {"elapsed_s", state.elapsed_s},
            {"extra", state.extra},
            {"layout", layout_json(layout)},
            {"files", files}};
  const std::string text = j.dump(2) + "\n";
  SF_RETURN_IF_ERROR(write_synced((tmp / "state.json").string(), text.data(), text.size()));
  SF_RETURN_IF_ERROR(fsync_path(tmp.string(), true));

  const fs::path final_path = fs::path(dir) / name;
  if (fs::exists(final_path, ec)) {
    // Same step saved again (e.g. after an interrupted final export): move
    // the old one aside first, since rename() cannot replace a non-empty folder.
    const fs::path old = fs::path(dir) / (".old-" + name + "-" + pid);
    fs::rename(final_path, old, ec);
    if (ec)
      return Status::error("cannot move aside '" + final_path.string() + "': " + ec.message());
  }
  fs::rename(tmp, final_path, ec);
  if (ec)
    return Status::error("cannot rename '" + tmp.string() + "' to '" + final_path.string() +
                         "': " + ec.message());
  SF_RETURN_IF_ERROR(fsync_path(dir, true));
  fs::remove_all(fs::path(dir) / (".old-" + name + "-" + pid), ec);

  // Prune only after the new checkpoint is durable.
  std::vector<int> all = list_checkpoints(dir);
  const int n_remove = static_cast<int>(all.size()) - std::max(keep, 1);
  for (int i = 0; i < n_remove; ++i) {
    if (all[i] == state.step) continue;
    fs::remove_all(checkpoint_path(dir, all[i]), ec);
  }
  return {};
}

Result<CheckpointState> read_checkpoint_state(const std::string& dir, std::string* path) {
  const std::vector<int> steps = list_checkpoints(dir);
  if (steps.empty())
    return Status::error("no checkpoint in '" + dir +
                         "' (hint: drop --resume to start a new run there)");
  const std::string p = checkpoint_path(dir, steps.back());
  const std::string where = p + "/state.json";
  const std::string older = steps.size() > 1 ? " (hint: remove '" + p + "' to resume from step " +
                                                   std::to_string(steps[steps.size() - 2]) + ")"
                                             : "";
  std::ifstream f(where, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::error(where + " is not valid JSON" + older);
  if (j.value("format", "") != kFormat)
    return Status::error(where + ": not a Starfire checkpoint" + older);
  if (j.value("version", 0) != kVersion)
    return Status::error(where + ": checkpoint version " + std::to_string(j.value("version", 0)) +
                         ", this build reads version " + std::to_string(kVersion));
  CheckpointState st;
  if (!j.contains("step") || !j["step"].is_number_integer() || j["step"].get<int>() != steps.back())
    return Status::error(where + ": step does not match the folder name" + older);
  st.step = j["step"].get<int>();
  st.config = j.value("config", json::object());
  SF_ASSIGN_OR_RETURN(st.train_index, get_u64(j, "train_index", where));
  SF_ASSIGN_OR_RETURN(st.val_index, get_u64(j, "val_index", where));
  SF_ASSIGN_OR_RETURN(st.model_rng, get_u64(j, "model_rng", where));
  SF_ASSIGN_OR_RETURN(st.sampler_rng, get_u64(j, "sampler_rng", where));
  SF_ASSIGN_OR_RETURN(st.tokens_seen, get_u64(j, "tokens_seen", where));
  st.elapsed_s = j.value("elapsed_s", 0.0);
  st.extra = j.value("extra", json::object());
  const json& files = j.value("files", json::object());
  for (const char* name : kBinFiles) {
    if (!files.contains(name)) return Status::error(where + ": no entry for " + name + older);
    std::error_code ec;
    const uint64_t size = fs::file_size(fs::path(p) / name, ec);
    if (ec || size != files[name].value("bytes", uint64_t(0)))
      return Status::error(p + "/" + name + " is missing or has the wrong size" + older);
  }
  if (path) *path = p;
  return st;
}

Status load_checkpoint_tensors(const std::string& path, const ParamLayout& layout,
                               ParamBuffer<float>& params, ParamBuffer<float>& m,
                               ParamBuffer<float>& v) {
  const std::string where = path + "/state.json";
  std::ifstream f(where, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.contains("layout") || !j.contains("files"))
    return Status::error(where + ": missing layout or files");
  const json& lj = j["layout"];
  const json& tj = lj.value("tensors", json::array());
  std::string diff;
  int n_diff = 0;
  auto note = [&](const std::string& s) {
    if (n_diff++ < 5) diff += "\n  " + s;
  };
  if (tj.size() != layout.tensors().size())
    note("checkpoint has " + std::to_string(tj.size()) + " tensors, the model " +
         std::to_string(layout.tensors().size()));
  for (size_t i = 0; i < std::min(tj.size(), layout.tensors().size()); ++i) {
    const ParamTensor& t = layout[static_cast<int>(i)];
    const json& c = tj[i];
    if (c.value("name", "") != t.name || c.value("shape", std::vector<int64_t>{}) != t.shape ||
        c.value("offset", size_t(0)) != t.offset || c.value("decay", !t.decay) != t.decay)
      note("tensor " + std::to_string(i) + ": checkpoint " + c.dump() + ", model " + t.name + " " +
           json(t.shape).dump());
  }
  if (lj.value("total", size_t(0)) != layout.total())
    note("buffer length: checkpoint " + std::to_string(lj.value("total", size_t(0))) + ", model " +
         std::to_string(layout.total()));
  if (n_diff)
    return Status::error("checkpoint '" + path + "' does not fit the model being trained:" + diff +
                         (n_diff > 5 ? "\n  ..." : "") +
                         "\nhint: the model settings (or the base model) changed since it was "
                         "written; resume with the original ones");
  ParamBuffer<float>* bufs[3] = {&params, &m, &v};
  for (int i = 0; i < 3; ++i) {
    const std::string file = path + "/" + kBinFiles[i];
    const size_t bytes = layout.total() * sizeof(float);
    bufs[i]->data.assign(layout.total(), 0.0f);
    std::ifstream in(file, std::ios::binary);
    if (!in.read(reinterpret_cast<char*>(bufs[i]->data.data()),
                 static_cast<std::streamsize>(bytes)))
      return Status::error("cannot read " + std::to_string(bytes) + " bytes from '" + file + "'");
    SF_ASSIGN_OR_RETURN(uint64_t want,
                        get_u64(j["files"].value(kBinFiles[i], json::object()), "checksum", where));
    if (checksum64(bufs[i]->data.data(), bytes) != want)
      return Status::error("checkpoint file '" + file +
                           "' is corrupt (checksum mismatch); hint: remove '" + path +
                           "' to resume from the previous checkpoint");
  }
  return {};
}

Result<std::unique_ptr<CheckpointLock>> CheckpointLock::acquire(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::error("cannot create checkpoint folder '" + dir + "': " + ec.message());
  const std::string path = (fs::path(dir) / ".lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error("cannot open '" + path + "': " + errno_str());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Status::error("another process is training into '" + dir + "' (it holds " + path +
                         "); hint: wait for it to finish or use another --ckpt-dir");
  }
  return std::unique_ptr<CheckpointLock>(new CheckpointLock(fd));
}

CheckpointLock::~CheckpointLock() {
  ::close(fd_);
}

}  // namespace sf::train
