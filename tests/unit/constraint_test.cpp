// The GBNF engine: parse errors with line and column, acceptance and rejection of texts under
// three tokenizations (GPT-2 BPE, one byte per token, random vocabulary splits), token masks
// against the byte-level matcher, and the mask hook in Sequence.
#include <catch2/catch.hpp>

#include <random>
#include <unordered_map>

#include "core/error.h"
#include "generation/constraint.h"
#include "generation/generation.h"

using namespace gpt2;
using namespace gpt2::generation;

namespace {

const Tokenizer& tok() { return Tokenizer::gpt2(); }

std::shared_ptr<TokenConstraint> make(const std::string& gbnf) {
  return std::make_shared<TokenConstraint>(Grammar::parse(gbnf), tok(), 50257, 50256);
}

std::string parse_error(const std::string& gbnf) {
  try {
    Grammar::parse(gbnf);
  } catch (const ParamError& e) {
    CHECK(e.param() == "grammar");
    return e.what();
  }
  return "(no error)";
}

const std::unordered_map<std::string, int32_t>& vocab_index() {
  static const auto m = [] {
    std::unordered_map<std::string, int32_t> v;
    for (int32_t id = 0; id < 50256; ++id) v.emplace(std::string(tok().token_bytes(id)), id);
    return v;
  }();
  return m;
}

std::vector<int32_t> bytewise(const std::string& s) {
  std::vector<int32_t> ids;
  for (char c : s) ids.push_back(vocab_index().at(std::string(1, c)));
  return ids;
}

std::vector<int32_t> random_split(const std::string& s, std::mt19937& rng) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < s.size()) {
    std::vector<std::pair<size_t, int32_t>> opts;
    for (size_t n = 1; n <= 12 && i + n <= s.size(); ++n)
      if (auto it = vocab_index().find(s.substr(i, n)); it != vocab_index().end())
        opts.emplace_back(n, it->second);
    const auto pick = opts[std::uniform_int_distribution<size_t>(0, opts.size() - 1)(rng)];
    ids.push_back(pick.second);
    i += pick.first;
  }
  return ids;
}

// Feeds ids through the token masks: true when every token is allowed; *complete at the end.
bool feed(TokenConstraint& c, const std::vector<int32_t>& ids, bool* complete) {
  auto cp = std::shared_ptr<TokenConstraint>(&c, [](TokenConstraint*) {});
  ConstraintState st(cp);
  for (int32_t id : ids) {
    if (!st.allowed(id)) return false;
    st.accept(id);
  }
  *complete = st.complete();
  if (*complete) CHECK(st.allowed(50256));
  return true;
}

// Expected: accepted (a prefix of the language) and complete.
void check_text(TokenConstraint& c, const std::string& text, bool accepted, bool complete) {
  INFO("text: " << text);
  std::mt19937 rng(7);
  const std::vector<std::vector<int32_t>> tokenizations = {
      tok().encode_ordinary(text), bytewise(text), random_split(text, rng), random_split(text, rng)};
  for (const auto& ids : tokenizations) {
    bool comp = false;
    const bool ok = feed(c, ids, &comp);
    CHECK(ok == accepted);
    if (ok) CHECK(comp == complete);
  }
  // the byte-level matcher agrees
  size_t used = 0;
  const auto s = c.advance(c.start(), text, &used);
  CHECK((s != TokenConstraint::kDead) == accepted);
  if (accepted) CHECK(c.complete(s) == complete);
}

}  // namespace

TEST_CASE("gbnf parse errors name line and column", "[constraint]") {
  CHECK(parse_error("") == "grammar: line 1, column 1: empty grammar (no rules; the start rule is 'root')");
  CHECK(parse_error("# only a comment\n") ==
        "grammar: line 1, column 1: empty grammar (no rules; the start rule is 'root')");
  CHECK(parse_error("root ::= item\nitem ::= \"a\" valu\n") ==
        "grammar: line 2, column 14: undefined rule 'valu'");
  CHECK(parse_error("root ::= (\"a\" | \"b\"\n") == "grammar: line 1, column 10: unbalanced '(' (missing ')')");
  CHECK(parse_error("root ::= \"a\")\n") == "grammar: line 1, column 13: unbalanced ')' (no '(' open)");
  CHECK(parse_error("root ::= [a-z\n") ==
        "grammar: line 1, column 10: unterminated character class (missing ']')");
  CHECK(parse_error("root ::= \"a\\qb\"") ==
        "grammar: line 1, column 12: bad escape '\\q' (known: \\x \\u \\U \\t \\r \\n \\\\ \\\" \\[ \\])");
  CHECK(parse_error("root ::= \"abc") == "grammar: line 1, column 10: unterminated literal (missing '\"')");
  CHECK(parse_error("root ::= x\nx ::= \"a\" x\n") ==
        "grammar: line 2, column 1: rule 'x' can never finish (each alternative needs a rule that never ends)");
  CHECK(parse_error("root ::= expr\nexpr ::= expr \"+\" \"1\" | \"1\"\n") ==
        "grammar: line 2, column 1: rule 'expr' is left-recursive (it can reach itself again before "
        "reading a character); write the repetition with * or +");
  CHECK(parse_error("item ::= \"a\"\n") == "grammar: line 1, column 1: no rule named 'root' (the start rule)");
  CHECK(parse_error("root ::= \"a\"{3,2}") == "grammar: line 1, column 13: repetition {m,n} with n < m");
  CHECK(parse_error("root ::= * \"a\"") == "grammar: line 1, column 10: '*' has nothing before it to repeat");
  CHECK(parse_error("root ::= \"a\"\nroot ::= \"b\"") == "grammar: line 2, column 1: rule 'root' is defined twice");
  CHECK(parse_error("root ::= \"é\" \"\\xZZ\"") ==
        "grammar: line 1, column 15: bad escape: '\\x' needs 2 hex digits");
}

TEST_CASE("gbnf: a grammar may end in a lone CR (found by fuzz_gbnf: read past the end)", "[constraint]") {
  CHECK(Grammar::parse("root ::= \"a\"\r")->n_rules() == 1);
  CHECK(Grammar::parse("root ::= \"a\"\r\nb ::= \"c\"\r")->n_rules() == 2);
}

TEST_CASE("gbnf syntax: comments, newlines in groups, escapes, repetition", "[constraint]") {
  auto c = make(R"(# a comment
root ::= (
    "x" # inside
    | [a-c]{2,3}
  ) tail
tail ::= "\x21" | "\u00e9"+ | [^\n]? "."
)");
  check_text(*c, "x!", true, true);
  check_text(*c, "ab!", true, true);
  check_text(*c, "abc\xC3\xA9\xC3\xA9", true, true);
  check_text(*c, "abcd!", false, false);
  check_text(*c, "a", true, false);
  check_text(*c, "xZ.", true, true);
  check_text(*c, "x\n.", false, false);
  check_text(*c, "x\xE2\x82\xAC.", true, true);  // "€" is one [^\n] character
  CHECK(c->grammar().to_gbnf() ==
        "root ::= (\"x\" | [a-c]{2,3}) tail\n"
        "tail ::= \"!\" | \"\xC3\xA9\"+ | [^\\n]? \".\"\n");
}

TEST_CASE("a JSON grammar accepts and rejects under three tokenizations", "[constraint]") {
  auto c = make(R"(
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array  ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws
ws ::= | " " | "\n" [ \t]{0,20}
)");
  check_text(*c, R"({"name": "Ann", "age": 31, "tags": ["a", "b"], "ok": true})", true, true);
  check_text(*c, "{\n  \"a\": [1, 2.5, -3e4],\n  \"b\": {\"c\": null}\n}", true, true);
  check_text(*c, R"({"caf\u00e9": "na\u00efve \"q\" \u00e9t\u00e9"})", true, true);
  check_text(*c, "{\"emoji\": \"\xF0\x9F\x98\x80 \xE2\x82\xAC\"}", true, true);
  check_text(*c, R"({"a": 1)", true, false);
  check_text(*c, R"({"a": 01})", false, false);
  check_text(*c, R"({"a" 1})", false, false);
  check_text(*c, R"({'a': 1})", false, false);
  check_text(*c, R"([1, 2])", false, false);
  check_text(*c, R"({"a": tru})", false, false);
  check_text(*c, "{\"a\": \"x\ny\"}", false, false);
}

TEST_CASE("token masks agree with the byte matcher on every token", "[constraint]") {
  // the second and third grammars have states that loop on most bytes (a free string with
  // UTF-8, whitespace) or count them (maxLength, {2,40}), where the mask takes whole
  // vocabulary subtrees at once
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {R"(root ::= "{" [ ]? "\"" [a-z]+ "\"" ":" [ ]? [0-9]+ "}")",
       {"", "{", "{\"", "{\"ab", "{\"ab\":", "{\"ab\": 12", "{\"a\":1}"}},
      {R"(root ::= "\"" [^"\\\x00-\x1F]* "\"" [ \t\n]* "x"{0,3})",
       {"", "\"", "\"ab c", "\"\xC3", "\"\xC3\xA9", "\"\xE2\x82", "\"a\"", "\"a\"  \n", "\"a\"x"}},
      // a counted string (maxLength): each character leads to the next count
      {R"(root ::= "\"" [^"\\\x00-\x1F]{0,12} "\"" [0-9]{2,40})",
       {"\"", "\"a", "\"abcdefgh", "\"abcdefghij", "\"abcdefghijk", "\"abcdefghi\xC3", "\"abcdefghijkl",
        "\"a\"", "\"a\"1", "\"a\"1234567890123456789012345678901234567"}}};
  for (const auto& [gbnf, prefixes] : cases) {
    auto c = make(gbnf);
    auto cold = make(gbnf);  // allows() before any mask is cached
    for (const std::string& prefix : prefixes) {
      const auto s = c->advance(c->start(), prefix);
      REQUIRE(s != TokenConstraint::kDead);
      const auto cs = cold->advance(cold->start(), prefix);
      std::vector<bool> cold_allows(50257);
      for (int32_t id = 0; id < 50257; ++id) cold_allows[static_cast<size_t>(id)] = cold->allows(cs, id);
      const uint64_t* m = c->mask(s);
      for (int32_t id = 0; id < 50257; ++id) {
        const bool bit = (m[id >> 6] >> (id & 63)) & 1;
        if (bit != cold_allows[static_cast<size_t>(id)] || bit != c->allows(s, id))
          FAIL("prefix '" << prefix << "' token " << id << ": allows() differs from the mask");
      }
      size_t allowed = 0;
      for (int32_t id = 0; id < 50256; ++id) {
        const bool bit = (m[id >> 6] >> (id & 63)) & 1;
        const bool ok = c->advance(s, tok().token_bytes(id)) != TokenConstraint::kDead;
        if (bit != ok) FAIL("prefix '" << prefix << "' token " << id << " mask " << bit << " matcher " << ok);
        allowed += bit;
      }
      const bool eos = (m[50256 >> 6] >> (50256 & 63)) & 1;
      CHECK(eos == c->complete(s));
      CHECK((allowed > 0) == c->can_continue(s));
    }
  }
}

TEST_CASE("a constrained sequence only draws allowed tokens and EOS where complete", "[constraint]") {
  // random logits: every sample must match the grammar
  auto c = make(R"(root ::= "yes" | "no" | "maybe " [0-9]{1,3})");
  ModelLimits lim;
  lim.n_ctx = 64;
  lim.n_vocab = 50257;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 3);
  std::vector<float> logits(50257);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Request req;
    req.prompt = {464};
    req.max_tokens = 10;
    req.seed = seed;
    req.sampler.top_k = 0;
    req.sampler.top_p = 1;
    req.sampler.min_p = 0;
    req.sampler.temperature = 1;
    req.constraint = c;
    Sequence seq(req, lim, tok());
    while (!seq.done()) {
      for (auto& x : logits) x = nd(rng);
      logits[50256] = 5;  // the model wants to stop
      seq.step(logits);
    }
    const std::string& t = seq.text();
    INFO(t);
    if (seq.finish_reason() != FinishReason::Length) {
      const bool ok = t == "yes" || t == "no" ||
                      (t.rfind("maybe ", 0) == 0 && t.size() >= 7 && t.size() <= 9 &&
                       t.find_first_not_of("0123456789", 6) == std::string::npos);
      CHECK(ok);
    }
  }
}

TEST_CASE("greedy under a constraint picks what the masked chain picks, with or without the mask", "[constraint]") {
  // logprobs force the full mask every step; without them greedy takes the unmasked arg-max
  // when the constraint allows it. Ties (many equal logits) and penalties must not tell them apart.
  auto c = make(R"(root ::= "{\"a\": " ("true" | "false" | [0-9]{1,4}) ", \"b\": \"" [a-z ]{0,20} "\"}")");
  ModelLimits lim;
  lim.n_ctx = 64;
  lim.n_vocab = 50257;
  std::vector<float> logits(50257);
  // the pieces of a valid text get high logits, so the unmasked arg-max is often allowed
  // (the shortcut) and often not (the full mask)
  std::vector<int32_t> boosted = tok().encode_ordinary(R"({"a": 12, "b": "ab cd"} true false)");
  for (int32_t id : bytewise(R"({"a": 7, "b": "x"})")) boosted.push_back(id);
  for (uint64_t round = 0; round < 12; ++round) {
    std::vector<std::vector<int32_t>> ids;
    for (int with_logprobs = 0; with_logprobs < 2; ++with_logprobs) {
      std::mt19937 rng(static_cast<uint32_t>(round));
      std::normal_distribution<float> nd(0, 3);
      Request req;
      req.prompt = {464};
      req.max_tokens = 40;
      req.logprobs = with_logprobs;
      req.sampler.temperature = 0;
      req.sampler.repeat_penalty = round % 3 == 0 ? 1.3f : 1.0f;
      req.sampler.top_k = round % 2 ? 5 : 40;
      req.constraint = c;
      Sequence seq(req, lim, tok());
      while (!seq.done()) {
        for (auto& x : logits) x = round % 4 == 1 ? std::round(nd(rng)) : nd(rng);  // ties
        for (int32_t id : boosted) logits[static_cast<size_t>(id)] = 12.0f + std::round(nd(rng));
        logits[50256] = round % 5 == 0 ? 14.0f : 0.0f;
        seq.step(logits);
      }
      ids.push_back(seq.ids());
    }
    INFO("round " << round);
    CHECK(ids[0] == ids[1]);
  }
}
