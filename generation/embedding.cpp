// Embeddings from hidden states (design in generation/embedding.h).
#include "generation/embedding.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace gpt2::generation {

Pooling parse_pooling(std::string_view s) {
  if (s == "mean") return Pooling::Mean;
  if (s == "last") return Pooling::Last;
  if (s == "none") return Pooling::None;
  param_error("pooling", fmt::format("'{}'", s), "is not a pooling (mean, last or none)");
}

Normalize parse_normalize(std::string_view s) {
  if (s == "l2") return Normalize::L2;
  if (s == "none") return Normalize::None;
  param_error("normalize", fmt::format("'{}'", s), "is not a normalisation (l2 or none)");
}

const char* pooling_name(Pooling p) {
  switch (p) {
    case Pooling::Mean: return "mean";
    case Pooling::Last: return "last";
    case Pooling::None: return "none";
  }
  return "?";
}

void check_embed_options(const EmbedOptions& o, const ModelConfig& cfg) {
  if (o.layer != HiddenStates::kLnF && (o.layer < 0 || o.layer > cfg.n_layer))
    param_error("layer", o.layer,
                fmt::format("is out of range (the model has layers 0..{}: 0 = wte+wpe, 1..{} = "
                            "block outputs)",
                            cfg.n_layer, cfg.n_layer));
}

std::string floats_json(std::span<const float> v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); i++) {
    if (i) s += ',';
    s += std::isfinite(v[i]) ? fmt::format("{}", v[i]) : "null";
  }
  return s + "]";
}

void l2_normalize(std::span<float> v) {
  double ss = 0;
  for (float x : v) ss += static_cast<double>(x) * x;
  if (ss <= 0) return;
  const double inv = 1.0 / std::sqrt(ss);
  for (float& x : v) x = static_cast<float>(x * inv);
}

Embedding pool_hidden(std::span<const float> hidden, int T, int C, const EmbedOptions& o) {
  Embedding e;
  e.dim = C;
  e.n_tokens = T;
  switch (o.pooling) {
    case Pooling::None:
      e.rows = T;
      e.data.assign(hidden.begin(), hidden.begin() + static_cast<size_t>(T) * C);
      break;
    case Pooling::Last:
      e.rows = 1;
      e.data.assign(hidden.begin() + static_cast<size_t>(T - 1) * C,
                    hidden.begin() + static_cast<size_t>(T) * C);
      break;
    case Pooling::Mean: {
      e.rows = 1;
      std::vector<double> sum(static_cast<size_t>(C), 0.0);
      for (int t = 0; t < T; t++)
        for (int i = 0; i < C; i++) sum[i] += hidden[static_cast<size_t>(t) * C + i];
      e.data.resize(static_cast<size_t>(C));
      for (int i = 0; i < C; i++) e.data[i] = static_cast<float>(sum[i] / T);
      break;
    }
  }
  if (o.normalize == Normalize::L2)
    for (int r = 0; r < e.rows; r++)
      l2_normalize(std::span<float>(e.data.data() + static_cast<size_t>(r) * C, C));
  return e;
}

EmbeddingJob::EmbeddingJob(std::vector<int32_t> tokens, const EmbedOptions& o)
    : tokens_(std::move(tokens)), opts_(o) {
  hidden_.layers = {o.layer};
  hidden_.logits = false;
  done_ = tokens_.empty();
}

Job::Input EmbeddingJob::input() {
  Input in;
  in.tokens = tokens_;
  in.hidden = &hidden_;
  return in;
}

void EmbeddingJob::consume(std::span<const float>) {
  result_ = pool_hidden(hidden_.data, hidden_.n_tokens, hidden_.n_embd, opts_);
  hidden_.data = {};
  done_ = true;
}

namespace {

// The texts shortest first (stable: equal lengths in input order), each as an EmbeddingJob
// that hands its result to out[i]. Why by length: a pass's rows come in two classes with their
// own kernels (sequences of fewer than kernels::kGemmMinT tokens, and longer ones; models/
// model.h Batch), and a pass holding both reads every weight matrix twice. In input order,
// one 4-token text among 15 short ones does that (11 of 16 passes over the course's 1-3 word
// texts); sorted, only the pass at the boundary does. The vectors do not change (batch
// invariance), only which texts share a pass.
class TextsSource final : public JobSource {
 public:
  TextsSource(const std::vector<std::vector<int32_t>>& texts, const EmbedOptions& o,
              std::vector<Embedding>& out)
      : texts_(texts), opts_(o), out_(out), order_(texts.size()) {
    std::iota(order_.begin(), order_.end(), size_t{0});
    std::stable_sort(order_.begin(), order_.end(),
                     [&](size_t a, size_t b) { return texts[a].size() < texts[b].size(); });
  }
  std::unique_ptr<Job> next(bool) override {
    if (next_ == texts_.size()) return nullptr;
    const size_t i = order_[next_++];
    return std::make_unique<Slot>(texts_[i], opts_, out_[i]);
  }
  bool exhausted() const override { return next_ == texts_.size(); }

 private:
  class Slot final : public EmbeddingJob {
   public:
    Slot(std::vector<int32_t> t, const EmbedOptions& o, Embedding& dst)
        : EmbeddingJob(std::move(t), o), dst_(dst) {}
    void finish() override { dst_ = std::move(result()); }

   private:
    Embedding& dst_;
  };
  const std::vector<std::vector<int32_t>>& texts_;
  EmbedOptions opts_;
  std::vector<Embedding>& out_;
  std::vector<size_t> order_;  // texts_ indices, shortest first
  size_t next_ = 0;
};

}  // namespace

bool embed_texts(const Model& model, const std::vector<std::vector<int32_t>>& texts,
                 const EmbedOptions& o, int batch, std::vector<Embedding>& out,
                 const std::function<bool()>& between) {
  const ModelConfig& cfg = model.config();
  check_embed_options(o, cfg);
  for (size_t i = 0; i < texts.size(); i++) {
    if (texts[i].empty()) usage_error("text {} is empty: nothing to embed", i);
    if (texts[i].size() > static_cast<size_t>(cfg.n_positions))
      usage_error("text {} has {} tokens, more than the model's context ({})", i,
                  texts[i].size(), cfg.n_positions);
  }
  out.assign(texts.size(), Embedding{});
  if (texts.empty()) return true;
  TextsSource source(texts, o, out);
  Scheduler sched(model, batch);
  return sched.run(source, between);
}

}  // namespace gpt2::generation
