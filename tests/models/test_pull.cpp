// `starfire pull / list / rm` and `run -m ORG/NAME` against a fake hub
// (tests/hf/fake_hub.py) that this test starts on 127.0.0.1: a folder model,
// a GGUF repo, a connection dropped mid-file (resumed with a range request),
// and a wrong checksum (refused, nothing kept).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "models/hf_convert.h"
#include "test_util.h"

namespace sf {
namespace {

namespace fs = std::filesystem;

const fs::path kSrc = fs::path(__FILE__).parent_path().parent_path();

std::string python() {
  return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

struct CmdResult {
  int rc;
  std::string out;
};

CmdResult sh(const std::string& cmd) {
  CmdResult r{-1, ""};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// One fake hub process for a test; stopped (by its pid) when the test ends.
class FakeHub {
 public:
  FakeHub(const std::string& name, const std::string& args) {
    dir_ = test::tmp_path("hub_" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    log_ = dir_ / "requests.log";
    const fs::path port_file = dir_ / "port";
    std::string cmd = "(";
    cmd += python();
    for (const std::string& part :
         {(kSrc / "hf" / "fake_hub.py").string(), args, std::string("--log"), log_.string(),
          std::string("--lifetime 120 >"), port_file.string()}) {
      cmd += ' ';
      cmd += part;
    }
    cmd += " 2>/dev/null & echo $!)";
    const CmdResult r = sh(cmd);
    pid_ = std::atoi(r.out.c_str());
    for (int i = 0; i < 100 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      port_ = std::atoi(test::read_file(port_file).c_str());
    }
  }
  ~FakeHub() {
    if (pid_ > 0) kill(pid_, SIGTERM);
  }
  int port() const { return port_; }
  std::string log() const { return test::read_file(log_); }
  // Runs the starfire binary against this hub with its own model store.
  CmdResult starfire(const std::string& args) const {
    return sh("HF_ENDPOINT=http://127.0.0.1:" + std::to_string(port_) +
              " STARFIRE_HOME=" + (dir_ / "home").string() + " " + STARFIRE_BINARY + " " + args);
  }
  fs::path store() const { return dir_ / "home" / "models"; }

 private:
  fs::path dir_, log_;
  int pid_ = 0, port_ = 0;
};

std::string repo_arg(const std::string& repo, const std::string& model) {
  return repo + "=" + (kSrc / "data" / "hf" / model).string();
}

TEST(Pull, FolderModelListRunRemove) {
  if (!fs::exists(STARFIRE_BINARY)) GTEST_SKIP() << "starfire binary not built";
  FakeHub hub("folder", repo_arg("test/tiny-qwen2", "qwen2"));
  ASSERT_GT(hub.port(), 0) << "fake hub did not start";
  CmdResult r = hub.starfire("pull test/tiny-qwen2");
  ASSERT_EQ(r.rc, 0) << r.out;
  const fs::path dir = hub.store() / "test" / "tiny-qwen2";
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", ".starfire.json"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  EXPECT_EQ(test::read_file(dir / "model.safetensors"),
            test::read_file(kSrc / "data" / "hf" / "qwen2" / "model.safetensors"));
  r = hub.starfire("list");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("test/tiny-qwen2"), std::string::npos) << r.out;
  r = hub.starfire("run -m test/tiny-qwen2 -p the -n 3 --temp 0 --json");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("\"ids\""), std::string::npos) << r.out;
  r = hub.starfire("pull test/tiny-qwen2");  // second pull: nothing to fetch
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("up to date"), std::string::npos) << r.out;
  r = hub.starfire("pull test/no-such-model");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("404"), std::string::npos) << r.out;
  r = hub.starfire("rm test/tiny-qwen2");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_FALSE(fs::exists(dir));
  r = hub.starfire("run -m test/tiny-qwen2 -p the -n 1");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("starfire pull"), std::string::npos) << r.out;
}

TEST(Pull, DroppedConnectionResumesWithRange) {
  if (!fs::exists(STARFIRE_BINARY)) GTEST_SKIP() << "starfire binary not built";
  FakeHub hub("drop", repo_arg("test/tiny-llama", "llama") + " --drop model.safetensors");
  ASSERT_GT(hub.port(), 0);
  CmdResult r = hub.starfire("pull test/tiny-llama");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("resuming"), std::string::npos) << r.out;
  const std::string log = hub.log();
  EXPECT_NE(log.find("model.safetensors bytes="), std::string::npos) << log;
  const fs::path got = hub.store() / "test" / "tiny-llama" / "model.safetensors";
  EXPECT_EQ(test::read_file(got),
            test::read_file(kSrc / "data" / "hf" / "llama" / "model.safetensors"));
  EXPECT_FALSE(fs::exists(got.string() + ".partial"));
}

TEST(Pull, InterruptedPullResumesOnTheNextRun) {
  if (!fs::exists(STARFIRE_BINARY)) GTEST_SKIP() << "starfire binary not built";
  FakeHub hub("resume", repo_arg("test/tiny-mistral", "mistral") + " --drop model.safetensors");
  ASSERT_GT(hub.port(), 0);
  CmdResult r = hub.starfire("pull test/tiny-mistral --retries 1");
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("run pull again to resume"), std::string::npos) << r.out;
  const fs::path got = hub.store() / "test" / "tiny-mistral" / "model.safetensors";
  ASSERT_TRUE(fs::exists(got.string() + ".partial"));
  const auto part = fs::file_size(got.string() + ".partial");
  EXPECT_GT(part, 0u);
  r = hub.starfire("pull test/tiny-mistral");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(hub.log().find("model.safetensors bytes=" + std::to_string(part) + "-"),
            std::string::npos)
      << hub.log();
  EXPECT_EQ(test::read_file(got),
            test::read_file(kSrc / "data" / "hf" / "mistral" / "model.safetensors"));
}

TEST(Pull, WrongChecksumIsRefused) {
  if (!fs::exists(STARFIRE_BINARY)) GTEST_SKIP() << "starfire binary not built";
  FakeHub hub("badsha", repo_arg("test/tiny-qwen3", "qwen3") + " --bad-sha model.safetensors");
  ASSERT_GT(hub.port(), 0);
  CmdResult r = hub.starfire("pull test/tiny-qwen3");
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("checksum mismatch"), std::string::npos) << r.out;
  const fs::path got = hub.store() / "test" / "tiny-qwen3" / "model.safetensors";
  EXPECT_FALSE(fs::exists(got));
  EXPECT_FALSE(fs::exists(got.string() + ".partial"));
}

TEST(Pull, GgufRepoPicksTheFileAndRunsByName) {
  if (!fs::exists(STARFIRE_BINARY)) GTEST_SKIP() << "starfire binary not built";
  const fs::path repo = test::tmp_path("hub_gguf_repo");
  fs::remove_all(repo);
  fs::create_directories(repo);
  ConvertOptions opt;
  opt.out_type = DType::Q8_0;
  ASSERT_TRUE(convert_hf_to_gguf((kSrc / "data" / "hf" / "qwen2").string(),
                                 (repo / "tiny-Q8_0.gguf").string(), opt)
                  .ok());
  opt.out_type = DType::F16;
  ASSERT_TRUE(convert_hf_to_gguf((kSrc / "data" / "hf" / "qwen2").string(),
                                 (repo / "tiny-F16.gguf").string(), opt)
                  .ok());
  test::write_file(repo / "README.md", "# tiny\n");
  FakeHub hub("gguf", "test/tiny-gguf=" + repo.string());
  ASSERT_GT(hub.port(), 0);
  CmdResult r = hub.starfire("pull test/tiny-gguf");  // two .gguf files, none Q4_K_M: must name one
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("test/tiny-gguf:tiny-F16.gguf"), std::string::npos) << r.out;
  r = hub.starfire("pull test/tiny-gguf:tiny-Q8_0.gguf");
  ASSERT_EQ(r.rc, 0) << r.out;
  r = hub.starfire("run -m test/tiny-gguf -p the -n 2 --temp 0");
  EXPECT_EQ(r.rc, 0) << r.out;
  r = hub.starfire("list");
  EXPECT_NE(r.out.find("test/tiny-gguf:tiny-Q8_0.gguf"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace sf
