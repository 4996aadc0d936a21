// `data prepare` as a library: text files and separators, JSONL text and chat
// lines, loss masks on exactly the assistant replies (random-model tokenizer,
// the ChatML default, and the real Qwen2.5 / Qwen3 tokenizers and templates),
// malformed lines, determinism across threads and shard sizes.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "models/random_model.h"
#include "test_util.h"
#include "tokenizer/chat_template.h"
#include "train/data.h"
#include "train/data_prepare.h"
#include "train/shard.h"

namespace sf::train {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

fs::path fresh_dir(const std::string& name) {
  fs::path d = test::tmp_path(name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A tiny model whose GGUF carries a byte-level SPM vocabulary (<s>=1, </s>=2).
std::string random_tokenizer(const std::string& name, const std::string& chat_template = "") {
  const std::string path = test::tmp_path(name + ".gguf").string();
  RandomModelSpec spec;
  spec.n_vocab = 320;  // 3 specials + 256 bytes + filler pieces
  spec.n_layer = 1;
  spec.chat_template = chat_template;
  EXPECT_TRUE(write_random_model(spec, path).ok());
  return path;
}

const char* kPlainTemplate =
    "{% for m in messages %}{% if m['role'] == 'assistant' %}Assistant: {{ m['content'] }}"
    "{{ eos_token }}\n{% else %}{{ m['role'] }}: {{ m['content'] }}\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}Assistant: {% endif %}";

struct SplitData {
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
};

SplitData read_split(const fs::path& dir, const std::string& split) {
  SplitData d;
  auto paths = list_shards(dir.string(), split);
  EXPECT_TRUE(paths.ok());
  for (const std::string& p : *paths) {
    auto s = open_shard(p);
    EXPECT_TRUE(s.ok()) << s.status().message();
    for (uint64_t i = 0; i < s->n_tokens; ++i) {
      d.ids.push_back(s->id(i));
      d.mask.push_back(s->mask_at(i));
    }
  }
  return d;
}

// The random vocabulary has no "▁" piece, so SentencePiece's escaped spaces
// come back from decode() as the bytes of "▁" (byte fallback); undo that.
std::string spaces(std::string s) {
  for (size_t at; (at = s.find("\xE2\x96\x81")) != std::string::npos;) s.replace(at, 3, " ");
  return s;
}

// A plain document's text from its decode: also drop the dummy-prefix space,
// which decode() strips only when it is a real "▁" piece.
std::string doc_text(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::string t = spaces(tok.decode(ids, /*skip_special=*/true));
  return t.empty() || t[0] != ' ' ? t : t.substr(1);
}

// Documents of a packed stream, cut after each `eos`.
std::vector<std::vector<int32_t>> split_docs(const std::vector<int32_t>& ids, int32_t eos) {
  std::vector<std::vector<int32_t>> docs(1);
  for (int32_t id : ids) {
    docs.back().push_back(id);
    if (id == eos) docs.emplace_back();
  }
  if (docs.back().empty()) docs.pop_back();
  return docs;
}

// Decoded text of every maximal run of mask == 1.
std::vector<std::string> masked_runs(const Tokenizer& tok, const std::vector<int32_t>& ids,
                                     const std::vector<uint8_t>& mask) {
  std::vector<std::string> out;
  for (size_t i = 0; i < ids.size();) {
    if (!mask[i]) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < ids.size() && mask[j]) ++j;
    std::string t = tok.decode(std::span(ids).subspan(i, j - i));
    out.push_back(tok.model_type() == tok::ModelType::kSpm ? spaces(t) : t);
    i = j;
  }
  return out;
}

ojson msg(const std::string& role, const std::string& content) {
  return {{"role", role}, {"content", content}};
}

std::string line(const ojson& j) {
  return j.dump() + "\n";
}

PrepareOptions options(const fs::path& in, const std::string& tok, const fs::path& out) {
  PrepareOptions o;
  o.inputs = {in.string()};
  o.tokenizer = tok;
  o.out_dir = out.string();
  o.val_fraction = 0;
  return o;
}

TEST(DataPrepare, TextFilesSeparatorsAndChinese) {
  const std::string tokp = random_tokenizer("dp_text");
  auto tok = load_tokenizer(tokp);
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  fs::path in = fresh_dir("dp_text_in");
  fs::create_directories(in / "sub");
  test::write_file(in / "a.txt",
                   "First doc line\n\nsecond paragraph stays in it\n<|endoftext|>\nSecond doc\n");
  test::write_file(in / "b.md", "\xEF\xBB\xBF# Title\n中文文档：你好，世界。\n");
  test::write_file(in / "sub" / "c.txt", "  <|endoftext|>  \r\nthird <|endoftext|> inline\n");
  test::write_file(in / "ignored.bin", "not text");
  fs::path out = test::tmp_path("dp_text_out");
  fs::remove_all(out);
  auto rep = prepare_data(options(in, tokp, out));
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->text_documents, 4);
  EXPECT_EQ(rep->chat_documents, 0);
  ASSERT_EQ(rep->sources.size(), 3u);
  EXPECT_EQ(fs::path(rep->sources[2].path).filename(), "c.txt");
  EXPECT_EQ(rep->val.documents, 0);
  EXPECT_TRUE(rep->val.shards.empty());

  const std::vector<std::string> want = {"First doc line\n\nsecond paragraph stays in it",
                                         "Second doc", "# Title\n中文文档：你好，世界。",
                                         "third <|endoftext|> inline"};
  SplitData d = read_split(out, "train");
  auto docs = split_docs(d.ids, (*tok)->eos_id());
  ASSERT_EQ(docs.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    std::vector<int32_t> expect = {(*tok)->bos_id()};
    auto body = (*tok)->encode(want[i], false, false);
    expect.insert(expect.end(), body.begin(), body.end());
    expect.push_back((*tok)->eos_id());
    EXPECT_EQ(docs[i], expect) << want[i];
    EXPECT_EQ(doc_text(**tok, docs[i]), want[i]);
  }
  EXPECT_EQ(rep->train.tokens, static_cast<int64_t>(d.ids.size()));
  EXPECT_EQ(rep->train.loss_tokens, rep->train.tokens) << "plain text: every token is a target";

  // meta.json records what was done.
  auto meta = ojson::parse(test::read_file(out / "meta.json"));
  EXPECT_EQ(meta["splits"]["train"]["documents"], 4);
  EXPECT_EQ(meta["splits"]["train"]["tokens"], rep->train.tokens);
  EXPECT_EQ(meta["tokenizer"]["kind"], "gguf");
  EXPECT_EQ(meta["tokenizer"]["n_vocab"], 320);
  EXPECT_EQ(meta["sources"].size(), 3u);
  EXPECT_EQ(meta["sources"][1]["documents"], 1);
  EXPECT_EQ(meta["options"]["seed"], 1234);
  EXPECT_EQ(meta["skipped_lines"]["count"], 0);
}

TEST(DataPrepare, JsonlMalformedLinesAreSkippedOrFailWithStrict) {
  const std::string tokp = random_tokenizer("dp_jsonl");
  fs::path in = fresh_dir("dp_jsonl_in");
  test::write_file(in / "data.jsonl",
                   "{\"text\": \"hello\"}\n"                                        // 1
                   "\n"                                                             // 2 blank
                   "{not json\n"                                                    // 3
                   "[1, 2]\n"                                                       // 4
                   "{\"text\": 5}\n"                                                // 5
                   "{\"foo\": \"bar\"}\r\n"                                         // 6
                   "{\"text\": \"world 世界\"}\r\n"                                 // 7
                   "{\"messages\": \"x\"}\n"                                        // 8
                   "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n"  // 9
                   "{\"messages\": [{\"role\": \"user\"}]}\n"                       // 10
                   "{\"text\": \"bad \xff\xfe utf8\"}\n"                            // 11
                   "{\"text\": \"last\"}");  // 12, no newline
  fs::path out = test::tmp_path("dp_jsonl_out");
  fs::remove_all(out);
  auto rep = prepare_data(options(in, tokp, out));
  ASSERT_TRUE(rep.ok()) << rep.status().message();
  EXPECT_EQ(rep->text_documents, 3);
  EXPECT_EQ(rep->skipped_lines, 8);
  std::vector<int64_t> lines;
  for (const auto& s : rep->first_skipped) lines.push_back(s.line);
  EXPECT_EQ(lines, (std::vector<int64_t>{3, 4, 5, 6, 8, 9, 10, 11}));
  EXPECT_EQ(rep->first_skipped[0].reason, "not valid JSON");
  EXPECT_NE(rep->first_skipped[5].reason.find("no assistant message"), std::string::npos);
  EXPECT_NE(rep->first_skipped[6].reason.find("content"), std::string::npos);
  auto meta = ojson::parse(test::read_file(out / "meta.json"));
  EXPECT_EQ(meta["skipped_lines"]["count"], 8);
  EXPECT_EQ(meta["skipped_lines"]["first"][0]["line"], 3);
  EXPECT_EQ(meta["sources"][0]["skipped_lines"], 8);

  auto tok = load_tokenizer(tokp);
  auto docs = split_docs(read_split(out, "train").ids, (*tok)->eos_id());
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(doc_text(**tok, docs[1]), "world 世界");

  // --strict: the first bad line is an error naming file:line, and nothing is left behind.
  fs::path out2 = test::tmp_path("dp_jsonl_strict");
  fs::remove_all(out2);
  PrepareOptions o = options(in, tokp, out2);
  o.strict = true;
  o.shard_tokens = 3;  // shards are finished before the bad line is reached
  auto s = prepare_data(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("data.jsonl:3: not valid JSON"), std::string::npos)
      << s.status().message();
  EXPECT_TRUE(fs::is_empty(out2)) << "no partial shards after a failure";
}

TEST(DataPrepare, ChatMaskCoversExactlyTheAssistantReplies) {
  const std::string tokp = random_tokenizer("dp_chat", kPlainTemplate);
  auto tok = load_tokenizer(tokp);
  ASSERT_TRUE(tok.ok());
  auto enc = DocumentEncoder::create(*tok);
  ASSERT_TRUE(enc.ok()) << enc.status().message();
  EXPECT_FALSE(enc->default_template());
  ojson messages = ojson::array({msg("system", "Be brief."), msg("user", "Capital of France?"),
                                 msg("assistant", "Paris is the capital."), msg("user", "用中文说"),
                                 msg("assistant", "巴黎是首都。")});
  auto d = enc->encode_chat(messages);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE(d->chat);
  ASSERT_EQ(d->mask.size(), d->ids.size());
  EXPECT_EQ(d->ids.front(), (*tok)->bos_id()) << "the tokenizer adds BOS, the template does not";
  EXPECT_EQ(d->mask.front(), 0);
  EXPECT_EQ(d->ids.back(), (*tok)->eos_id());
  EXPECT_EQ(d->mask.back(), 0) << "the document's closing EOS is not a reply token";
  EXPECT_EQ(masked_runs(**tok, d->ids, d->mask),
            (std::vector<std::string>{"Paris is the capital.</s>", "巴黎是首都。</s>"}));
  EXPECT_FALSE(d->segmented);

  // The tokens are the whole render's encoding (between BOS and the final EOS).
  ChatTemplateInputs in;
  in.messages = messages;
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  auto full = render_chat_template((*tok)->chat_template(), in);
  ASSERT_TRUE(full.ok());
  std::vector<int32_t> want = {(*tok)->bos_id()};
  auto body = (*tok)->encode(*full, false, true);
  want.insert(want.end(), body.begin(), body.end());
  want.push_back((*tok)->eos_id());
  EXPECT_EQ(d->ids, want);

  // Conversations the template cannot place are errors, not crashes.
  EXPECT_FALSE(enc->encode_chat(ojson::array()).ok());
  EXPECT_FALSE(enc->encode_chat(ojson::array({msg("user", "only a question")})).ok());
  EXPECT_FALSE(enc->encode_chat(ojson::array({ojson{{"role", 3}, {"content", "x"}}})).ok());
  EXPECT_FALSE(enc->encode_chat(ojson::array({ojson{{"role", "assistant"}, {"content", 1}}})).ok());
}

TEST(DataPrepare, ChatWithoutTemplateUsesChatML) {
  const std::string tokp = random_tokenizer("dp_chatml");  // no chat template
  auto tok = load_tokenizer(tokp);
  auto enc = DocumentEncoder::create(*tok);
  ASSERT_TRUE(enc.ok()) << enc.status().message();
  EXPECT_TRUE(enc->default_template());
  auto d = enc->encode_chat(ojson::array({msg("user", "hi"), msg("assistant", "hello there"),
                                          msg("user", "and?"), msg("assistant", "done")}));
  ASSERT_TRUE(d.ok()) << d.status().message();
  // The vocabulary has no <|im_end|>, so turns end with EOS (a real token).
  EXPECT_EQ(masked_runs(**tok, d->ids, d->mask),
            (std::vector<std::string>{"hello there</s>", "done</s>"}));
  // (SentencePiece puts its dummy-prefix space after every special token.)
  const std::string text = spaces((*tok)->decode(d->ids, false));
  EXPECT_NE(text.find("<|im_start|>assistant\nhello there</s> \n<|im_start|>user\nand?</s>"),
            std::string::npos)
      << text;
}

TEST(DataPrepare, Qwen25ChatMaskMatchesHfTokenization) {
  SF_REQUIRE_FIXTURE("tokenizers/qwen2_5/tokenizer.json");
  auto tok = load_tokenizer(test::fixture("tokenizers/qwen2_5").string());
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  auto enc = DocumentEncoder::create(*tok);
  ASSERT_TRUE(enc.ok()) << enc.status().message();
  const std::vector<ojson> convs = {
      ojson::array({msg("system", "你是一个乐于助人的助手。"), msg("user", "你好"),
                    msg("assistant", "你好！有什么可以帮你？"), msg("user", "1+1=?"),
                    msg("assistant", "1+1=2\n\n```python\nprint(1 + 1)\n```")}),
      // No system message: the template inserts its default one (mask 0).
      ojson::array({msg("user", "Say hi"), msg("assistant", " Hi! (with a leading space)")}),
  };
  for (const ojson& c : convs) {
    auto d = enc->encode_chat(c);
    ASSERT_TRUE(d.ok()) << d.status().message();
    EXPECT_FALSE(d->segmented);
    std::vector<std::string> want;
    for (const ojson& m : c)
      if (m["role"] == "assistant") want.push_back(m["content"].get<std::string>() + "<|im_end|>");
    EXPECT_EQ(masked_runs(**tok, d->ids, d->mask), want);
    // Identical to encoding the whole render, as apply_chat_template(tokenize=True) does,
    // plus the closing EOS (<|im_end|> in this tokenizer_config).
    ChatTemplateInputs in;
    in.messages = c;
    in.eos_token = "<|im_end|>";
    auto full = render_chat_template((*tok)->chat_template(), in);
    ASSERT_TRUE(full.ok());
    auto want_ids = (*tok)->encode(*full, false, true);
    want_ids.push_back((*tok)->eos_id());
    EXPECT_EQ(d->ids, want_ids);
    EXPECT_EQ(d->mask.back(), 0);
  }

  // A reply starting with newlines: the whole encoding has one "\n\n\n" token
  // across the prompt/reply boundary, so the reply is encoded on its own (what
  // the model emits after "<|im_start|>assistant\n") and the chat is counted.
  auto d = enc->encode_chat(ojson::array({msg("user", "x"), msg("assistant", "\n\nHi")}));
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE(d->segmented);
  EXPECT_EQ(masked_runs(**tok, d->ids, d->mask), std::vector<std::string>{"\n\nHi<|im_end|>"});
  auto reply = (*tok)->encode("\n\nHi<|im_end|>", false, true);
  std::vector<int32_t> masked;
  for (size_t i = 0; i < d->ids.size(); ++i)
    if (d->mask[i]) masked.push_back(d->ids[i]);
  EXPECT_EQ(masked, reply);
}

TEST(DataPrepare, Qwen3TemplateThatRewritesEarlierTurns) {
  // Qwen3 renders an assistant turn with an empty <think></think> only when it
  // is the last one, so the conversation up to turn 1 is not a prefix of the
  // whole: the reply then ends at its first <|im_end|>.
  SF_REQUIRE_FIXTURE("tokenizers/qwen3/tokenizer.json");
  auto tok = load_tokenizer(test::fixture("tokenizers/qwen3/tokenizer.json").string());
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  auto enc = DocumentEncoder::create(*tok);
  ASSERT_TRUE(enc.ok()) << enc.status().message();
  auto d = enc->encode_chat(ojson::array(
      {msg("user", "U1"), msg("assistant", "A1"), msg("user", "U2"), msg("assistant", "A2")}));
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(masked_runs(**tok, d->ids, d->mask),
            (std::vector<std::string>{"A1<|im_end|>", "<think>\n\n</think>\n\nA2<|im_end|>"}));
}

TEST(DataPrepare, Llama3RepliesEndWithEotAndBosIsNotDoubled) {
  SF_REQUIRE_FIXTURE("tokenizers/llama3/tokenizer.json");
  auto tok = load_tokenizer(test::fixture("tokenizers/llama3").string());
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  auto enc = DocumentEncoder::create(*tok);
  ASSERT_TRUE(enc.ok()) << enc.status().message();
  auto d = enc->encode_chat(
      ojson::array({msg("system", "Be brief."), msg("user", "Hi"), msg("assistant", "Hello!"),
                    msg("user", "Bye"), msg("assistant", "再见")}));
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(masked_runs(**tok, d->ids, d->mask),
            (std::vector<std::string>{"Hello!<|eot_id|>", "再见<|eot_id|>"}));
  // The template writes <|begin_of_text|> itself; the tokenizer's add_bos must not repeat it.
  ASSERT_GE(d->ids.size(), 2u);
  EXPECT_EQ(d->ids[0], (*tok)->bos_id());
  EXPECT_NE(d->ids[1], (*tok)->bos_id());
}

// A mixed corpus of text and chat lines, big enough for several batches.
fs::path mixed_corpus(const std::string& name, int n) {
  fs::path in = fresh_dir(name);
  std::string a, b;
  for (int i = 0; i < n; ++i) {
    if (i % 3 == 0)
      a += line(
          ojson{{"messages", ojson::array({msg("user", "question " + std::to_string(i)),
                                           msg("assistant", "answer " + std::to_string(i))})}});
    else
      a += line(ojson{{"text", "document number " + std::to_string(i) + " 文本"}});
    if (i % 50 == 7) a += "garbage line\n";
  }
  for (int i = 0; i < n / 10; ++i) b += "story " + std::to_string(i) + "\n<|endoftext|>\n";
  test::write_file(in / "a.jsonl", a);
  test::write_file(in / "b.txt", b);
  return in;
}

std::map<std::string, std::string> dir_files(const fs::path& d) {
  std::map<std::string, std::string> m;
  for (const auto& e : fs::directory_iterator(d))
    if (e.path().filename() != "meta.json") m[e.path().filename()] = test::read_file(e.path());
  return m;
}

TEST(DataPrepare, DeterministicAcrossThreadsAndShardSizes) {
  const std::string tokp = random_tokenizer("dp_det", kPlainTemplate);
  fs::path in = mixed_corpus("dp_det_in", 600);
  auto run = [&](const std::string& name, int threads, int64_t shard_tokens, uint64_t seed) {
    fs::path out = test::tmp_path(name);
    fs::remove_all(out);
    PrepareOptions o = options(in, tokp, out);
    o.threads = threads;
    o.shard_tokens = shard_tokens;
    o.val_fraction = 0.2;
    o.seed = seed;
    auto r = prepare_data(o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return std::make_pair(out, r.ok() ? *r : PrepareReport{});
  };
  auto [o1, r1] = run("dp_det_1", 1, 2000, 7);
  auto [o2, r2] = run("dp_det_2", 3, 2000, 7);
  EXPECT_EQ(dir_files(o1), dir_files(o2)) << "output does not depend on the thread count";
  EXPECT_GT(r1.train.shards.size(), 2u);
  EXPECT_EQ(r1.chat_documents, 200);
  EXPECT_EQ(r1.text_documents, 400 + 60);
  EXPECT_EQ(r1.skipped_lines, 12);
  EXPECT_EQ(r1.train.documents + r1.val.documents, 660);
  EXPECT_GT(r1.val.documents, 80);
  EXPECT_LT(r1.val.documents, 180);
  EXPECT_LT(r1.train.loss_tokens, r1.train.tokens);

  // One big shard holds the same stream as many small ones.
  auto [o3, r3] = run("dp_det_3", 2, 1 << 30, 7);
  for (const char* split : {"train", "val"}) {
    SplitData a = read_split(o1, split), b = read_split(o3, split);
    EXPECT_EQ(a.ids, b.ids);
    EXPECT_EQ(a.mask, b.mask);
  }
  EXPECT_EQ(r3.train.shards, std::vector<std::string>{"train-00000.bin"});

  // Another seed: another split, same documents.
  auto [o4, r4] = run("dp_det_4", 2, 1 << 30, 8);
  EXPECT_NE(r4.val.tokens, r1.val.tokens);
  EXPECT_EQ(r4.train.documents + r4.val.documents, 660);

  // The loader reads what prepare wrote; chat data makes the split masked.
  auto dl = DataLoader::open(o1.string(), "train", 4, 16, 1);
  ASSERT_TRUE(dl.ok()) << dl.status().message();
  EXPECT_TRUE((*dl)->has_mask());
  EXPECT_EQ((*dl)->n_tokens(), r1.train.tokens);
  EXPECT_EQ((*dl)->vocab_size(), 320);
  EXPECT_TRUE(DataLoader::open(o1.string(), "val", 4, 16, 1).ok());
}

TEST(DataPrepare, MaxDocumentsAndOutputFolderRules) {
  const std::string tokp = random_tokenizer("dp_rules");
  fs::path in = mixed_corpus("dp_rules_in", 100);
  fs::path out = test::tmp_path("dp_rules_out");
  fs::remove_all(out);
  PrepareOptions o = options(in, tokp, out);
  o.max_documents = 5;
  auto r = prepare_data(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->train.documents, 5);

  // The folder now holds data: refuse, unless overwrite.
  auto again = prepare_data(o);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("--overwrite"), std::string::npos);
  test::write_file(out / "notes.txt", "mine");
  o.overwrite = true;
  o.max_documents = 0;
  auto r2 = prepare_data(o);
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  EXPECT_GT(r2->train.documents, 5);
  EXPECT_TRUE(fs::exists(out / "notes.txt")) << "overwrite removes only prepared data";

  auto err = [&](PrepareOptions p) {
    fs::remove_all(out);
    auto x = prepare_data(p);
    EXPECT_FALSE(x.ok());
    return x.ok() ? std::string() : x.status().message();
  };
  PrepareOptions bad = options(in, tokp, out);
  bad.inputs = {(in / "missing.txt").string()};
  EXPECT_NE(err(bad).find("no such file"), std::string::npos);
  bad = options(fresh_dir("dp_rules_empty"), tokp, out);
  EXPECT_NE(err(bad).find("no .txt, .md or .jsonl"), std::string::npos);
  bad = options(in, tokp, out);
  bad.val_fraction = 1.0;
  EXPECT_NE(err(bad).find("val fraction"), std::string::npos);
  bad = options(in, (in / "nope.gguf").string(), out);
  EXPECT_NE(err(bad).find("tokenizer not found"), std::string::npos);
  bad = options(in, (in / "a.jsonl").string(), out);  // not a tokenizer
  EXPECT_FALSE(err(bad).empty());
  fs::path only_bad = fresh_dir("dp_rules_bad");
  test::write_file(only_bad / "x.jsonl", "nope\n{}\n");
  EXPECT_NE(err(options(only_bad, tokp, out)).find("no documents"), std::string::npos);
}

}  // namespace
}  // namespace sf::train
