// The scalar arguments of breed(), checked and packed the same way for chimera._core and
// chimera._cuda; the caller points mutation_cdf at its table (host or device memory).
#pragma once

#include <cstddef>
#include <cstdint>

#include "arrays.hpp"
#include "chimera/operators.hpp"

namespace chimera::bind {

inline ga::BreedConfig breed_config(std::uint64_t seed, std::uint32_t generation, int selection,
                                    std::int64_t selection_size, int crossover,
                                    std::uint64_t crossover_threshold, double crossover_param,
                                    int mutation, std::uint64_t mutation_threshold,
                                    double mutation_param, std::size_t cdf_len, int bounds,
                                    py::ssize_t n) {
  require(cdf_len <= ga::kMaxMutationTable, "mutation_cdf has more than 64 entries");
  require(selection >= ga::kTournament && selection <= ga::kStochasticUniversal, "unknown selection code");
  require(crossover >= ga::kNoCrossover && crossover <= ga::kSBX, "unknown crossover code");
  require(mutation >= ga::kNoMutation && mutation <= ga::kRandomReset, "unknown mutation code");
  require(bounds == ga::kClip || bounds == ga::kReflect, "unknown bounds code");
  if (selection == ga::kTournament) require(selection_size >= 1, "tournament size must be at least 1");
  if (selection == ga::kTruncation) {
    require(selection_size >= 1 && selection_size <= n, "truncation must keep between 1 and n rows");
  }
  ga::BreedConfig cfg;
  cfg.seed = seed;
  cfg.generation = generation;
  cfg.selection = selection;
  cfg.selection_size = selection_size;
  cfg.crossover = crossover;
  cfg.crossover_threshold = crossover_threshold;
  cfg.crossover_param = crossover_param;
  cfg.mutation = mutation;
  cfg.mutation_threshold = mutation_threshold;
  cfg.mutation_param = mutation_param;
  cfg.mutation_cdf_len = cdf_len;
  cfg.bounds = bounds;
  return cfg;
}

}  // namespace chimera::bind
