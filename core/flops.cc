#include "core/flops.h"

namespace stilts {

double training_flops_per_step(const ModelConfig& c, int64_t batch, int64_t input_len,
                               int64_t target_len) {
  const double b = static_cast<double>(batch), t = static_cast<double>(input_len),
               u = static_cast<double>(target_len), d = static_cast<double>(c.d_model),
               inner = static_cast<double>(c.inner_dim()), ff = static_cast<double>(c.d_ff),
               heads = static_cast<double>(c.num_heads), d_kv = static_cast<double>(c.d_kv);
  const double encoder_layers = static_cast<double>(c.num_layers),
               decoder_layers = static_cast<double>(c.num_decoder_layers);
  // Parameters of one block's matrices: q, k, v, o of an attention; wi_0, wi_1, wo of the
  // gated feed-forward.
  const double projection = d * inner, feed_forward = 3 * d * ff;
  const double input_tokens = b * t, target_tokens = b * u;
  const double matrix_forward =
      2 * encoder_layers * input_tokens * (4 * projection + feed_forward) +
      2 * decoder_layers *
          (target_tokens * (4 * projection + 2 * projection + feed_forward) +
           input_tokens * 2 * projection) +
      2 * target_tokens * d * static_cast<double>(c.vocab_size);
  // Scores and context, each 2 x b x heads x Lq x Lk x d_kv.
  const auto attention = [&](double lq, double lk) { return 2 * 2 * b * heads * lq * lk * d_kv; };
  const double attention_forward =
      encoder_layers * attention(t, t) + decoder_layers * (attention(u, u) + attention(u, t));
  return 3 * (matrix_forward + attention_forward);
}

}  // namespace stilts
