// CLI11 parse errors rewritten in gpt2's style (see parse_errors.h). The texts matched here
// are CLI11 2.1's (Debian 12's libcli11-dev); a text that matches none keeps its wording.
#include "app/parse_errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "core/parse.h"

namespace gpt2::app {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The deepest subcommand being parsed (root when none).
const CLI::App* active_app(const CLI::App& root) {
  const CLI::App* app = &root;
  for (;;) {
    auto subs = app->get_subcommands();
    if (subs.empty()) return app;
    app = subs.back();
  }
}

std::string command_path(const CLI::App* app) {
  std::string path;
  for (; app != nullptr; app = app->get_parent())
    path = app->get_parent() ? " " + app->get_name() + path : "gpt2" + path;
  return path;
}

// "-n/--max-tokens", "--format", "TEXT".
std::string label(const CLI::Option* opt) {
  std::string s;
  for (const auto& n : opt->get_snames()) s += (s.empty() ? "-" : "/-") + n;
  for (const auto& n : opt->get_lnames()) s += (s.empty() ? "--" : "/--") + n;
  return s.empty() ? opt->get_name() : s;
}

// The option called `name` (as CLI11 prints it: "--max-tokens", "-n", "TEXT") in the active
// app or one of its parents (global flags such as -v fall through to the root).
const CLI::Option* find_option(const CLI::App* app, std::string_view name) {
  if (name.empty()) return nullptr;
  for (; app != nullptr; app = app->get_parent()) {
    for (const CLI::Option* opt : app->get_options()) {
      if (opt->get_name() == name) return opt;
      for (const auto& n : opt->get_lnames())
        if (name == "--" + n) return opt;
      for (const auto& n : opt->get_snames())
        if (name == "-" + n) return opt;
    }
  }
  return nullptr;
}

// "an integer" for INT, ...; the type name as CLI11 shows it in --help.
std::string type_phrase(const CLI::Option* opt) {
  std::string t = opt ? opt->get_type_name() : "";
  if (t == "INT") return "an integer";
  if (t == "UINT") return "a non-negative integer";
  if (t == "FLOAT") return "a number";
  if (t.empty() || t == "TEXT") return "a value";
  return t;
}

// The value the user typed for `opt` (the last one when given several times).
std::string typed_value(const CLI::Option* opt, std::string_view fallback) {
  if (opt && !opt->results().empty()) return opt->results().back();
  return std::string(fallback);
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); j++) row[j] = j;
  for (size_t i = 1; i <= a.size(); i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); j++) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The closest of `candidates` to `word` if it is a plausible typo (at most 2 edits, and
// fewer than half the word), else "".
std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = 3;
  for (const auto& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d && 2 * d < std::max(word.size(), c.size())) {
      best = c;
      best_d = d;
    }
  }
  return best;
}

std::vector<std::string> option_names(const CLI::App* app) {
  std::vector<std::string> names;
  for (; app != nullptr; app = app->get_parent())
    for (const CLI::Option* opt : app->get_options()) {
      for (const auto& n : opt->get_lnames()) names.push_back("--" + n);
      for (const auto& n : opt->get_snames()) names.push_back("-" + n);
    }
  return names;
}

bool looks_like_option(std::string_view s) {
  return s.size() > 1 && s[0] == '-' &&
         !(s[1] >= '0' && s[1] <= '9');  // "-5" is a word (a negative number), not a flag
}

// "unknown command 'WORD'; did you mean NEAREST? Commands: a, b, c."
std::string describe_unknown_command(const CLI::App& root, const std::string& word) {
  std::vector<std::string> commands;
  for (const CLI::App* sub : root.get_subcommands([](const CLI::App*) { return true; }))
    commands.push_back(sub->get_name());
  std::string msg = fmt::format("unknown command '{}'", quote_for_message(word));
  const std::string near = closest(word, commands);
  if (!near.empty()) msg += fmt::format("; did you mean {}?", near);
  std::string list;
  for (const auto& c : commands) list += (list.empty() ? "" : ", ") + c;
  return msg + fmt::format(" Commands: {}.", list);
}

// Arguments nobody expected, in the order given. Without a command, a first word that is not
// a flag is the mistyped command, whatever follows it (`gpt2 generat -n 3` names 'generat',
// not '-n'); otherwise the first unknown flag is named, else the stray words.
std::string describe_extras(const CLI::App& root, const CLI::App* app) {
  std::vector<std::string> items = root.remaining(true);
  if (app == &root && !items.empty() && !looks_like_option(items.front()))
    return describe_unknown_command(root, items.front());
  auto it = std::find_if(items.begin(), items.end(),
                         [](const std::string& s) { return looks_like_option(s); });
  if (it != items.end()) {
    const std::string flag = starts_with(*it, "--") ? it->substr(0, it->find('=')) : *it;
    std::string msg = fmt::format("unknown option '{}'", quote_for_message(flag));
    const std::string near = closest(flag, option_names(app));
    if (!near.empty()) msg += fmt::format("; did you mean {}?", near);
    return msg;
  }
  std::string quoted;
  for (const auto& s : items) quoted += (quoted.empty() ? "'" : " '") + quote_for_message(s) + "'";
  return fmt::format("{} takes no positional arguments: {}", command_path(app), quoted);
}

// "NAME: rest" -> {NAME, rest} when NAME is an option of the active app.
bool split_named(std::string_view msg, const CLI::App* app, const CLI::Option*& opt,
                 std::string_view& rest) {
  const size_t colon = msg.find(": ");
  if (colon == std::string_view::npos) return false;
  opt = find_option(app, msg.substr(0, colon));
  rest = msg.substr(colon + 2);
  return opt != nullptr;
}

std::string describe(const CLI::ParseError& e, const CLI::App& root, const CLI::App* app) {
  const std::string_view msg = e.what();
  const CLI::Option* opt = nullptr;
  std::string_view rest;

  if (dynamic_cast<const CLI::ExtrasError*>(&e)) return describe_extras(root, app);

  if (dynamic_cast<const CLI::ConversionError*>(&e)) {
    constexpr std::string_view kConvert = "Could not convert: ";
    if (starts_with(msg, kConvert)) {
      std::string_view body = msg.substr(kConvert.size());
      const size_t eq = body.find(" = ");
      opt = find_option(app, body.substr(0, eq));
      if (opt && opt->get_expected_max() == 0)  // a flag given a value: "--jsonl=abc"
        return fmt::format("{} is a flag: give it alone, without a value (got '{}')", label(opt),
                           quote_for_message(typed_value(opt, "")));
      if (opt)
        return fmt::format("{}: '{}' is not {}", label(opt),
                           quote_for_message(typed_value(
                               opt, eq == std::string_view::npos ? "" : body.substr(eq + 3))),
                           type_phrase(opt));
    }
    if (split_named(msg, app, opt, rest) && opt->get_expected_max() == 0)
      return fmt::format("{} is a flag: give it alone, without a value", label(opt));
  }

  if (dynamic_cast<const CLI::ValidationError*>(&e) && split_named(msg, app, opt, rest)) {
    const size_t in = rest.find(" not in {");
    if (in != std::string_view::npos && rest.back() == '}') {
      std::string choices(rest.substr(in + 9, rest.size() - in - 10));
      std::string list;
      for (size_t b = 0; b <= choices.size();) {
        size_t c = std::min(choices.find(',', b), choices.size());
        list += (list.empty() ? "" : ", ") + choices.substr(b, c - b);
        b = c + 1;
      }
      return fmt::format("{}: '{}' is not one of {}", label(opt),
                         quote_for_message(typed_value(opt, rest.substr(0, in))), list);
    }
    if (starts_with(rest, "Value ") && rest.find(" not in range ") != std::string_view::npos)
      return fmt::format("{}: '{}' is out of range", label(opt),
                         quote_for_message(typed_value(opt, "")));
    return fmt::format("{}: {}", label(opt), rest);
  }

  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && split_named(msg, app, opt, rest)) {
    if (rest.find(" required ") != std::string_view::npos &&
        rest.substr(rest.size() - 8) == " missing")
      return fmt::format("{} needs a value: {}", label(opt), type_phrase(opt));
    constexpr std::string_view kAtMost = "At Most ";
    const size_t recv = rest.find("received ");
    if (starts_with(rest, kAtMost) && recv != std::string_view::npos)
      return fmt::format("{} was given {} times (give it once)", label(opt), rest.substr(recv + 9));
  }

  // Any other kind: CLI11's words, first letter lower-cased like ours.
  std::string text(msg);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z' &&
      !(text.size() > 1 && text[1] >= 'A' && text[1] <= 'Z'))
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  return text;
}

}  // namespace

std::string describe_parse_error(const CLI::ParseError& e, const CLI::App& root) {
  const CLI::App* app = active_app(root);
  std::string msg = describe(e, root, app);
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  return fmt::format("{} (see {} --help)", msg, command_path(app));
}

}  // namespace gpt2::app
