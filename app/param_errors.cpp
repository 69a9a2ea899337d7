// ParamError -> the command line's message (see param_errors.h).
#include "app/param_errors.h"

#include <utility>

#include "core/error.h"

namespace gpt2::app {

namespace {

// Every library parameter a flag sets, by the parameter's name.
constexpr std::pair<std::string_view, std::string_view> kFlags[] = {
    // sampling (sampling/sampler.h)
    {"temperature", "--temperature"},
    {"top_k", "--top-k"},
    {"top_p", "--top-p"},
    {"min_p", "--min-p"},
    {"typical_p", "--typical-p"},
    {"repeat_penalty", "--repeat-penalty"},
    {"repeat_last_n", "--repeat-last-n"},
    {"presence_penalty", "--presence-penalty"},
    {"frequency_penalty", "--frequency-penalty"},
    {"no_repeat_ngram", "--no-repeat-ngram"},
    {"logit_bias", "--logit-bias"},
    {"samplers", "--samplers"},
    {"filters", "--filters"},
    // generation (generation/generation.h Request)
    {"max_tokens", "-n/--max-tokens"},
    {"logprobs", "--logprobs"},
    {"stop", "--stop"},
    {"seed", "--seed"},
    // search decoding (generation/search.h SearchParams)
    {"beams", "--beams"},
    {"length_penalty", "--length-penalty"},
    {"early_stopping", "--early-stopping"},
    {"num_return", "--num-return"},
    {"penalty_alpha", "--penalty-alpha"},
    // structured output (generation/constraint.h, generation/json_schema.h)
    {"grammar", "--grammar"},
    {"json_schema", "--json-schema"},
    {"json", "--json"},
    // input, tokenizer, model
    {"prompt_ids", "--prompt-ids"},
    {"special", "--special"},
    {"encoding", "--encoding"},
    {"model_name", "--model-name"},
    {"dtype", "--dtype"},
    {"threads", "--threads"},
    {"backend", "--backend"},
    {"chat_template", "--chat-template"},
    // embeddings (generation/embedding.h, models/model.h HiddenStates)
    {"layer", "--layer"},
    {"pooling", "--pooling"},
    {"normalize", "--normalize"},
    // training (training/trainer.h TrainOptions, training/data.h, training/checkpoint.h)
    {"context", "--context"},
    {"micro_batch", "--micro-batch"},
    {"batch", "--batch"},
    {"steps", "--steps"},
    {"lr", "--lr"},
    {"warmup", "--warmup"},
    {"grad_clip", "--grad-clip"},
    {"weight_decay", "--weight-decay"},
    {"val_batches", "--val-batches"},
    {"val_fraction", "--val-fraction"},
    {"beta", "--beta"},  // finetune --method dpo
    {"save_dtype", "--save-dtype"},
};

}  // namespace

std::string flag_of(std::string_view param) {
  for (const auto& [name, flag] : kFlags)
    if (name == param) return std::string(flag);
  return std::string(param);
}

std::string cli_message(const std::exception& e) {
  if (const auto* p = dynamic_cast<const ParamError*>(&e)) return p->message(flag_of);
  return e.what();
}

}  // namespace gpt2::app
