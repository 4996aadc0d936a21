// The local model store: models fetched by `starfire pull`, kept as the hub
// lays them out, so `run -m <repo>` finds them by name.
//
// Layout: <root>/<org>/<name>/<files as in the repo>, plus
// <root>/<org>/<name>/.starfire.json (repo, revision, and each file's size and
// sha256/etag as the hub stated them). A download in progress is
// <file>.partial beside its final name; it is renamed only after its checksum
// matched. root = $STARFIRE_HOME/models, or ~/.cache/starfire/models.
// Thread-safety: plain filesystem operations; concurrent pulls of the same
// repo are not coordinated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace sf::store {

std::string root();

// "org/name" is a valid repo id: two path components of [A-Za-z0-9._-],
// neither "." nor "..".
bool valid_repo(const std::string& repo);

// Where a repo lives in the store (whether or not it exists yet).
std::string repo_dir(const std::string& repo);

struct StoredFile {
  std::string path;  // relative to the repo folder
  uint64_t size = 0;
  std::string sha256;  // hex, "" when the hub gave none
};

struct StoredModel {
  std::string repo;
  std::string revision;
  std::string dir;
  std::vector<StoredFile> files;
  uint64_t bytes() const;
};

// "org/name" -> the folder (when it holds config.json) or its only .gguf;
// "org/name:file.gguf" -> that file. Errors say what is stored and how to pick.
Result<std::string> resolve(const std::string& name);

std::vector<StoredModel> list();
Result<StoredModel> read_manifest(const std::string& repo);
Status write_manifest(const StoredModel& m);
// Removes a repo (or one file of it with "org/name:file").
Status remove(const std::string& name);

}  // namespace sf::store
