// The one reader of JSON fields (see json_fields.h).
#include "core/json_fields.h"

#include <cmath>
#include <limits>

#include "core/parse.h"

namespace gpt2::fields {

namespace {

using Kind = ParamError::Kind;
using Form = ParamError::Form;
// Any id an int32 holds (token_ids with no vocabulary).
constexpr uint64_t kAnyId = static_cast<uint64_t>(std::numeric_limits<int32_t>::max()) + 1;

}  // namespace

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string shown(const Json& j) { return quote_for_message(dump(j)); }

void wrong_type(const std::string& path, std::string_view want, const Json& got) {
  throw ParamError(path, "", {fmt::format("must be {}, not {}", want, shown(got))}, Form::Value,
                   Kind::Type);
}

void bad_value(const std::string& path, const Json& got, std::string problem) {
  throw ParamError(path, shown(got), {std::move(problem)});
}

std::string in_file(const ParamError& e) {
  const std::string msg = e.message([](std::string_view p) { return fmt::format("'{}'", p); });
  return e.kind() == Kind::Missing ? msg : "field " + msg;
}

Object::Object(const Json& obj, std::string prefix, std::string_view where)
    : obj_(&obj), prefix_(std::move(prefix)) {
  if (!obj.is_object()) wrong_type(where.empty() ? "the value" : std::string(where), "an object", obj);
}

const Json* Object::find(std::string_view key) const {
  auto it = obj_->find(key);
  return it == obj_->end() || it->is_null() ? nullptr : &*it;
}

const Json& Object::require(std::string_view key) const {
  const Json* v = find(key);
  if (!v)
    throw ParamError(path(key), "", {"missing field ", ParamRef{path(key)}}, Form::Sentence,
                     Kind::Missing);
  return *v;
}

std::optional<int64_t> Object::integer(std::string_view key, int64_t lo, int64_t hi) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) wrong_type(path(key), "an integer", *v);
  const bool huge = v->is_number_unsigned() &&
                    v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  const int64_t i = huge ? std::numeric_limits<int64_t>::max() : v->get<int64_t>();
  if (huge || i < lo || i > hi)
    bad_value(path(key), *v, fmt::format("is out of range (must be in [{}, {}])", lo, hi));
  return i;
}

std::optional<double> Object::number(std::string_view key, double lo, double hi) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_number()) wrong_type(path(key), "a number", *v);
  const double d = v->get<double>();
  if (!(d >= lo && d <= hi))
    bad_value(path(key), *v, fmt::format("is out of range (must be in [{}, {}])", lo, hi));
  return d;
}

std::optional<float> Object::number_f32(std::string_view key, double lo, double hi) const {
  const auto d = number(key, lo, hi);
  if (d && !std::isfinite(static_cast<float>(*d)))
    bad_value(path(key), *find(key), "is too large");
  return d ? std::optional<float>(static_cast<float>(*d)) : std::nullopt;
}

std::optional<bool> Object::boolean(std::string_view key) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) wrong_type(path(key), "a boolean", *v);
  return v->get<bool>();
}

std::optional<std::string> Object::string(std::string_view key) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) wrong_type(path(key), "a string", *v);
  return v->get<std::string>();
}

const std::string& Object::required_string(std::string_view key) const {
  const Json& v = require(key);
  if (!v.is_string()) wrong_type(path(key), "a string", v);
  return v.get_ref<const std::string&>();
}

std::optional<uint64_t> Object::seed(std::string_view key) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) wrong_type(path(key), "an integer", *v);
  if (!v->is_number_unsigned() && v->get<int64_t>() < 0)
    bad_value(path(key), *v, "is out of range (must be in [0, 18446744073709551615])");
  return v->get<uint64_t>();
}

std::optional<std::vector<std::string>> Object::stop(std::string_view key) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  std::vector<std::string> out;
  const auto add = [&](const Json& s, const std::string& name) {
    if (!s.is_string()) wrong_type(name, "a string", s);
    if (s.get_ref<const std::string&>().empty())
      throw ParamError(name, "", {"is an empty string (it would stop at once)"});
    out.push_back(s.get<std::string>());
  };
  if (v->is_string()) {
    add(*v, path(key));
  } else if (v->is_array()) {
    if (v->size() > kMaxStops)
      throw ParamError(path(key), "",
                       {fmt::format("has {} strings (at most {})", v->size(), kMaxStops)});
    for (size_t i = 0; i < v->size(); ++i) add((*v)[i], fmt::format("{}[{}]", path(key), i));
  } else {
    wrong_type(path(key), "a string or an array of strings", *v);
  }
  return out;
}

std::optional<Object> Object::object(std::string_view key) const {
  const Json* v = find(key);
  if (!v) return std::nullopt;
  return Object(*v, path(key) + ".", path(key));
}

std::vector<int32_t> token_ids(const Json& a, const std::string& path, size_t n_vocab) {
  if (!a.is_array()) wrong_type(path, "an array of token ids", a);
  std::vector<int32_t> ids;
  ids.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    // Named by the array ("prompt holds -2 at index 1: …"): the array is the field at fault.
    const Json& e = a[i];
    const bool integer = e.is_number_integer();
    const bool negative = integer && !e.is_number_unsigned() && e.get<int64_t>() < 0;
    if (!integer || negative || e.get<uint64_t>() >= (n_vocab ? n_vocab : kAnyId))
      throw ParamError(path, "",
                       {fmt::format("holds {} at index {}: not a token id{}", shown(e), i,
                                    n_vocab ? fmt::format(" (vocabulary size {})", n_vocab) : "")},
                       Form::Value, integer ? Kind::Value : Kind::Type);
    ids.push_back(static_cast<int32_t>(e.get<uint64_t>()));
  }
  return ids;
}

TextOrIds text_or_ids(const Json& j, std::string_view text_field) {
  TextOrIds out;
  if (j.is_string()) {
    out.text = j.get<std::string>();
    return out;
  }
  const std::string tf(text_field);
  if (!j.is_object())
    throw ParamError(tf, "",
                     {"a line is a JSON string or an object with ", ParamRef{tf}, " or ",
                      ParamRef{"prompt_ids"}, fmt::format(", not {}", j.type_name())},
                     Form::Sentence, Kind::Type);
  const Object o(j);
  const Json* t = o.find(text_field);
  const Json* ids = o.find("prompt_ids");
  if (t && ids)
    throw ParamError(tf, "", {"give ", ParamRef{tf}, " or ", ParamRef{"prompt_ids"}, ", not both"},
                     Form::Sentence);
  if (!t && !ids)
    throw ParamError(tf, "", {"no ", ParamRef{tf}, " and no ", ParamRef{"prompt_ids"}},
                     Form::Sentence, Kind::Missing);
  if (t) {
    out.text = o.string(text_field);
    return out;
  }
  out.ids = token_ids(*ids, "prompt_ids", 0);  // the vocabulary is the caller's
  return out;
}

}  // namespace gpt2::fields
