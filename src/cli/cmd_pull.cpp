// `starfire pull REPO[:FILE]`: downloads a model from a Hugging Face-compatible
// hub into the local store (models/model_store.h).
//
// Hub API used (what huggingface.co, its mirrors and ModelScope's HF-compatible
// endpoint serve): GET {endpoint}/api/models/{repo}[/revision/{rev}]?blobs=true
// lists the files (siblings, with LFS sha256 and size); HEAD
// {endpoint}/{repo}/resolve/{rev}/{file}, without following the redirect,
// gives X-Linked-Etag / ETag (sha256 for LFS files, the git blob sha1 for
// small ones) and the size; GET on the same URL (redirects followed) with
// Range: bytes=N- resumes a partial file. Each file is downloaded to
// <file>.partial, retried with a range request when the connection drops, and
// renamed only after its checksum matched. The endpoint is $HF_ENDPOINT
// (default https://huggingface.co), so a mirror or an internal hub works;
// $HF_TOKEN, when set, is sent as a bearer token.
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/args.h"
#include "cli/command.h"
#include "cli/progress.h"
#include "formats/hf_hash.h"
#include "models/model_store.h"

namespace sf::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Endpoint {
  std::string origin;  // scheme://host[:port]
  std::string prefix;  // path below the origin ("" or "/mirror")
};

Result<Endpoint> endpoint() {
  const char* env = std::getenv("HF_ENDPOINT");
  std::string url = env && *env ? env : "https://huggingface.co";
  while (!url.empty() && url.back() == '/') url.pop_back();
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos ||
      (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0))
    return errorf("HF_ENDPOINT '%s' must start with http:// or https://", url.c_str());
  const size_t path = url.find('/', scheme + 3);
  Endpoint e;
  e.origin = url.substr(0, path);
  if (path != std::string::npos) e.prefix = url.substr(path);
  return e;
}

std::unique_ptr<httplib::Client> client(const Endpoint& e, bool follow) {
  auto c = std::make_unique<httplib::Client>(e.origin);
  c->set_follow_location(follow);
  c->set_connection_timeout(30);
  c->set_read_timeout(60);
  if (const char* tok = std::getenv("HF_TOKEN"); tok && *tok) c->set_bearer_token_auth(tok);
  return c;
}

// Percent-encodes a path segment's unsafe bytes (file names may hold spaces).
std::string url_path(const std::string& s) {
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || std::strchr("/-._~", ch)) {
      out += static_cast<char>(ch);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", ch);
      out += buf;
    }
  }
  return out;
}

std::string clean_etag(std::string v) {
  if (v.rfind("W/", 0) == 0) v = v.substr(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

bool is_hex(const std::string& s, size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

struct RemoteFile {
  std::string path;
  uint64_t size = 0;
  std::string sha256;  // LFS files
  std::string sha1;    // git blob id of small files
};

// Files a folder model needs; a GGUF repo is fetched one chosen file at a time.
bool wanted(const std::string& f) {
  static const char* kNames[] = {"config.json",
                                 "generation_config.json",
                                 "tokenizer.json",
                                 "tokenizer_config.json",
                                 "special_tokens_map.json",
                                 "chat_template.jinja",
                                 "model.safetensors.index.json"};
  for (const char* n : kNames)
    if (f == n) return true;
  return f.size() > 12 && f.compare(f.size() - 12, 12, ".safetensors") == 0 &&
         f.find('/') == std::string::npos;
}

Result<std::vector<RemoteFile>> list_files(const Endpoint& e, const std::string& repo,
                                           const std::string& rev, std::string* commit) {
  auto c = client(e, true);
  std::string path = e.prefix + "/api/models/" + url_path(repo);
  if (rev != "main") path += "/revision/" + url_path(rev);
  path += "?blobs=true";
  auto res = c->Get(path);
  if (!res)
    return errorf("cannot reach %s%s: %s", e.origin.c_str(), path.c_str(),
                  httplib::to_string(res.error()).c_str());
  if (res->status == 401 || res->status == 403)
    return errorf("%s: access denied (HTTP %d); gated or private repos need HF_TOKEN", repo.c_str(),
                  res->status);
  if (res->status == 404)
    return errorf("%s: no such model on %s (HTTP 404)", repo.c_str(), e.origin.c_str());
  if (res->status != 200) return errorf("%s: the hub answered HTTP %d", repo.c_str(), res->status);
  json j = json::parse(res->body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("siblings") || !j["siblings"].is_array())
    return errorf("%s: the hub's model info has no file list (siblings)", repo.c_str());
  if (commit) *commit = j.value("sha", rev);
  std::vector<RemoteFile> out;
  for (const json& s : j["siblings"]) {
    if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string()) continue;
    RemoteFile f;
    f.path = s["rfilename"];
    if (s.contains("size") && s["size"].is_number_unsigned()) f.size = s["size"];
    if (auto l = s.find("lfs"); l != s.end() && l->is_object()) {
      f.sha256 = l->value("sha256", "");
      if (l->contains("size") && (*l)["size"].is_number_unsigned()) f.size = (*l)["size"];
    }
    // Never write outside the repo folder.
    if (f.path.empty() || f.path.find("..") != std::string::npos || f.path[0] == '/') continue;
    out.push_back(std::move(f));
  }
  return out;
}

// Checks a finished file against the hub's checksum; "" when it matches.
std::string verify(const fs::path& p, const RemoteFile& f, std::string* sha256_out) {
  std::ifstream in(p, std::ios::binary);
  hf::Sha256 s256;
  hf::Sha1 s1;
  const uint64_t size = fs::file_size(p);
  const std::string hdr = hf::git_blob_header(size);
  s1.update(hdr.data(), hdr.size());
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const size_t n = static_cast<size_t>(in.gcount());
    s256.update(buf.data(), n);
    s1.update(buf.data(), n);
  }
  const std::string got256 = s256.hex(), got1 = s1.hex();
  *sha256_out = got256;
  if (!f.sha256.empty() && got256 != f.sha256)
    return "sha256 is " + got256 + ", the hub says " + f.sha256;
  if (f.sha256.empty() && !f.sha1.empty() && got1 != f.sha1)
    return "git blob id is " + got1 + ", the hub says " + f.sha1;
  return "";
}

Status download(const Endpoint& e, const std::string& repo, const std::string& rev, RemoteFile f,
                const fs::path& dir, store::StoredModel& manifest, int max_attempts) {
  const std::string url =
      e.prefix + "/" + url_path(repo) + "/resolve/" + url_path(rev) + "/" + url_path(f.path);
  // The first response (before any redirect to a CDN) carries the checksum.
  {
    auto head = client(e, false)->Head(url);
    if (!head) return errorf("%s: %s", f.path.c_str(), httplib::to_string(head.error()).c_str());
    if (head->status >= 400)
      return errorf("%s: HTTP %d from %s", f.path.c_str(), head->status, url.c_str());
    std::string tag = clean_etag(head->get_header_value("X-Linked-Etag"));
    if (tag.empty()) tag = clean_etag(head->get_header_value("ETag"));
    if (is_hex(tag, 64) && f.sha256.empty()) f.sha256 = tag;
    if (is_hex(tag, 40)) f.sha1 = tag;
    std::string len = head->get_header_value("X-Linked-Size");
    if (len.empty() && head->status == 200) len = head->get_header_value("Content-Length");
    if (!len.empty() && f.size == 0) f.size = std::strtoull(len.c_str(), nullptr, 10);
  }
  const fs::path final_path = dir / f.path, part = final_path.string() + ".partial";
  fs::create_directories(final_path.parent_path());
  std::error_code ec;
  for (const store::StoredFile& s : manifest.files)
    if (s.path == f.path && fs::exists(final_path, ec) && fs::file_size(final_path, ec) == f.size &&
        (f.sha256.empty() || s.sha256 == f.sha256)) {
      std::fprintf(stderr, "%s: up to date\n", f.path.c_str());
      return {};
    }
  if (f.sha256.empty() && f.sha1.empty())
    std::fprintf(stderr, "starfire: warning: the hub gave no checksum for %s\n", f.path.c_str());

  auto c = client(e, true);
  ProgressBar bar(f.path);
  for (int attempt = 1;; ++attempt) {
    uint64_t have = fs::exists(part, ec) ? fs::file_size(part, ec) : 0;
    if (f.size && have > f.size) {
      fs::remove(part, ec);
      have = 0;
    }
    if (f.size && have == f.size) break;
    const uint64_t start = have;
    std::ofstream out(part, std::ios::binary | (have ? std::ios::app : std::ios::trunc));
    if (!out) return errorf("%s: cannot write", part.string().c_str());
    httplib::Headers hdrs;
    if (have) hdrs.emplace("Range", "bytes=" + std::to_string(have) + "-");
    int status = 0;
    std::string problem;
    auto res = c->Get(
        url, hdrs,
        [&](const httplib::Response& r) {
          status = r.status;
          if (r.status == 200 && have) {  // the server ignored the range: start over
            out.close();
            out.open(part, std::ios::binary | std::ios::trunc);
            have = 0;
          }
          if (r.status != 200 && r.status != 206) return false;
          if (!f.size) {
            const std::string len = r.get_header_value("Content-Length");
            if (!len.empty()) f.size = have + std::strtoull(len.c_str(), nullptr, 10);
          }
          return true;
        },
        [&](const char* data, size_t n) {
          out.write(data, static_cast<std::streamsize>(n));
          have += n;
          bar.update_bytes(have, f.size, start);
          return static_cast<bool>(out);
        });
    out.close();
    if (res && (status == 200 || status == 206) && (!f.size || have == f.size)) break;
    if (status == 416 && f.size && have == f.size) break;
    if (res && status != 200 && status != 206) {
      bar.finish();
      return errorf("%s: HTTP %d from %s", f.path.c_str(), status, url.c_str());
    }
    problem = res ? "connection closed early"
                  : "connection dropped (" + httplib::to_string(res.error()) + " error)";
    if (attempt >= max_attempts) {
      bar.finish();
      return errorf(
          "%s: download failed after %d attempts (%s); run pull again to resume from "
          "%s",
          f.path.c_str(), attempt, problem.c_str(), human_bytes(double(have)).c_str());
    }
    std::fprintf(stderr, "\n%s: %s at %s; resuming (attempt %d of %d)\n", f.path.c_str(),
                 problem.c_str(), human_bytes(double(have)).c_str(), attempt + 1, max_attempts);
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
  }
  bar.finish();
  std::string sha;
  const std::string bad = verify(part, f, &sha);
  if (!bad.empty()) {
    fs::remove(part, ec);  // a corrupt download must not be resumed
    return errorf("%s: checksum mismatch (%s); the partial file was deleted", f.path.c_str(),
                  bad.c_str());
  }
  fs::rename(part, final_path, ec);
  if (ec) return errorf("%s: %s", final_path.string().c_str(), ec.message().c_str());
  auto it = std::find_if(manifest.files.begin(), manifest.files.end(),
                         [&](const store::StoredFile& s) { return s.path == f.path; });
  if (it == manifest.files.end()) it = manifest.files.insert(manifest.files.end(), {f.path, 0, ""});
  it->size = fs::file_size(final_path, ec);
  it->sha256 = sha;
  return store::write_manifest(manifest);
}

int run(int argc, char** argv) {
  Args args("pull", "ORG/NAME[:FILE] [--revision REV]",
            {{"--revision", "", "REV", "branch, tag or commit", "main"},
             {"--retries", "", "N", "attempts per file when the connection drops", "5"}});
  if (Status s = args.parse(argc, argv); !s.ok()) return fail(s.message());
  if (args.flag("--help") || args.positional().size() != 1) {
    std::fputs(args.help().c_str(), args.flag("--help") ? stdout : stderr);
    std::fputs(
        "\nThe hub is $HF_ENDPOINT (default https://huggingface.co); models are stored "
        "under $STARFIRE_HOME/models (default ~/.cache/starfire/models).\n",
        args.flag("--help") ? stdout : stderr);
    return args.flag("--help") ? 0 : 1;
  }
  const std::string& name = args.positional()[0];
  const size_t colon = name.find(':');
  const std::string repo = name.substr(0, colon);
  const std::string file = colon == std::string::npos ? "" : name.substr(colon + 1);
  if (!store::valid_repo(repo)) return fail("'" + repo + "' is not a repo id (ORG/NAME)");
  auto retries = args.integer("--retries");
  if (!retries.ok()) return fail(retries.status().message());
  auto ep = endpoint();
  if (!ep.ok()) return fail(ep.status().message());
  const std::string rev = args.str("--revision");
  std::string commit;
  auto files = list_files(*ep, repo, rev, &commit);
  if (!files.ok()) return fail(files.status().message());

  std::vector<RemoteFile> todo;
  bool folder_model = false;
  for (const RemoteFile& f : *files) folder_model |= f.path == "config.json";
  if (!file.empty()) {
    for (const RemoteFile& f : *files)
      if (f.path == file) todo.push_back(f);
    if (todo.empty()) return fail(repo + " has no file '" + file + "'");
  } else if (folder_model) {
    for (const RemoteFile& f : *files)
      if (wanted(f.path)) todo.push_back(f);
  } else {
    std::vector<RemoteFile> ggufs;
    for (const RemoteFile& f : *files)
      if (f.path.size() > 5 && f.path.compare(f.path.size() - 5, 5, ".gguf") == 0)
        ggufs.push_back(f);
    // Like Ollama's default tag: the Q4_K_M file when there is one.
    for (const RemoteFile& f : ggufs)
      if (f.path.find("Q4_K_M") != std::string::npos || f.path.find("q4_k_m") != std::string::npos)
        todo = {f};
    if (todo.empty() && ggufs.size() == 1) todo = ggufs;
    if (todo.empty()) {
      std::string list;
      for (const RemoteFile& f : ggufs) list += "\n  " + repo + ":" + f.path;
      return fail(ggufs.empty() ? repo + " has neither config.json nor a .gguf file"
                                : repo + " has several .gguf files; name one:" + list);
    }
  }

  store::StoredModel manifest;
  if (auto m = store::read_manifest(repo); m.ok()) manifest = *m;
  manifest.repo = repo;
  manifest.revision = commit;
  manifest.dir = store::repo_dir(repo);
  for (const RemoteFile& f : todo) {
    Status st = download(*ep, repo, rev, f, manifest.dir, manifest, std::max(*retries, 1));
    if (!st.ok()) return fail(st.message());
  }
  std::printf("pulled %s (%s) into %s\n", name.c_str(),
              human_bytes(static_cast<double>(manifest.bytes())).c_str(), manifest.dir.c_str());
  return 0;
}

const RegisterCommand reg({"pull", "download a model from a Hugging Face-compatible hub", run});

}  // namespace
}  // namespace sf::cli
