// generation/holdback.h: stop strings (also across tokens) and unfinished UTF-8 are held
// back; what is handed out, replaced piece by piece, equals the whole text replaced.
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/utf8.h"
#include "generation/holdback.h"

using gpt2::generation::stop_prefix_hold;
using gpt2::generation::TextHoldBack;

TEST_CASE("holdback: longest suffix that starts a stop string", "[generation]") {
  CHECK(stop_prefix_hold("hello wor", {"world"}) == 3);
  CHECK(stop_prefix_hold("hello", {"world"}) == 0);
  CHECK(stop_prefix_hold("abab", {"abc", "babx"}) == 3);  // "bab" of "babx" beats "ab"
  CHECK(stop_prefix_hold("xa", {"ab"}) == 1);
  CHECK(stop_prefix_hold("xab", {"ab"}) == 0);  // proper prefixes only: "ab" itself is a match
  CHECK(stop_prefix_hold("", {"ab"}) == 0);
}

TEST_CASE("holdback: unfinished UTF-8 is held until the character completes", "[generation]") {
  TextHoldBack h;
  CHECK_FALSE(h.append("a\xC3"));
  CHECK(h.take_safe() == "a");
  CHECK(h.take_safe().empty());
  CHECK_FALSE(h.append("\xA9z"));
  CHECK(h.take_safe() == "\xC3\xA9z");
  CHECK_FALSE(h.append("\xE2\x82"));
  CHECK(h.take_safe().empty());
  CHECK(h.take_rest() == "\xE2\x82");  // the end: what is held comes out (caller replaces it)
  CHECK(h.text() == "a\xC3\xA9z\xE2\x82");
}

TEST_CASE("holdback: a stop string spanning tokens is never handed out", "[generation]") {
  TextHoldBack h({"abc"});
  CHECK_FALSE(h.append("xa"));
  CHECK(h.take_safe() == "x");
  CHECK_FALSE(h.append("b"));
  CHECK(h.take_safe().empty());
  CHECK(h.append("cdef"));
  CHECK(h.stopped());
  CHECK(h.text() == "x");
  CHECK(h.take_safe().empty());
  CHECK(h.take_rest().empty());
  CHECK(h.append("more"));  // after a stop nothing changes
  CHECK(h.text() == "x");
}

TEST_CASE("holdback: a partial match that fails is released", "[generation]") {
  TextHoldBack h({"abc"});
  CHECK_FALSE(h.append("xab"));
  CHECK(h.take_safe() == "x");
  CHECK_FALSE(h.append("d"));
  CHECK(h.take_safe() == "abd");
  CHECK_FALSE(h.append("ab"));
  CHECK(h.take_safe().empty());
  CHECK(h.take_rest() == "ab");
  CHECK_FALSE(h.stopped());
}

TEST_CASE("holdback: the earliest of several stop strings cuts", "[generation]") {
  TextHoldBack h({"cd", "b"});
  CHECK(h.append("abcd"));
  CHECK(h.text() == "a");
  TextHoldBack g({"bca"});
  CHECK_FALSE(g.append("ab"));
  CHECK(g.append("cab"));  // "bca" starts in the earlier token's bytes
  CHECK(g.text() == "a");
  CHECK(g.take_rest() == "a");
}

TEST_CASE("holdback: an empty stop string is a usage error", "[generation]") {
  try {
    TextHoldBack h({"x", ""});
    FAIL("no error");
  } catch (const gpt2::Error& e) {
    CHECK(e.code() == gpt2::ExitCode::Usage);
    CHECK(std::string(e.what()).find("stop") != std::string::npos);
  }
}

TEST_CASE("holdback: random byte streams (property)", "[generation]") {
  // Pieces replaced one by one concatenate to the whole text replaced; no piece exposes a
  // stop string or its start before the cut; the cut is at the first occurrence.
  std::mt19937 rng(12345);
  const std::string alphabet = "ab\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x80\xFF ";
  auto rnd = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<std::string> stops;
    const size_t ns = rnd(3);
    for (size_t i = 0; i < ns; ++i) {
      std::string s;
      const size_t len = 1 + rnd(3);
      for (size_t k = 0; k < len; ++k) s += alphabet[rnd(alphabet.size())];
      stops.push_back(s);
    }
    TextHoldBack h(stops);
    std::string all, shown;
    bool stopped = false;
    const size_t ntok = 1 + rnd(12);
    for (size_t t = 0; t < ntok && !stopped; ++t) {
      std::string tok;
      const size_t len = 1 + rnd(3);
      for (size_t k = 0; k < len; ++k) tok += alphabet[rnd(alphabet.size())];
      all += tok;
      stopped = h.append(tok);
      if (!stopped) {
        const std::string piece(h.take_safe());
        shown += gpt2::utf8_replace_invalid(piece);
        CHECK(h.text().compare(0, h.emitted(), all, 0, h.emitted()) == 0);
      }
    }
    shown += gpt2::utf8_replace_invalid(h.take_rest());
    REQUIRE(shown == gpt2::utf8_replace_invalid(h.text()));
    size_t first = std::string::npos;
    for (const auto& s : stops) first = std::min(first, all.find(s));
    if (stopped) {
      CHECK(first == h.text().size());
      CHECK(all.compare(0, first, h.text()) == 0);
    } else {
      CHECK(first == std::string::npos);
      CHECK(h.text() == all);
    }
  }
}
