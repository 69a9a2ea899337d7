// The GPT-2 pre-tokenizer on its own:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode_classes.h"

using gpt2::pretok::split;
using V = std::vector<std::string_view>;

TEST_CASE("pretok: words, spaces and punctuation", "[tokenizer][pretok]") {
  CHECK(split("Hello world") == V{"Hello", " world"});
  CHECK(split("Hello, world!") == V{"Hello", ",", " world", "!"});
  CHECK(split("") == V{});
  CHECK(split(" ") == V{" "});
  CHECK(split("a ,b") == V{"a", " ,", "b"});
  CHECK(split("x?!...") == V{"x", "?!..."});
}

TEST_CASE("pretok: contractions", "[tokenizer][pretok]") {
  CHECK(split("don't") == V{"don", "'t"});
  CHECK(split("we're they've I'm you'll he'd it's") ==
        V{"we", "'re", " they", "'ve", " I", "'m", " you", "'ll", " he", "'d", " it", "'s"});
  // case-sensitive, like the pattern: 'S is not a contraction
  CHECK(split("IT'S") == V{"IT", "'", "S"});
  CHECK(split("'sa") == V{"'s", "a"});
  CHECK(split("''s") == V{"''", "s"});
  CHECK(split(" 's") == V{" '", "s"});
  CHECK(split("'") == V{"'"});
  CHECK(split("'l") == V{"'", "l"});
}

TEST_CASE("pretok: whitespace runs before a word", "[tokenizer][pretok]") {
  // \s+(?!\S) gives the last space back to the word
  CHECK(split("a   b") == V{"a", "  ", " b"});
  CHECK(split("a\n\nb") == V{"a", "\n", "\n", "b"});
  CHECK(split("a \n b") == V{"a", " \n", " b"});
  CHECK(split("a\tb") == V{"a", "\t", "b"});
  // trailing whitespace is one run
  CHECK(split("a   ") == V{"a", "   "});
  CHECK(split("   ") == V{"   "});
  // only U+0020 is the optional space of the word alternatives
  CHECK(split("a \xC2\xA0"
              "b") == V{"a", " ", "\xC2\xA0", "b"});
  CHECK(split("\xE3\x80\x80\xE3\x80\x80x") == V{"\xE3\x80\x80", "\xE3\x80\x80", "x"});
  CHECK(split(" \r\n") == V{" \r\n"});
}

TEST_CASE("pretok: numbers", "[tokenizer][pretok]") {
  CHECK(split("abc123 456") == V{"abc", "123", " 456"});
  CHECK(split("3.14") == V{"3", ".", "14"});
  CHECK(split("\xC2\xBD\xE2\x85\xA0") == V{"\xC2\xBD\xE2\x85\xA0"});  // ½Ⅰ: No, Nl
  CHECK(split("x\xD9\xA3") == V{"x", "\xD9\xA3"});                    // Arabic-Indic three
}

TEST_CASE("pretok: Unicode 16.0 classes", "[tokenizer][pretok]") {
  using namespace gpt2::unicode;
  CHECK(char_class('a') == Letter);
  CHECK(char_class(0x4E2D) == Letter);  // 中
  CHECK(char_class(0x0660) == Number);  // ARABIC-INDIC DIGIT ZERO
  CHECK(char_class(0x3000) == Space);   // IDEOGRAPHIC SPACE
  CHECK(char_class(0x0085) == Space);   // NEL
  CHECK(char_class(0xFEFF) == Other);   // BOM is not White_Space
  CHECK(char_class(0x200B) == Other);   // ZERO WIDTH SPACE is not White_Space
  CHECK(char_class(0x0301) == Other);   // combining acute: Mn is not L
  CHECK(char_class(0x1F600) == Other);  // emoji
  CHECK(char_class(0x10FFFF) == Other);
  CHECK(char_class(0x110000) == Other);
  // New in Unicode 16.0 (unassigned in 15.x): TODHRI LETTER A U+105C0,
  // GARAY DIGIT ZERO U+10D40.
  CHECK(char_class(0x105C0) == Letter);
  CHECK(char_class(0x10D40) == Number);
  // ... so it joins the surrounding letters
  CHECK(split("a\xF0\x90\x97\x80"
              "b c") == V{"a\xF0\x90\x97\x80"
                          "b",
                          " c"});
  // combining marks split words (they are "other")
  CHECK(split("e\xCC\x81t\xC3\xA9") == V{"e", "\xCC\x81", "t\xC3\xA9"});
}

TEST_CASE("pretok: invalid UTF-8 bytes are single 'other' characters", "[tokenizer][pretok]") {
  CHECK(split("a\xFF"
              "b") == V{"a", "\xFF", "b"});
  CHECK(split("\xE4\xB8") == V{"\xE4\xB8"});
  CHECK(split(" \x80\x80x") == V{" \x80\x80", "x"});
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string joined;
  for (auto p : split(all)) joined += p;
  CHECK(joined == all);
}
