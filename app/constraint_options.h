// The constraint flags of generate, inspect-logits, bench and grammar (docs/structured.md):
// --json, --json-schema FILE|JSON, --grammar FILE, --lenient; at most one constraint.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "generation/constraint.h"

namespace gpt2::app {

struct ConstraintOptions {
  bool json = false;        // --json: any JSON object
  std::string json_schema;  // --json-schema: a file, or the schema itself when it starts with '{'
  std::string grammar;      // --grammar: a GBNF file
  bool lenient = false;     // --lenient: ignore unsupported schema keywords (one warning)
};

void add_constraint_options(CLI::App* sub, ConstraintOptions& o);

/// The spec the flags give (Kind::None without one): files read, the schema parsed. Usage
/// errors for two constraints, a missing file, invalid JSON.
generation::ConstraintSpec constraint_spec(const ConstraintOptions& o);

/// The compiled constraint for `spec` over a model's vocabulary (nullptr without one); prints
/// the --lenient warning; errors name the flag (and the file: "--grammar g.gbnf: line 2, …").
std::shared_ptr<generation::TokenConstraint> build_constraint(const ConstraintOptions& o,
                                                              const generation::ConstraintSpec& spec,
                                                              size_t n_vocab, int32_t eos);

/// The flag of the constraint given ("--grammar FILE", "--json", …) for messages.
std::string constraint_flag(const ConstraintOptions& o);

}  // namespace gpt2::app
