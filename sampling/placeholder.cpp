// Placeholder so the library exists before the sampler chain lands; delete when it does.
namespace gpt2::sampling {}
