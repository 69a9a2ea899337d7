// One error type for the whole project (cf. LevelDB's Status, fmt's report_error).
//
// Libraries throw gpt2::Error; app/main.cpp catches it once, prints
//   gpt2: error: <message>
// as one line on stderr and exits with the error's code:
//   ExitCode::Runtime (1): a missing, unreadable or invalid model; failure to write output;
//   ExitCode::Usage   (2): a bad flag value, an unknown token id, a refused special token,
//                          a prompt file that is missing or not a regular file.
// Messages name the file, tensor, parameter or value at fault.
//
// ParamError: a bad value of one named parameter. Libraries do not know whether a value came
// from a command-line flag, a request's JSON field or code, so they name the parameter by
// its canonical snake_case name ("top_k", "logit_bias", "stop[1]") and say what is wrong; what()
// is the neutral message ("top_k -1 is out of range (must be >= 0; 0 = off)"). app/ renders
// it with the flag that set the parameter (app/param_errors.h), server/ as an OpenAI error
// object whose "param" is the JSON field. A problem may name another parameter
// (ParamRef), rendered the same way ("batch 3 must be a positive multiple of micro_batch 2").
#pragma once

#include <fmt/format.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gpt2 {

enum class ExitCode : int { Ok = 0, Runtime = 1, Usage = 2, Interrupted = 130 };

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

/// Another parameter named inside a ParamError's problem.
struct ParamRef {
  std::string name;
};

class ParamError : public Error {
 public:
  /// How the message is put together from the parameter's name N, the value V and the problem P:
  enum class Form {
    Value,     // "N V P" (V may be empty: "N P"):   top_k -1 is out of range (must be >= 0)
    Colon,     // "N: P", or "N V: P" with a value:  samplers: 'x' is listed twice
    Sentence,  // "P" alone (it names what it needs to): the text contains the special token …
  };
  /// What went wrong, for an HTTP API's error code: a bad value, a value of the wrong JSON
  /// type, a required field missing, or a value the program does not support.
  enum class Kind { Value, Type, Missing, Unsupported };
  using Part = std::variant<std::string, ParamRef>;
  using NameOf = std::function<std::string(std::string_view param)>;

  ParamError(std::string param, std::string value, std::vector<Part> problem,
             Form form = Form::Value, Kind kind = Kind::Value, ExitCode code = ExitCode::Usage)
      : Error(code, compose(param, value, problem, form, plain_name, " ")),
        param_(std::move(param)),
        value_(std::move(value)),
        problem_(std::move(problem)),
        form_(form),
        kind_(kind) {}

  const std::string& param() const { return param_; }
  const std::string& value() const { return value_; }
  Form form() const { return form_; }
  Kind kind() const { return kind_; }
  /// The message with every parameter name (this one and each ParamRef) written as
  /// name_of(name), and `value_sep` between the name and a value in the Value form.
  std::string message(const NameOf& name_of, std::string_view value_sep = " ") const {
    return compose(param_, value_, problem_, form_, name_of, value_sep);
  }

 private:
  static std::string plain_name(std::string_view p) { return std::string(p); }
  static std::string compose(const std::string& param, const std::string& value,
                             const std::vector<Part>& problem, Form form, const NameOf& name_of,
                             std::string_view value_sep) {
    std::string p;
    for (const Part& part : problem)
      p += part.index() == 0 ? std::get<0>(part) : name_of(std::get<1>(part).name);
    switch (form) {
      case Form::Value:
        return name_of(param) + (value.empty() ? "" : std::string(value_sep) + value) + " " + p;
      case Form::Colon:
        return name_of(param) + (value.empty() ? "" : " " + value) + ": " + p;
      case Form::Sentence:
        break;
    }
    return p;
  }

  std::string param_, value_;
  std::vector<Part> problem_;
  Form form_;
  Kind kind_;
};

/// Throws ParamError "<param> <value> <problem>" (exit 2), e.g.
/// param_error("top_k", -1, "is out of range (must be >= 0)").
template <typename V>
[[noreturn]] void param_error(std::string param, const V& value, std::string problem) {
  throw ParamError(std::move(param), fmt::format("{}", value), {std::move(problem)});
}

/// Throws ParamError "<param>: <problem>" (exit 2), e.g.
/// param_problem("samplers", "'x' is listed twice").
[[noreturn]] inline void param_problem(std::string param, std::string problem) {
  throw ParamError(std::move(param), "", {std::move(problem)}, ParamError::Form::Colon);
}

/// Throws a usage/input error (exit 2).
template <typename... Args>
[[noreturn]] void usage_error(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ExitCode::Usage, fmt::format(f, std::forward<Args>(args)...));
}

/// Throws a run-time error (exit 1).
template <typename... Args>
[[noreturn]] void runtime_error(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(ExitCode::Runtime, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace gpt2
