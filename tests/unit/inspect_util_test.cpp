// inspect-logits helpers (app/inspect_util.h): log-sum-exp stability, visible pieces,
// display width, bars, the exact .npy v1.0 header bytes, XML escaping in the SVG (the atomic
// file writer is tested in output_file_test.cpp).
//
// app/ is linked into the gpt2 executable only (no library), so this test compiles the
// helper source itself; it has no dependency beyond core/ and fmt.
#include "app/inspect_plot.cpp"  // NOLINT: see the comment above
#include "app/inspect_util.cpp"  // NOLINT

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

using namespace gpt2;
using namespace gpt2::app;

TEST_CASE("inspect: log_sum_exp is stable and exact", "[inspect]") {
  const float a[3] = {1000.0f, 1000.0f, -INFINITY};
  CHECK(log_sum_exp(a, 3) == Approx(1000.0 + std::log(2.0)).epsilon(1e-15));
  const float b[2] = {-1000.0f, -1001.0f};
  CHECK(log_sum_exp(b, 2) == Approx(-1000.0 + std::log1p(std::exp(-1.0))).epsilon(1e-15));
  // temperature 0.5 doubles the logits
  const float c[2] = {1.0f, 0.0f};
  CHECK(log_sum_exp(c, 2, 2.0) == Approx(std::log(std::exp(2.0) + 1.0)).epsilon(1e-15));
  const float d[2] = {-INFINITY, -INFINITY};
  CHECK(std::isinf(log_sum_exp(d, 2)));
  CHECK(log_sum_exp(d, 2) < 0);
}

TEST_CASE("inspect: visible pieces show whitespace and bad bytes", "[inspect]") {
  CHECK(visible_piece(" the") == "␣the");
  CHECK(visible_piece("a\nb\tc\r") == "a\\nb\\tc\\r");
  CHECK(visible_piece("\\") == "\\\\");
  CHECK(visible_piece(std::string("\xe2\x80", 2)) == "\\xE2\\x80");  // half of ’
  CHECK(visible_piece("\x99") == "\\x99");
  CHECK(visible_piece("é€😀") == "é€😀");
  CHECK(visible_piece(std::string("\x00\x1b", 2)) == "\\x00\\x1B");
  CHECK(visible_piece("\xc2\xa0") == "\\u{00A0}");   // no-break space
  CHECK(visible_piece("\xc0\xaf") == "\\xC0\\xAF");  // overlong
  CHECK(visible_piece("") == "");
}

TEST_CASE("inspect: display width and padding", "[inspect]") {
  CHECK(display_width("abc") == 3);
  CHECK(display_width("␣the") == 4);
  CHECK(display_width("日本") == 4);
  CHECK(display_width("😀") == 2);
  CHECK(display_width("\xff") == 1);
  CHECK(pad("␣a", 4) == "␣a  ");
  CHECK(pad("ab", 4, true) == "  ab");
  CHECK(pad("abcdef", 3) == "abcdef");  // never truncated
}

TEST_CASE("inspect: probability bars use eighth blocks", "[inspect]") {
  CHECK(prob_bar(1.0, 3) == "███");
  CHECK(prob_bar(0.5, 2) == "█");
  CHECK(prob_bar(3.0 / 8.0, 1) == "▍");
  CHECK(prob_bar(0.0, 10) == "");
  CHECK(prob_bar(1e-9, 10) == "▏");  // a non-zero probability stays visible
  CHECK(prob_bar(2.0, 2) == "██");   // clamped
  CHECK(prob_bar(NAN, 2) == "");
}

TEST_CASE("inspect: npy v1.0 header bytes", "[inspect]") {
  const std::string h = npy_header(3, 50257);
  REQUIRE(h.size() % 64 == 0);
  CHECK(h.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  const size_t hl = static_cast<unsigned char>(h[8]) | (static_cast<unsigned char>(h[9]) << 8);
  CHECK(hl + 10 == h.size());
  CHECK(h.back() == '\n');
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 50257), }";
  CHECK(h.substr(10, dict.size()) == dict);
  for (size_t i = 10 + dict.size(); i + 1 < h.size(); i++) CHECK(h[i] == ' ');

  const std::vector<float> v = {1.0f, -2.5f};
  const std::string f = npy_bytes(v, 1, 2);
  const size_t hs = npy_header(1, 2).size();
  CHECK(hs == 128);  // 10 + 58-byte dict + '\n' = 69 > 64
  REQUIRE(f.size() == hs + 8);
  float back[2];
  std::memcpy(back, f.data() + hs, 8);  // little-endian host (x86-64)
  CHECK(back[0] == 1.0f);
  CHECK(back[1] == -2.5f);
  CHECK_THROWS_AS(npy_bytes(v, 2, 2), Error);
}

TEST_CASE("inspect: SVG escapes labels and has one bar per value", "[inspect]") {
  BarChart c;
  c.title = "after \"<a & b>\"";
  c.x_label = "token";
  c.y_label = "probability";
  c.categories = {"␣<b>", "&", std::string("\x01", 1)};
  c.series_names = {"T=0.5", "T=1"};
  c.values = {{0.5, 0.3, 0.2}, {0.4, 0.35, 0.25}};
  const std::string s = svg_bar_chart(c);
  CHECK(s.find("<b>") == std::string::npos);
  CHECK(s.find("␣&lt;b&gt;") != std::string::npos);
  CHECK(s.find("&quot;&lt;a &amp; b&gt;&quot;") != std::string::npos);
  CHECK(s.find('\x01') == std::string::npos);
  size_t bars = 0;
  for (size_t at = 0; (at = s.find("<title>", at)) != std::string::npos; at++) bars++;
  CHECK(bars == 6);
  CHECK(s.find("T=0.5") != std::string::npos);
  CHECK(s.rfind("</svg>\n") == s.size() - 7);
}

TEST_CASE("inspect: truncate_columns and wrap_text keep text within its width", "[inspect]") {
  CHECK(truncate_columns("abcdef", 6) == "abcdef");
  CHECK(truncate_columns("abcdef", 4) == "abc…");
  CHECK(truncate_columns("é€😀x", 4) == "é€…");  // 😀 is two columns wide
  CHECK(text_width("abc", 10) == Approx(18.0));
  CHECK(text_width("abc", 10, true) == Approx(21.0));
  // the title that used to run off a 400 px chart
  const std::string title =
      "Next-token probabilities after \"The future of artificial intelligence is\"";
  const auto lines = wrap_text(title, 440, 15, true);
  REQUIRE(lines.size() == 2);
  for (const auto& l : lines) CHECK(text_width(l, 15, true) <= 440);
  CHECK(lines[0] + " " + lines[1] == title);
  // one long word is hard-broken; too many lines end in "…"
  const auto hard = wrap_text(std::string(50, 'x'), 60, 10, false);  // 10 columns a line
  REQUIRE(hard.size() == 3);
  CHECK(hard[0] == std::string(9, 'x'));
  CHECK(hard.back().size() >= 3);
  CHECK(hard.back().substr(hard.back().size() - 3) == "…");
  for (const auto& l : hard) CHECK(display_width(l) <= 10);
  CHECK(wrap_text("", 100, 12, false).empty());
}

TEST_CASE("inspect: the filter figure has one panel per filter", "[inspect]") {
  FilterFigure f;
  f.title = "Which tokens survive";
  f.categories = {"␣the", "␣a", "<b>", "␣my"};
  f.probs = {0.4, 0.3, 0.2, 0.05};
  f.p_max = 0.4;
  f.panels = {{"top_k=2", "top_k", 2, 2, 0.7, {true, true, false, false}},
              {"top_p=0.9", "top_p", 0.9, 3, 0.9, {true, true, true, false}},
              {"min_p=0.3", "min_p", 0.3, 3, 0.9, {true, true, true, false}},
              {"top_p=0.99", "top_p", 0.99, 9, 0.99, {true, true, true, true}}};
  const std::string s = svg_filter_figure(f);
  const auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = 0; (at = s.find(what, at)) != std::string::npos; at++) n++;
    return n;
  };
  CHECK(count("<g class=\"panel\"") == 4);
  CHECK(count("class=\"kept\"") == 2 + 3 + 3 + 4);
  CHECK(count("class=\"cut\"") == 2 + 1 + 1 + 0);
  CHECK(count("class=\"cutoff\"") == 3);  // the last panel's cut lies past the shown bars
  CHECK(s.find(">top_k=2</text>") != std::string::npos);
  CHECK(s.find(">2 tokens survive, mass 0.700</text>") != std::string::npos);
  CHECK(s.find("bar 9 →</text>") != std::string::npos);  // the note may wrap
  CHECK(s.find("line: 0.3 × p_max = 0.1200") != std::string::npos);
  CHECK(s.find("&lt;b&gt;") != std::string::npos);
  CHECK(s.find("<b>") == std::string::npos);
  CHECK(s.rfind("</svg>\n") == s.size() - 7);
}
