#include "app/finetune_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/inspect_plot.h"
#include "app/inspect_util.h"
#include "app/output.h"
#include "core/error.h"

namespace gpt2::app {

namespace {

constexpr const char* kHeader = "step\ttrain_loss\tval_loss\tlr\ttokens_per_s";

std::string row_text(const LogRow& r) {
  std::string s = fmt::format("{}\t{:.6f}\t{}\t{:.6g}\t{:.1f}", r.step, r.train_loss,
                              std::isnan(r.val_loss) ? std::string() : fmt::format("{:.6f}", r.val_loss),
                              r.lr, r.tokens_per_s);
  for (double v : r.extra) s += std::isnan(v) ? std::string("\t") : fmt::format("\t{:.6f}", v);
  return s + "\n";
}

// One row of log.tsv with `extras` extra columns, or false when it is not one (a line cut by
// a crash is dropped).
bool parse_row(const std::string& line, LogRow& r, size_t extras) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  std::string item;
  while (std::getline(ss, item, '\t')) f.push_back(item);
  if (line.ends_with('\t')) f.push_back("");
  if (f.size() != 5 + extras) return false;
  auto num = [](const std::string& s, double& out) {
    if (s.empty()) return false;
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size();
  };
  double step = 0;
  if (!num(f[0], step) || !num(f[1], r.train_loss) || !num(f[3], r.lr) || !num(f[4], r.tokens_per_s))
    return false;
  r.step = static_cast<int64_t>(step);
  r.val_loss = std::nan("");
  if (!f[2].empty() && !num(f[2], r.val_loss)) return false;
  r.extra.assign(extras, std::nan(""));
  for (size_t i = 0; i < extras; ++i)
    if (!f[5 + i].empty() && !num(f[5 + i], r.extra[i])) return false;
  return true;
}

// A round step for about `n` ticks over [0, span].
double tick_step(double span, int n) {
  const double raw = span / n;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

// A tick label with as many decimals as the step needs (2.5 -> 1, 0.25 -> 2, 10 -> 0).
std::string fmt_num(double v, double step) {
  int decimals = 0;
  while (decimals < 6 && std::abs(step * std::pow(10.0, decimals) -
                                  std::round(step * std::pow(10.0, decimals))) > 1e-6)
    ++decimals;
  return fmt::format("{:.{}f}", v, decimals);
}

}  // namespace

TrainingLog::TrainingLog(const std::string& outdir, int64_t keep_up_to,
                         std::vector<std::string> extra_columns)
    : dir_(outdir),
      path_((std::filesystem::path(outdir) / "log.tsv").string()),
      extra_(std::move(extra_columns)) {
  std::string text = kHeader;
  for (const std::string& c : extra_) text += "\t" + c;
  text += "\n";
  if (keep_up_to >= 0) {
    std::ifstream in(path_);
    std::string line;
    bool first = true;
    while (std::getline(in, line)) {
      if (first) {
        first = false;
        continue;  // the header
      }
      LogRow r;
      if (!parse_row(line, r, extra_.size()) || r.step > keep_up_to) continue;
      rows_.push_back(r);
      text += line + "\n";
    }
  }
  write_file_atomic(path_, text);
  f_ = std::fopen(path_.c_str(), "a");
  if (f_ == nullptr) runtime_error("cannot write {}: {}", path_, std::strerror(errno));
}

TrainingLog::~TrainingLog() {
  if (f_) std::fclose(f_);
}

void TrainingLog::append(const LogRow& row) {
  rows_.push_back(row);
  const std::string s = row_text(row);
  if (std::fwrite(s.data(), 1, s.size(), f_) != s.size() || std::fflush(f_) != 0)
    runtime_error("cannot write {}: {}", path_, std::strerror(errno));
}

void TrainingLog::write_plot(const std::string& title) const {
  auto index = [&](const char* a, const char* b) {
    for (size_t i = 0; i < extra_.size(); ++i)
      if (extra_[i] == a || extra_[i] == b) return static_cast<int>(i);
    return -1;
  };
  write_file_atomic((std::filesystem::path(dir_) / "loss.svg").string(),
                    svg_loss_curve(rows_, title, index("accuracy", "rewards_accuracy"),
                                   index("val_accuracy", "val_rewards_accuracy")));
}

std::string svg_loss_curve(const std::vector<LogRow>& rows, const std::string& title, int acc,
                           int val_acc) {
  constexpr double W = 720, H = 420, left = 64, right = 24, top = 48, bottom = 56;
  const double pw = W - left - right, ph = H - top - bottom;
  double lo = INFINITY, hi = -INFINITY;
  int64_t last = 1;
  for (const LogRow& r : rows) {
    for (double v : {r.train_loss, r.val_loss})
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    last = std::max(last, r.step);
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-6) lo -= 0.5, hi += 0.5;
  const double ystep = tick_step(hi - lo, 5);
  lo = std::floor(lo / ystep) * ystep;
  hi = std::ceil(hi / ystep) * ystep;
  const double xstep = std::max(1.0, tick_step(static_cast<double>(last), 8));
  auto X = [&](double step) { return left + (last > 1 ? (step - 1) / (last - 1) : 0.5) * pw; };
  auto Y = [&](double v) { return top + ph - (v - lo) / (hi - lo) * ph; };

  std::string s = svg_header(W, H) +
                  fmt::format("<text x=\"{:.1f}\" y=\"24\" font-size=\"14\" font-weight=\"bold\" "
                              "text-anchor=\"middle\">{}</text>\n",
                              W / 2, xml_escape(title));
  for (double v = lo; v <= hi + ystep * 1e-6; v += ystep)
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e3e3e3\"/>\n"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\" fill=\"#333\">{5}</text>\n",
        left, Y(v), left + pw, left - 6, Y(v) + 4, fmt_num(v, ystep));
  for (double x = xstep; x <= static_cast<double>(last) + 1e-9; x += xstep)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#333\">{}</text>\n",
                     X(x), top + ph + 18, fmt_num(x, 1));
  s += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#333\"/>\n"
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"13\">step</text>\n"
      "<text x=\"16\" y=\"{:.1f}\" transform=\"rotate(-90 16 {:.1f})\" text-anchor=\"middle\" "
      "font-size=\"13\">cross-entropy (nats)</text>\n",
      left, top, pw, ph, left + pw / 2, H - 14, top + ph / 2, top + ph / 2);

  std::string train, val, dots;
  for (const LogRow& r : rows) {
    if (std::isfinite(r.train_loss)) train += fmt::format("{:.1f},{:.1f} ", X(r.step), Y(r.train_loss));
    if (std::isfinite(r.val_loss)) {
      val += fmt::format("{:.1f},{:.1f} ", X(r.step), Y(r.val_loss));
      dots += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"#f28e2b\"/>\n", X(r.step),
                          Y(r.val_loss));
    }
  }
  s += fmt::format("<polyline fill=\"none\" stroke=\"#4e79a7\" stroke-width=\"1.5\" points=\"{}\"/>\n", train);
  if (!val.empty())
    s += fmt::format("<polyline fill=\"none\" stroke=\"#f28e2b\" stroke-width=\"1.5\" points=\"{}\"/>\n", val) + dots;
  if (acc >= 0) {  // accuracy in [0, 1] on the right axis, dashed
    auto A = [&](double v) { return top + ph - v * ph; };
    for (double v : {0.0, 0.5, 1.0})
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#59a14f\">{:.1f}</text>\n",
                       left + pw + 3, A(v) + 4, v);
    for (int k : {acc, val_acc}) {
      if (k < 0) continue;
      std::string pts;
      for (const LogRow& r : rows)
        if (static_cast<size_t>(k) < r.extra.size() && std::isfinite(r.extra[k]))
          pts += fmt::format("{:.1f},{:.1f} ", X(r.step), A(r.extra[k]));
      if (!pts.empty())
        s += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.2\" "
                         "stroke-dasharray=\"5,3\" points=\"{}\"/>\n",
                         k == acc ? "#59a14f" : "#e15759", pts);
    }
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#59a14f\">- - accuracy (right axis, 0-1; "
        "validation in red)</text>\n",
        left + 8, top + 18);
  }
  s += fmt::format(
      "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#4e79a7\" stroke-width=\"2\"/>"
      "<text x=\"{3:.1f}\" y=\"{4:.1f}\">train</text>\n",
      left + pw - 150, top + 14, left + pw - 128, left + pw - 122, top + 18);
  if (!val.empty())
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#f28e2b\" stroke-width=\"2\"/>"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\">validation</text>\n",
        left + pw - 80, top + 14, left + pw - 58, left + pw - 52, top + 18);
  return s + "</svg>\n";
}

}  // namespace gpt2::app
