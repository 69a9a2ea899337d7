// The validator-judged JSON Schema corpus: tests/data/json-schema/labels.jsonl holds schemas
// and instance texts labelled valid/invalid by python3-jsonschema (scripts/make-schema-corpus;
// tests/cli/json_schema_labels.sh checks the labels still are the validator's). The grammar
// json_schema_to_gbnf compiles must accept exactly the valid texts: never an invalid one, and
// every valid one except those the corpus lists as known_rejected (a documented choice such as
// schema property order), fed byte by byte and as GPT-2 BPE tokens through the token masks.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "generation/constraint.h"
#include "generation/json_schema.h"
#include "source_dir.h"

using namespace gpt2;
using namespace gpt2::generation;
using OJson = nlohmann::ordered_json;

TEST_CASE("json_schema corpus: the grammar accepts exactly what jsonschema validates") {
  std::ifstream in(std::string(GPT2_SOURCE_DIR) + "/tests/data/json-schema/labels.jsonl");
  REQUIRE(in);
  const Tokenizer& tok = Tokenizer::gpt2();
  std::map<std::string, std::shared_ptr<TokenConstraint>> compiled;
  int n = 0, valid = 0, invalid_accepted = 0, valid_rejected = 0, known = 0;
  std::string line;
  while (std::getline(in, line)) {
    const OJson row = OJson::parse(line);
    auto& c = compiled[row["case"].get<std::string>()];
    if (row.contains("schema")) {  // a case's first line
      INFO("case " << row["case"].get<std::string>());
      const auto g = json_schema_to_gbnf(row["schema"]);
      c = std::make_shared<TokenConstraint>(Grammar::parse(g.gbnf, "json_schema"), tok, 50257, 50256,
                                            "json_schema");
      continue;
    }
    REQUIRE(c);
    const std::string text = row["text"].get<std::string>();
    const bool expect = row["valid"].get<bool>();
    const auto s = c->advance(c->start(), text);
    const bool bytes_ok = s != TokenConstraint::kDead && c->complete(s);
    // The same text as GPT-2 tokens through the masks.
    ConstraintState st(c);
    bool tokens_ok = true;
    for (int32_t id : tok.encode_ordinary(text)) {
      if (!st.allowed(id)) {
        tokens_ok = false;
        break;
      }
      st.accept(id);
    }
    tokens_ok = tokens_ok && st.complete() && st.allowed(50256);
    INFO("case " << row["case"].get<std::string>() << " #" << row["index"].get<int>() << ": " << text);
    CHECK(bytes_ok == tokens_ok);
    ++n;
    valid += expect;
    if (!expect) {
      CHECK_FALSE(bytes_ok);
      invalid_accepted += bytes_ok;
    } else if (row.contains("known_rejected")) {
      CHECK_FALSE(bytes_ok);  // a documented restriction; drop it from the corpus when lifted
      ++known;
    } else {
      CHECK(bytes_ok);
      valid_rejected += !bytes_ok;
    }
  }
  WARN("corpus: " << n << " texts (" << valid << " valid, " << known << " valid but refused by design), "
                  << compiled.size() << " schemas; " << invalid_accepted << " invalid accepted, "
                  << valid_rejected << " valid rejected");
  CHECK(n > 2000);
}
