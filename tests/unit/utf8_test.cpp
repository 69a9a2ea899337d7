// core/utf8: Python bytes.decode("utf-8", "replace") semantics (maximal subparts).
#include "core/utf8.h"

#include <catch2/catch.hpp>
#include <string>

using gpt2::utf8_incomplete_tail;
using gpt2::utf8_replace_invalid;
using gpt2::utf8_valid;

namespace {
const std::string R = "\xEF\xBF\xBD";  // U+FFFD
}

TEST_CASE("utf8: replacement like Python errors=replace", "[utf8]") {
  size_t bad = 0;
  CHECK(utf8_replace_invalid("hello", &bad) == "hello");
  CHECK(bad == std::string_view::npos);
  CHECK(utf8_replace_invalid("\xE2\x82", &bad) == R);  // truncated 3-byte: one
  CHECK(bad == 0);
  CHECK(utf8_replace_invalid("\xED\xA0\x80", &bad) == R + R + R);  // surrogate: three
  CHECK(utf8_replace_invalid(std::string("\xF0\x9F") + "a") == R + "a");
  CHECK(utf8_replace_invalid("ab\xFF"
                             "c",
                             &bad) == "ab" + R + "c");
  CHECK(bad == 2);
  CHECK(utf8_replace_invalid("\xC0\xAF") == R + R);                  // overlong lead C0
  CHECK(utf8_replace_invalid("\xE0\x80\xAF") == R + R + R);          // overlong E0 80
  CHECK(utf8_replace_invalid("\xF4\x90\x80\x80") == R + R + R + R);  // > U+10FFFF
  CHECK(utf8_replace_invalid("\xF5") == R);
  CHECK(utf8_replace_invalid("\x80\x80") == R + R);
  CHECK(utf8_replace_invalid("\xF0\x9F\x98") == R);  // truncated 4-byte: one
  CHECK(utf8_replace_invalid("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");
  CHECK(utf8_replace_invalid("\xE2\x82\xE2\x82\xAC") == R + "\xE2\x82\xAC");
  CHECK(utf8_replace_invalid(std::string("a\0b", 3)) == std::string("a\0b", 3));
  // Python: b"\xf1\x80\x41".decode("utf-8","replace") == "\ufffdA"
  CHECK(utf8_replace_invalid("\xF1\x80\x41") == R + "A");
  // the first bad offset after a long valid ASCII prefix (fast path)
  std::string s(1000, 'x');
  s += "\xFE";
  utf8_replace_invalid(s, &bad);
  CHECK(bad == 1000);
}

TEST_CASE("utf8: validity", "[utf8]") {
  CHECK(utf8_valid(""));
  CHECK(utf8_valid("plain ascii text that is long enough for the fast path"));
  CHECK(utf8_valid("\xE4\xB8\xAD\xF0\x9F\x98\x80\xC3\xA9"));
  CHECK(!utf8_valid("\xED\xA0\x80"));
  CHECK(!utf8_valid("abc\xC3"));
  CHECK(!utf8_valid("\xEF\xBB"));
}

TEST_CASE("utf8: incomplete tail", "[utf8]") {
  CHECK(utf8_incomplete_tail("") == 0);
  CHECK(utf8_incomplete_tail("abc") == 0);
  CHECK(utf8_incomplete_tail("a\xE2") == 1);
  CHECK(utf8_incomplete_tail("a\xE2\x80") == 2);
  CHECK(utf8_incomplete_tail("a\xE2\x80\x99") == 0);  // complete
  CHECK(utf8_incomplete_tail("\xF0\x9F\x98") == 3);
  CHECK(utf8_incomplete_tail("\xF0\x9F") == 2);
  CHECK(utf8_incomplete_tail("\xED\xA0") == 0);  // can never become valid
  CHECK(utf8_incomplete_tail("\x80") == 0);      // stray continuation
  CHECK(utf8_incomplete_tail("\xC3") == 1);
  CHECK(utf8_incomplete_tail("\xC3\xA9") == 0);
  CHECK(utf8_incomplete_tail("\xFF") == 0);
}
