/* Rastrigin's function, f(x) = 10 d + sum (x_i^2 - 10 cos(2 pi x_i)), minimum 0 at x = 0: the
 * benchmark agent for comparing sandboxed and native evaluation speed. */
#include <math.h>

#include "chimera_agent.h"

static int32_t agent_objectives(void) { return 1; }
static int32_t agent_dim(void) { return 0; }

static void agent_evaluate_one(const double* x, int32_t dim, double* out) {
  const double two_pi = 6.283185307179586;
  double f = 10.0 * dim;
  for (int32_t i = 0; i < dim; ++i) f += x[i] * x[i] - 10.0 * cos(two_pi * x[i]);
  out[0] = f;
}
