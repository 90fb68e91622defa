#include "chimera/bandit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <tuple>

namespace chimera::bandit {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

Bandit::Bandit(const Params& params, std::size_t arms)
    : p_(params),
      n_(arms, 0.0),
      sum_(arms, 0.0),
      sq_(arms, 0.0),
      logw_(arms, 0.0),
      active_(arms, 1),
      active_count_(arms),
      scores_(arms, 0.0) {
  if (p_.policy == kThompsonBeta) {
    posterior_.resize(arms);
    rows_.resize(arms);
    for (std::size_t a = 0; a < arms; ++a) refresh_posterior(a);
  }
}

void Bandit::refresh_posterior(std::size_t a) {
  if (p_.policy == kThompsonBeta) {
    // max(s, 0): a window's removals can leave a sum of zeros at -1e-16.
    posterior_.set(a, p_.alpha + std::max(sum_[a], 0.0), p_.beta + std::max(n_[a] - sum_[a], 0.0));
  }
}

std::int32_t Bandit::nth_active(std::uint32_t i) const {
  for (std::size_t a = 0; a < active_.size(); ++a) {
    if (active_[a] && i-- == 0) return static_cast<std::int32_t>(a);
  }
  return -1;
}

double Bandit::exp3_probability(std::size_t i) const {
  double top = -kInf;
  for (std::size_t a = 0; a < logw_.size(); ++a) {
    if (active_[a]) top = std::max(top, logw_[a]);
  }
  double total = 0.0;
  for (std::size_t a = 0; a < logw_.size(); ++a) {
    if (active_[a]) total += std::exp(logw_[a] - top);
  }
  const auto k = static_cast<double>(active_count_);
  return (1.0 - p_.gamma) * std::exp(logw_[i] - top) / total + p_.gamma / k;
}

// Decision k on the current statistics; -1 when no arm is active.
std::int32_t Bandit::decide(std::uint64_t k) {
  if (active_count_ == 0) return -1;
  const std::size_t arms = n_.size();
  std::int32_t best = -1;
  double best_score = -kInf;
  auto consider = [&](std::size_t a, double score) {
    if (best < 0 || score > best_score) {
      best = static_cast<std::int32_t>(a);
      best_score = score;
    }
  };
  switch (p_.policy) {
    case kEpsilonGreedy: {
      rng::Stream st = decision_stream(p_.seed, k);
      const double eps = p_.epsilon / (1.0 + p_.decay * static_cast<double>(updates_));
      if (st.uniform() < eps) return nth_active(st.below(static_cast<std::uint32_t>(active_count_)));
      for (std::size_t a = 0; a < arms; ++a) {
        if (active_[a]) consider(a, mean(a));
      }
      return best;
    }
    case kUCB1: {
      double total = 0.0;
      for (std::size_t a = 0; a < arms; ++a) {
        if (!active_[a]) continue;
        if (n_[a] <= 0.0) return static_cast<std::int32_t>(a);  // every arm once first
        total += n_[a];
      }
      const double log_total = std::log(total);
      for (std::size_t a = 0; a < arms; ++a) {
        if (active_[a]) consider(a, mean(a) + std::sqrt(p_.c * log_total / n_[a]));
      }
      return best;
    }
    case kThompsonBeta: {
      auto st = decision_stream<rng::BulkStream>(p_.seed, k);
      posterior_.sample(st, active_.data(), scores_.data());
      for (std::size_t a = 0; a < arms; ++a) {
        if (active_[a]) consider(a, scores_[a]);
      }
      return best;
    }
    case kThompsonGaussian: {
      auto st = decision_stream<rng::BulkStream>(p_.seed, k);
      for (std::size_t a = 0; a < arms; ++a) {
        if (!active_[a]) continue;
        // Posterior of the mean under a N(0, sigma^2) prior and N(mean, sigma^2) rewards.
        const double precision = n_[a] + 1.0;
        consider(a, sum_[a] / precision + p_.sigma / std::sqrt(precision) * variates::normal(st));
      }
      return best;
    }
    case kSoftmax: {
      rng::Stream st = decision_stream(p_.seed, k);
      double top = -kInf;
      for (std::size_t a = 0; a < arms; ++a) {
        if (active_[a]) top = std::max(top, mean(a));
      }
      double total = 0.0;
      for (std::size_t a = 0; a < arms; ++a) {
        if (active_[a]) total += std::exp((mean(a) - top) / p_.temperature);
      }
      double u = st.uniform() * total;
      for (std::size_t a = 0; a < arms; ++a) {
        if (!active_[a]) continue;
        best = static_cast<std::int32_t>(a);  // the last active arm absorbs rounding
        u -= std::exp((mean(a) - top) / p_.temperature);
        if (u < 0.0) break;
      }
      return best;
    }
    case kEXP3: {
      rng::Stream st = decision_stream(p_.seed, k);
      double u = st.uniform();
      for (std::size_t a = 0; a < arms; ++a) {
        if (!active_[a]) continue;
        best = static_cast<std::int32_t>(a);
        u -= exp3_probability(a);
        if (u < 0.0) break;
      }
      return best;
    }
    default:
      return -1;
  }
}

std::int32_t Bandit::select() { return decide(decisions_++); }

bool Bandit::table_batch(std::size_t n) const {
  if (p_.policy != kThompsonBeta || n < kTableBatch || active_count_ > kTableArms) return false;
  for (std::size_t a = 0; a < active_.size(); ++a) {
    if (!active_[a]) continue;
    const auto [alpha, beta] = posterior_.shapes(a);
    if (!(alpha >= 1.0 && beta >= 1.0 && alpha + beta <= kTableShapes)) return false;
  }
  return true;
}

std::vector<std::int32_t> Bandit::stale_rows() const {
  std::vector<std::int32_t> stale;
  for (std::size_t a = 0; a < active_.size(); ++a) {
    const auto [alpha, beta] = posterior_.shapes(a);
    if (active_[a] && (rows_[a].a != alpha || rows_[a].b != beta)) {
      stale.push_back(static_cast<std::int32_t>(a));
    }
  }
  return stale;
}

void Bandit::set_row(std::int32_t arm, const double* q) {
  auto& row = rows_[static_cast<std::size_t>(arm)];
  std::tie(row.a, row.b) = posterior(arm);
  row.q.assign(q, q + variates::kBetaRow);
}

void Bandit::select_by_table(std::int32_t* out, std::size_t n) {
  std::vector<std::int32_t> ids;
  std::vector<double> a, b, rows;
  for (std::size_t arm = 0; arm < active_.size(); ++arm) {
    if (!active_[arm]) continue;
    ids.push_back(static_cast<std::int32_t>(arm));
    a.push_back(rows_[arm].a);
    b.push_back(rows_[arm].b);
    rows.insert(rows.end(), rows_[arm].q.begin(), rows_[arm].q.end());
  }
  variates::BetaArgmax argmax(std::move(ids), std::move(a), std::move(b), std::move(rows));
  for (std::size_t start = 0; start < n; start += kTableChunk) {
    const std::uint64_t k = decisions_ + start;
    const auto lo = static_cast<std::uint32_t>(k), hi = static_cast<std::uint32_t>(k >> 32);
    rng::BulkStream buckets(p_.seed, lo, hi, rng::kBanditTable);
    rng::Stream resolve(p_.seed, lo, hi, rng::kBanditResolve);
    argmax.decide(buckets, resolve, out + start, std::min(kTableChunk, n - start));
  }
}

void Bandit::select_many(std::int32_t* out, std::size_t n) {
  if (table_batch(n)) {
    if (!stale_rows().empty()) {
      throw std::logic_error("a Thompson batch by inversion needs fresh quantile rows");
    }
    bool usable = true;
    for (std::size_t a = 0; a < active_.size(); ++a) {
      usable = usable && (!active_[a] || variates::usable_row(rows_[a].q.data()));
    }
    if (usable) {
      select_by_table(out, n);
      decisions_ += n;
      return;
    }
  }
  for (std::size_t i = 0; i < n; ++i) out[i] = decide(decisions_ + i);
  decisions_ += n;
}

void Bandit::update(std::int32_t arm, double reward) {
  const auto a = static_cast<std::size_t>(arm);
  if (p_.policy == kEXP3) {
    // Importance-weighted reward of the arm played, at the probability it had.
    const double p = exp3_probability(a);
    logw_[a] += p_.gamma * (reward / p) / static_cast<double>(active_count_);
  }
  if (p_.discount < 1.0) {
    for (std::size_t i = 0; i < n_.size(); ++i) {
      n_[i] *= p_.discount;
      sum_[i] *= p_.discount;
      sq_[i] *= p_.discount;
      refresh_posterior(i);
    }
  }
  if (p_.window > 0 && history_.size() == p_.window) {
    const auto [old_arm, old_reward] = history_.front();
    history_.pop_front();
    const auto o = static_cast<std::size_t>(old_arm);
    n_[o] -= 1.0;
    sum_[o] -= old_reward;
    sq_[o] -= old_reward * old_reward;
    refresh_posterior(o);
  }
  if (p_.window > 0) history_.emplace_back(arm, reward);
  n_[a] += 1.0;
  sum_[a] += reward;
  sq_[a] += reward * reward;
  refresh_posterior(a);
  ++updates_;
}

std::int32_t Bandit::add_arm() {
  n_.push_back(0.0);
  sum_.push_back(0.0);
  sq_.push_back(0.0);
  // A new EXP3 arm starts at the mean log-weight of the others, neither favoured nor starved.
  double mean_logw = 0.0;
  if (active_count_ > 0) {
    for (std::size_t a = 0; a < active_.size(); ++a) {
      if (active_[a]) mean_logw += logw_[a];
    }
    mean_logw /= static_cast<double>(active_count_);
  }
  logw_.push_back(mean_logw);
  active_.push_back(1);
  scores_.push_back(0.0);
  ++active_count_;
  if (p_.policy == kThompsonBeta) {
    posterior_.resize(n_.size());
    rows_.resize(n_.size());
    refresh_posterior(n_.size() - 1);
  }
  return static_cast<std::int32_t>(n_.size() - 1);
}

void Bandit::remove_arm(std::int32_t arm) {
  auto& flag = active_[static_cast<std::size_t>(arm)];
  if (flag) {
    flag = 0;
    --active_count_;
  }
}

Bandit::State Bandit::state() const {
  State s{n_, sum_, sq_, logw_, active_, {}, {}, decisions_, updates_};
  for (const auto& [arm, reward] : history_) {
    s.window_arms.push_back(arm);
    s.window_rewards.push_back(reward);
  }
  return s;
}

void Bandit::set_state(const State& s) {
  n_ = s.pulls;
  sum_ = s.sums;
  sq_ = s.squares;
  logw_ = s.log_weights;
  active_ = s.active;
  active_count_ = static_cast<std::size_t>(std::count(active_.begin(), active_.end(), 1));
  scores_.assign(active_.size(), 0.0);
  if (p_.policy == kThompsonBeta) {
    posterior_.resize(n_.size());
    rows_.resize(n_.size());
    for (std::size_t a = 0; a < n_.size(); ++a) refresh_posterior(a);
  }
  history_.clear();
  for (std::size_t i = 0; i < s.window_arms.size(); ++i) {
    history_.emplace_back(s.window_arms[i], s.window_rewards[i]);
  }
  decisions_ = s.decisions;
  updates_ = s.updates;
}

}  // namespace chimera::bandit

namespace chimera::bandit {

LinearBandit::LinearBandit(int policy, std::size_t arms, std::size_t dim, double alpha,
                           double l2, std::size_t window, std::uint64_t seed)
    : policy_(policy),
      d_(dim),
      alpha_(alpha),
      l2_(l2),
      window_(window),
      seed_(seed),
      a_inv_(arms * dim * dim, 0.0),
      b_(arms * dim, 0.0),
      theta_(arms * dim, 0.0),
      active_(arms, 1),
      active_count_(arms),
      scratch_(dim, 0.0),
      ring_arm_(window, 0),
      ring_reward_(window, 0.0),
      ring_x_(window * dim, 0.0) {
  for (std::size_t a = 0; a < arms; ++a) reset_arm(a);
}

void LinearBandit::reset_arm(std::size_t a) {
  double* M = a_inv_.data() + a * d_ * d_;
  std::fill(M, M + d_ * d_, 0.0);
  for (std::size_t i = 0; i < d_; ++i) M[i * d_ + i] = 1.0 / l2_;
  std::fill(b_.begin() + a * d_, b_.begin() + (a + 1) * d_, 0.0);
}

std::int32_t LinearBandit::decide(const double* x, std::uint64_t k) {
  if (active_count_ == 0) return -1;
  auto st = decision_stream<rng::BulkStream>(seed_, k);
  std::int32_t best = -1;
  double best_score = -kInf;
  for (std::size_t a = 0; a < active_.size(); ++a) {
    if (!active_[a]) continue;
    const double* M = a_inv_.data() + a * d_ * d_;
    const double* th = theta_.data() + a * d_;
    double mean = 0.0, var = 0.0;
    for (std::size_t i = 0; i < d_; ++i) {
      mean += th[i] * x[i];
      double row = 0.0;
      for (std::size_t j = 0; j < d_; ++j) row += M[i * d_ + j] * x[j];
      var += x[i] * row;
    }
    const double width = std::sqrt(std::max(var, 0.0));
    const double score =
        policy_ == kLinUCB ? mean + alpha_ * width : mean + alpha_ * width * variates::normal(st);
    if (best < 0 || score > best_score) {
      best = static_cast<std::int32_t>(a);
      best_score = score;
    }
  }
  return best;
}

void LinearBandit::select_many(const double* contexts, std::size_t n, std::int32_t* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = decide(contexts + i * d_, decisions_ + i);
  decisions_ += n;
}

bool LinearBandit::rank_one(std::size_t a, double reward, const double* x, double sign) {
  double* M = a_inv_.data() + a * d_ * d_;
  double* b = b_.data() + a * d_;
  // Sherman-Morrison: (A + s x x^T)^-1 = A^-1 - s (A^-1 x)(A^-1 x)^T / (1 + s x^T A^-1 x).
  double denom = 1.0;
  for (std::size_t i = 0; i < d_; ++i) {
    double row = 0.0;
    for (std::size_t j = 0; j < d_; ++j) row += M[i * d_ + j] * x[j];
    scratch_[i] = row;
    denom += sign * (x[i] * row);
  }
  if (!(denom > 0.0)) return false;
  for (std::size_t i = 0; i < d_; ++i) {
    for (std::size_t j = 0; j < d_; ++j) M[i * d_ + j] -= sign * scratch_[i] * scratch_[j] / denom;
  }
  for (std::size_t i = 0; i < d_; ++i) b[i] += sign * reward * x[i];
  return true;
}

void LinearBandit::refresh_theta(std::size_t a) {
  const double* M = a_inv_.data() + a * d_ * d_;
  const double* b = b_.data() + a * d_;
  double* th = theta_.data() + a * d_;
  for (std::size_t i = 0; i < d_; ++i) {
    double v = 0.0;
    for (std::size_t j = 0; j < d_; ++j) v += M[i * d_ + j] * b[j];
    th[i] = v;
  }
}

void LinearBandit::rebuild() {
  for (std::size_t a = 0; a < active_.size(); ++a) reset_arm(a);
  for (std::size_t i = 0; i < held_; ++i) {
    const std::size_t slot = (head_ + i) % window_;
    rank_one(static_cast<std::size_t>(ring_arm_[slot]), ring_reward_[slot],
             ring_x_.data() + slot * d_, 1.0);
  }
  for (std::size_t a = 0; a < active_.size(); ++a) refresh_theta(a);
}

void LinearBandit::update(std::int32_t arm, double reward, const double* x) {
  const auto a = static_cast<std::size_t>(arm);
  if (window_ > 0) {
    if (held_ == window_) {  // the oldest leaves: its slot takes the newest
      const std::size_t slot = head_, old = static_cast<std::size_t>(ring_arm_[slot]);
      head_ = (head_ + 1) % window_;
      --held_;
      if (rank_one(old, ring_reward_[slot], ring_x_.data() + slot * d_, -1.0)) {
        refresh_theta(old);
      } else {
        rebuild();
      }
    }
    const std::size_t slot = (head_ + held_) % window_;
    ring_arm_[slot] = arm;
    ring_reward_[slot] = reward;
    std::copy(x, x + d_, ring_x_.data() + slot * d_);
    ++held_;
  }
  rank_one(a, reward, x, 1.0);
  refresh_theta(a);
  ++updates_;
  if (window_ > 0 && updates_ % window_ == 0) rebuild();
}

std::int32_t LinearBandit::add_arm() {
  const std::size_t a = active_.size();
  a_inv_.resize((a + 1) * d_ * d_, 0.0);
  b_.resize((a + 1) * d_, 0.0);
  reset_arm(a);
  theta_.resize((a + 1) * d_, 0.0);
  active_.push_back(1);
  ++active_count_;
  return static_cast<std::int32_t>(a);
}

void LinearBandit::remove_arm(std::int32_t arm) {
  auto& flag = active_[static_cast<std::size_t>(arm)];
  if (flag) {
    flag = 0;
    --active_count_;
  }
}

LinearBandit::State LinearBandit::state() const {
  State s{a_inv_, b_, active_, {}, {}, {}, decisions_, updates_};
  for (std::size_t i = 0; i < held_; ++i) {
    const std::size_t slot = (head_ + i) % window_;
    s.window_arms.push_back(ring_arm_[slot]);
    s.window_rewards.push_back(ring_reward_[slot]);
    s.window_contexts.insert(s.window_contexts.end(), ring_x_.begin() + slot * d_,
                             ring_x_.begin() + (slot + 1) * d_);
  }
  return s;
}

void LinearBandit::set_state(const State& s) {
  a_inv_ = s.a_inv;
  b_ = s.b;
  active_ = s.active;
  active_count_ = static_cast<std::size_t>(std::count(active_.begin(), active_.end(), 1));
  theta_.assign(b_.size(), 0.0);
  for (std::size_t a = 0; a < active_.size(); ++a) refresh_theta(a);
  head_ = 0;
  held_ = s.window_arms.size();
  for (std::size_t i = 0; i < held_; ++i) {
    ring_arm_[i] = s.window_arms[i];
    ring_reward_[i] = s.window_rewards[i];
    std::copy(s.window_contexts.begin() + i * d_, s.window_contexts.begin() + (i + 1) * d_,
              ring_x_.begin() + i * d_);
  }
  decisions_ = s.decisions;
  updates_ = s.updates;
}

}  // namespace chimera::bandit
