// Multi-armed bandits (Layer 5): the online select / update loop of the stochastic and
// adversarial policies, with per-arm statistics owned here so that one call from Python does
// one decision or one reward. docs/kernels.md ("Bandits") is the contract the twins follow.
//
// Decision number k (counted over the bandit's life, batched or not) draws from
// Stream(seed, k mod 2^32, k / 2^32, kBandit): the same seed gives the same decisions whatever
// the batching, backend or thread, but for large Bernoulli Thompson batches (see kTableBatch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "chimera/beta_argmax.hpp"
#include "chimera/rng.hpp"
#include "chimera/variates.hpp"

namespace chimera::bandit {

// Decision k's stream. The samplers that draw a word or more per arm take BulkStream: the same
// words, generated four Philox blocks at a time.
template <class S = rng::Stream>
S decision_stream(std::uint64_t seed, std::uint64_t k) {
  return S(seed, static_cast<std::uint32_t>(k), static_cast<std::uint32_t>(k >> 32), rng::kBandit);
}

enum Policy : int {
  kEpsilonGreedy = 0,
  kUCB1 = 1,
  kThompsonBeta = 2,
  kThompsonGaussian = 3,
  kSoftmax = 4,
  kEXP3 = 5,
};

struct Params {
  int policy = kUCB1;
  double epsilon = 0.1;      // epsilon-greedy: explore with epsilon / (1 + decay * updates)
  double decay = 0.0;
  double c = 2.0;            // UCB1: mean + sqrt(c * ln(total pulls) / pulls)
  double alpha = 1.0;        // Beta(alpha, beta) prior of Bernoulli Thompson sampling
  double beta = 1.0;
  double sigma = 1.0;        // Gaussian Thompson sampling: reward noise sd, N(0, sigma^2) prior
  double temperature = 0.1;  // softmax over mean rewards
  double gamma = 0.1;        // EXP3: share of uniform exploration
  double discount = 1.0;     // statistics times discount before each update (1: stationary)
  std::size_t window = 0;    // only the last `window` rewards count (0: all)
  std::uint64_t seed = 0;
};

class Bandit {
 public:
  Bandit(const Params& params, std::size_t arms);

  const Params& params() const { return p_; }
  std::size_t arms() const { return n_.size(); }  // ids are stable: removed arms keep theirs
  std::size_t active_arms() const { return active_count_; }

  // One decision (an active arm id), or n decisions on the current statistics.
  std::int32_t select();
  void select_many(std::int32_t* out, std::size_t n);

  // Bernoulli Thompson batches of at least kTableBatch decisions, at most kTableArms active
  // arms, each with shapes a, b >= 1 and a + b <= kTableShapes, go by inversion (beta_argmax.hpp) on quantile rows the caller sets
  // first: for each arm of stale_rows(), set_row(arm, F^{-1}(k / 256) for k = 0..256) of the
  // Beta(posterior(arm)). A batch is cut into chunks of kTableChunk decisions; the chunk from
  // decision k draws its bytes from Stream(seed, k mod 2^32, k / 2^32, kBanditTable) and its
  // in-bucket draws from the same with kBanditResolve. select_many throws std::logic_error
  // when such a batch finds a stale row.
  // The batch size where the rows (about 0.2-0.5 ms per arm) start paying for themselves; the
  // cap on arms keeps a chunk's bucket words within one stream's 2^32 blocks; the cap on
  // shapes keeps SciPy's rows within about 2e-11 in probability.
  static constexpr std::size_t kTableBatch = 16384;
  static constexpr std::size_t kTableChunk = 65536;
  static constexpr std::size_t kTableArms = 4096;
  static constexpr double kTableShapes = 1e6;
  bool table_batch(std::size_t n) const;
  std::vector<std::int32_t> stale_rows() const;
  std::pair<double, double> posterior(std::int32_t arm) const {
    return posterior_.shapes(static_cast<std::size_t>(arm));
  }
  void set_row(std::int32_t arm, const double* q);  // q: kBetaRow quantiles, 0 to 1

  // A reward for an arm; the caller checks the arm is active and the reward finite (and in
  // [0, 1] for Bernoulli Thompson sampling and EXP3).
  void update(std::int32_t arm, double reward);

  std::int32_t add_arm();
  void remove_arm(std::int32_t arm);
  bool is_active(std::int32_t arm) const { return active_[static_cast<std::size_t>(arm)] != 0; }

  // The state, for checkpoints: per-arm pulls, reward sums and squares, EXP3 log-weights,
  // the active mask, the window's (arm, reward) history, and the two counters.
  struct State {
    std::vector<double> pulls, sums, squares, log_weights;
    std::vector<std::uint8_t> active;
    std::vector<std::int32_t> window_arms;
    std::vector<double> window_rewards;
    std::uint64_t decisions = 0, updates = 0;
  };
  State state() const;
  void set_state(const State& s);  // the caller checks the shapes

 private:
  std::int32_t decide(std::uint64_t k);
  void select_by_table(std::int32_t* out, std::size_t n);
  void refresh_posterior(std::size_t a);  // Bernoulli Thompson: arm a's Beta from n, s
  std::int32_t nth_active(std::uint32_t i) const;
  double mean(std::size_t i) const { return n_[i] > 0.0 ? sum_[i] / n_[i] : 0.0; }
  double exp3_probability(std::size_t i) const;

  Params p_;
  std::vector<double> n_, sum_, sq_, logw_;
  std::vector<std::uint8_t> active_;
  std::size_t active_count_ = 0;
  std::deque<std::pair<std::int32_t, double>> history_;  // the sliding window
  variates::BetaSampler posterior_;                      // Bernoulli Thompson: Beta per arm
  struct QuantileRow {
    double a = -1.0, b = -1.0;  // the shapes q belongs to (none yet: -1)
    std::vector<double> q;
  };
  std::vector<QuantileRow> rows_;  // Bernoulli Thompson: per arm, for batches by inversion
  std::vector<double> scores_;
  std::uint64_t decisions_ = 0, updates_ = 0;
};

// Contextual bandits with one linear model per arm (disjoint models, Li et al. 2010): arm a's
// expected reward in context x is theta_a . x, with ridge estimate theta_a = A_a^-1 b_a,
// A_a = l2 I + sum x x^T, b_a = sum r x; A_a^-1 is kept up to date by Sherman-Morrison.
// LinUCB scores theta . x + alpha sqrt(x^T A^-1 x); linear Thompson sampling draws each
// arm's theta from N(theta, v^2 A^-1), whose score theta . x is N(theta . x, v^2 x^T A^-1 x):
// one normal per arm, in id order, from decision k's stream.
//
// With a window w > 0 only the last w (arm, reward, context) updates count (sliding-window
// LinUCB, Cheung et al. 2019): the one leaving is taken out by the Sherman-Morrison downdate
// (A - x x^T)^-1 = A^-1 + (A^-1 x)(A^-1 x)^T / (1 - x^T A^-1 x), and every w updates all models
// are rebuilt from l2 I and the window, in order, so that downdates' rounding cannot pile up.
enum LinearPolicy : int { kLinUCB = 0, kLinearThompson = 1 };

class LinearBandit {
 public:
  LinearBandit(int policy, std::size_t arms, std::size_t dim, double alpha, double l2,
               std::size_t window, std::uint64_t seed);

  int policy() const { return policy_; }
  std::size_t arms() const { return active_.size(); }
  std::size_t dim() const { return d_; }
  std::size_t window() const { return window_; }
  std::size_t active_arms() const { return active_count_; }
  bool is_active(std::int32_t arm) const { return active_[static_cast<std::size_t>(arm)] != 0; }

  // Decisions for the rows of contexts (n x dim), decision numbers k, k+1, ...
  void select_many(const double* contexts, std::size_t n, std::int32_t* out);
  // The caller checks the arm, the reward and the context's finiteness.
  void update(std::int32_t arm, double reward, const double* x);
  std::int32_t add_arm();
  void remove_arm(std::int32_t arm);

  struct State {
    std::vector<double> a_inv, b;  // arms x dim x dim, arms x dim
    std::vector<std::uint8_t> active;
    // The window's updates, oldest first (empty without a window).
    std::vector<std::int32_t> window_arms;
    std::vector<double> window_rewards, window_contexts;  // n, n x dim
    std::uint64_t decisions = 0, updates = 0;
  };
  State state() const;
  void set_state(const State& s);  // the caller checks the shapes and the window's arms

 private:
  std::int32_t decide(const double* x, std::uint64_t k);
  // A_a += sign x x^T and b_a += sign r x (sign +1 or -1), theta_a not refreshed; false, with
  // nothing changed, when a downdate's 1 - x^T A^-1 x is not positive (rounding has won).
  bool rank_one(std::size_t a, double reward, const double* x, double sign);
  void refresh_theta(std::size_t a);
  void reset_arm(std::size_t a);  // the prior: A^-1 = I / l2, b = 0
  void rebuild();                 // every model from the prior and the window

  int policy_;
  std::size_t d_;
  double alpha_, l2_;
  std::size_t window_;
  std::uint64_t seed_;
  std::vector<double> a_inv_, b_, theta_;
  std::vector<std::uint8_t> active_;
  std::size_t active_count_;
  std::vector<double> scratch_;  // A^-1 x
  // The window as a ring of `window_` slots; slot (head_ + i) % window_ is the i-th oldest.
  std::vector<std::int32_t> ring_arm_;
  std::vector<double> ring_reward_, ring_x_;
  std::size_t head_ = 0, held_ = 0;
  std::uint64_t decisions_ = 0, updates_ = 0;
};

}  // namespace chimera::bandit
