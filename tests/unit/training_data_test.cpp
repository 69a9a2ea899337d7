#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "core/error.h"
#include "training/data.h"
#include "training_util.h"

using namespace gpt2::training;
using training_test::ScratchDir;
using ids_t = std::vector<int32_t>;

namespace {

const gpt2::Tokenizer& tok() { return gpt2::Tokenizer::gpt2(); }
ids_t enc(const std::string& s) { return tok().encode_ordinary(s); }
ids_t cat(std::initializer_list<ids_t> parts) {
  ids_t r;
  for (const ids_t& p : parts) r.insert(r.end(), p.begin(), p.end());
  return r;
}
ids_t masked(size_t n) { return ids_t(n, -1); }
const ids_t kEot = {50256};

std::string write(const ScratchDir& d, const std::string& name, const std::string& text) {
  std::ofstream(d / name, std::ios::binary) << text;
  return d / name;
}

// The error load_dataset throws (Usage, exit 2), as text.
std::string load_error(const std::string& path, int context = 32) {
  try {
    load_dataset(path, context, tok());
  } catch (const gpt2::Error& e) {
    CHECK(e.code() == gpt2::ExitCode::Usage);
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("data: plain text, windows of the language-model objective", "[training]") {
  ScratchDir d;
  const std::string text = "It was the best of times, it was the worst of times, it was the age of wisdom.";
  const ids_t x = enc(text);
  REQUIRE(x.size() == 21);
  const Dataset ds = load_dataset(write(d, "book.txt", text), 8, tok());
  CHECK(ds.format == DataFormat::Text);
  // 20 targets in windows of 8: 8 + 8 + 4, consecutive windows sharing one token
  REQUIRE(ds.examples.size() == 3);
  CHECK(ds.examples[0].ids == ids_t(x.begin(), x.begin() + 8));
  CHECK(ds.examples[0].targets == ids_t(x.begin() + 1, x.begin() + 9));
  CHECK(ds.examples[1].ids == ids_t(x.begin() + 8, x.begin() + 16));
  CHECK(ds.examples[1].targets == ids_t(x.begin() + 9, x.begin() + 17));
  CHECK(ds.examples[2].ids == ids_t(x.begin() + 16, x.begin() + 20));
  CHECK(ds.examples[2].targets == ids_t(x.begin() + 17, x.end()));
  CHECK(ds.stats.tokens == 20);
  CHECK(ds.stats.loss_tokens == 20);
  // "<|endoftext|>" in the data is ordinary text
  const Dataset s = load_dataset(write(d, "s.txt", "a<|endoftext|>b"), 64, tok());
  const ids_t y = enc("a<|endoftext|>b");
  REQUIRE(s.examples.size() == 1);
  CHECK(s.examples[0].ids == ids_t(y.begin(), y.end() - 1));
}

TEST_CASE("data: JSONL text documents joined with <|endoftext|>", "[training]") {
  ScratchDir d;
  const Dataset ds = load_dataset(
      write(d, "docs.jsonl", "{\"text\": \"First document.\"}\n{\"text\": \"Second one\", \"id\": 7}\n"), 64, tok());
  CHECK(ds.format == DataFormat::JsonlText);
  CHECK(ds.stats.lines == 2);
  const ids_t stream = cat({enc("First document."), kEot, enc("Second one"), kEot});
  REQUIRE(ds.examples.size() == 1);
  CHECK(ds.examples[0].ids == ids_t(stream.begin(), stream.end() - 1));
  CHECK(ds.examples[0].targets == ids_t(stream.begin() + 1, stream.end()));
}

TEST_CASE("data: prompt/response, loss on the response and the end token only", "[training]") {
  ScratchDir d;
  const Dataset ds = load_dataset(
      write(d, "sft.jsonl",
            "{\"prompt\": \"Q: What is 2+2?\\nA:\", \"response\": \" 4\"}\r\n"
            "{\"prompt\": \"Say hi.\", \"response\": \" Hello there, friend!\"}"),  // CRLF, no final newline
      64, tok());
  CHECK(ds.format == DataFormat::PromptResponse);
  REQUIRE(ds.examples.size() == 2);
  const ids_t p = enc("Q: What is 2+2?\nA:"), r = enc(" 4");
  CHECK(ds.examples[0].ids == cat({p, r}));
  CHECK(ds.examples[0].targets == cat({masked(p.size() - 1), r, kEot}));
  const ids_t p2 = enc("Say hi."), r2 = enc(" Hello there, friend!");
  CHECK(ds.examples[1].ids == cat({p2, r2}));
  CHECK(ds.examples[1].targets == cat({masked(p2.size() - 1), r2, kEot}));
  CHECK(ds.stats.loss_tokens == r.size() + 1 + r2.size() + 1);
  CHECK(ds.stats.truncated == 0);
}

TEST_CASE("data: messages in DialoGPT's format, loss on assistant turns", "[training]") {
  ScratchDir d;
  const Dataset ds = load_dataset(
      write(d, "chat.jsonl",
            R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"},)"
            R"( {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "How are you?"},)"
            R"( {"role": "assistant", "content": "Fine, thanks."}]})"
            "\n"),
      64, tok());
  CHECK(ds.format == DataFormat::Messages);
  REQUIRE(ds.examples.size() == 1);
  const ids_t u1 = enc("Hi!"), a1 = enc("Hello."), u2 = enc("How are you?"), a2 = enc("Fine, thanks.");
  const ids_t seq = cat({u1, kEot, a1, kEot, u2, kEot, a2, kEot});
  CHECK(ds.examples[0].ids == ids_t(seq.begin(), seq.end() - 1));
  CHECK(ds.examples[0].targets ==
        cat({masked(u1.size()), a1, kEot, masked(u2.size() + 1), a2, kEot}));
}

TEST_CASE("data: a response longer than the context is truncated and counted", "[training]") {
  ScratchDir d;
  const std::string lines =
      "{\"prompt\": \"Tell a story.\", \"response\": \" Once upon a time there was a very long story that went on.\"}\n"
      "{\"prompt\": \"A prompt that by itself is longer than the whole context of eight.\", \"response\": \" x\"}\n"
      "{\"prompt\": \"Hi\", \"response\": \" yo\"}\n";
  const Dataset ds = load_dataset(write(d, "long.jsonl", lines), 8, tok());
  CHECK(ds.stats.lines == 3);
  CHECK(ds.stats.truncated == 1);
  CHECK(ds.stats.dropped == 1);
  REQUIRE(ds.examples.size() == 2);
  const ids_t p = enc("Tell a story."), r = enc(" Once upon a time there was a very long story that went on.");
  const ids_t seq = cat({p, r});
  CHECK(ds.examples[0].ids == ids_t(seq.begin(), seq.begin() + 8));
  CHECK(ds.examples[0].targets == cat({masked(p.size() - 1), ids_t(r.begin(), r.begin() + 9 - p.size())}));
  CHECK(ds.examples[1].ids == cat({enc("Hi"), enc(" yo")}));
}

TEST_CASE("data: bad input names the file and the line (exit 2)", "[training]") {
  ScratchDir d;
  CHECK(load_error(d / "missing.txt") ==
        d / "missing.txt" + ": cannot open the data file: No such file or directory");
  CHECK(load_error(d.path) == d.path + ": the data file is not a regular file");
  CHECK(load_error(write(d, "empty.jsonl", "")) == d / "empty.jsonl" + ": the data file is empty");
  CHECK(load_error(write(d, "empty.txt", "")) == d / "empty.txt" + ": no training data (fewer than 2 tokens)");
  const std::string ok = "{\"prompt\": \"a\", \"response\": \"b\"}\n";
  CHECK(load_error(write(d, "a.jsonl", ok + "\n" + ok)) ==
        d / "a.jsonl" + ":2: empty line (every line must be a JSON object)");
  CHECK(load_error(write(d, "b.jsonl", ok + ok + "{\"prompt\": \"a\",\n")).starts_with(d / "b.jsonl" + ":3: not valid JSON: "));
  CHECK(load_error(write(d, "c.jsonl", ok + "{\"prompt\": \"a\", \"response\": 5}\n")) ==
        d / "c.jsonl" + ":2: field 'response' must be a string, not 5");
  CHECK(load_error(write(d, "e.jsonl", ok + "{\"prompt\": \"a\"}\n")) == d / "e.jsonl" + ":2: missing field 'response'");
  CHECK(load_error(write(d, "f.jsonl", ok + "{\"text\": \"a\"}\n")) ==
        d / "f.jsonl" + ":2: a jsonl-text line in a prompt-response file (every line must be of the first line's kind)");
  CHECK(load_error(write(d, "g.jsonl", "[1, 2]\n")) == d / "g.jsonl" + ":1: not a JSON object");
  CHECK(load_error(write(d, "h.jsonl", "{\"messages\": [{\"role\": \"bot\", \"content\": \"x\"}]}\n")) ==
        d / "h.jsonl" + ":1: field 'messages[0].role' \"bot\" is not one of system, developer, user, assistant");
  CHECK(load_error(write(d, "i.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}\n")) ==
        d / "i.jsonl" + ":1: no assistant message (nothing to learn)");
  CHECK(load_error(write(d, "j.jsonl", "{\"question\": \"x\"}\n")) ==
        d / "j.jsonl" + ":1: none of the fields 'text', 'prompt' + 'response', 'messages'");
}

namespace {
std::vector<Example> numbered(int n) {
  std::vector<Example> v;
  for (int i = 0; i < n; ++i) v.push_back({{i, i}, {i + 1, -1}});
  return v;
}
std::vector<int32_t> firsts(const std::vector<Example>& v) {
  std::vector<int32_t> r;
  for (const Example& e : v) r.push_back(e.ids[0]);
  return r;
}
}  // namespace

TEST_CASE("data: the train/validation split is seeded and deterministic", "[training]") {
  const Split a = split_dataset(numbered(40), 0.05, 1);
  CHECK(a.val.size() == 2);
  CHECK(a.train.size() == 38);
  CHECK(firsts(split_dataset(numbered(40), 0.05, 1).val) == firsts(a.val));
  CHECK(firsts(split_dataset(numbered(40), 0.05, 2).val) != firsts(a.val));
  std::set<int32_t> all;  // a partition of the examples
  for (const auto* part : {&a.train, &a.val})
    for (int32_t x : firsts(*part)) all.insert(x);
  CHECK(all.size() == 40);
  CHECK(split_dataset(numbered(2), 0.05, 1).val.size() == 1);  // at least one when n >= 2
  CHECK(split_dataset(numbered(1), 0.05, 1).val.empty());
  CHECK(split_dataset(numbered(3), 0.9, 1).train.size() == 1);  // never all
  CHECK(split_dataset(numbered(10), 0.0, 1).val.empty());
  CHECK_THROWS_AS(split_dataset(numbered(10), 1.0, 1), gpt2::Error);
}

TEST_CASE("data: batches depend on the seed and the epoch only, padded with -1 targets", "[training]") {
  const std::vector<Example> ex = numbered(7);
  const Batcher b(ex, 3, 4, 42, 50256);
  REQUIRE(b.batches_per_epoch() == 3);
  std::multiset<int32_t> seen;
  for (size_t i = 0; i < 3; ++i) {
    const MicroBatch mb = b.get(0, i);
    CHECK(mb.B == 3);
    CHECK(mb.T == 4);
    CHECK(mb.rows == (i < 2 ? 3 : 1));
    for (int r = 0; r < mb.rows; ++r) {
      const int32_t id = mb.ids[r * 4];
      seen.insert(id);
      CHECK(ids_t(mb.ids.begin() + r * 4, mb.ids.begin() + r * 4 + 4) == ids_t{id, id, 50256, 50256});
      CHECK(ids_t(mb.targets.begin() + r * 4, mb.targets.begin() + r * 4 + 4) == ids_t{id + 1, -1, -1, -1});
    }
    for (int r = mb.rows; r < 3; ++r)
      CHECK(ids_t(mb.targets.begin() + r * 4, mb.targets.begin() + r * 4 + 4) == ids_t{-1, -1, -1, -1});
  }
  CHECK(seen == std::multiset<int32_t>{0, 1, 2, 3, 4, 5, 6});  // each example once an epoch
  const Batcher same(ex, 3, 4, 42, 50256), other(ex, 3, 4, 43, 50256);
  CHECK(same.order(5) == b.order(5));
  CHECK(b.get(1, 2).ids == same.get(1, 2).ids);
  CHECK(b.order(0) != b.order(1));
  CHECK(other.order(0) != b.order(0));
}
