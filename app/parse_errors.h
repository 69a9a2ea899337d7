// CLI11 parse errors in gpt2's one-line style (docs/cli.md "Exit codes": every error names the flag
// or value at fault). CLI11 2.1's own texts are written for programmers ("Could not convert:
// --max-tokens = abc", "--threads: Value x not in range 0.000000 to 1797…", and extra
// arguments listed in reverse order), so main() passes every ParseError through
// describe_parse_error(), which rebuilds the message from the option the error names (its
// short and long names, the raw value the user typed) and, for arguments nobody expected,
// from the parser's own list of them, in the order given:
//   unknown option     unknown option '--tempreature'; did you mean --temperature?
//   unknown command    unknown command 'generat'; did you mean generate? Commands: …
//                      (the first word when no command matched, whatever follows it)
//   stray argument     gpt2 bench takes no positional arguments: 'foo' 'bar'
//   wrong type         -n/--max-tokens: 'abc' is not an integer
//   missing value      -n/--max-tokens needs a value: an integer
//   not a choice       --format: 'xml' is not one of ids, pieces, json, count
//   given twice        -n/--max-tokens was given 2 times (give it once)
//   flag with a value  --jsonl is a flag: give it alone, without a value (got 'abc')
// A message of a kind not listed keeps CLI11's text. Each ends with "(see gpt2 CMD --help)".
// main() prints it after "gpt2: error: " and exits 2.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace gpt2::app {

/// The message (without the "gpt2: error: " prefix) for a parse error of `root`'s tree.
std::string describe_parse_error(const CLI::ParseError& e, const CLI::App& root);

}  // namespace gpt2::app
