/* Cart-pole balancing (Barto, Sutton and Anderson 1983; the physics and limits of the classic
 * control benchmark): the genome is a linear policy's weights, force = +10 N when
 * w . (x, x', theta, theta', 1) > 0, else -10 N. Each genome is run from four fixed starts for
 * at most 500 steps of 0.02 s (Euler); the objective is 500 minus the mean number of steps the
 * pole stayed up (|theta| < 12 degrees, |x| < 2.4 m), so 0 is a perfect controller.
 *
 * chimera_act(obs, action) is the per-step entry for a host that runs the physics itself. */
#include <math.h>

#include "chimera_agent.h"

#define STEPS 500
static const double kGravity = 9.8, kCartMass = 1.0, kPoleMass = 0.1, kHalfLength = 0.5;
static const double kForce = 10.0, kTau = 0.02, kThetaLimit = 0.20943951023931953, kXLimit = 2.4;
static const double kStarts[4][4] = {
    {0.0, 0.0, 0.02, 0.0}, {0.5, 0.0, -0.05, 0.1}, {-0.8, 0.2, 0.04, -0.2}, {0.2, -0.3, -0.1, 0.0}};

static int32_t agent_objectives(void) { return 1; }
static int32_t agent_dim(void) { return 5; }

static double push(const double* w, const double* s) {
  const double v = w[0] * s[0] + w[1] * s[1] + w[2] * s[2] + w[3] * s[3] + w[4];
  return v > 0.0 ? kForce : -kForce;
}

/* One Euler step; the pole's angle theta is measured from upright. */
static void step(double* s, double force) {
  const double x_dot = s[1], theta = s[2], theta_dot = s[3];
  const double sin_t = sin(theta), cos_t = cos(theta);
  const double total = kCartMass + kPoleMass, pml = kPoleMass * kHalfLength;
  const double temp = (force + pml * theta_dot * theta_dot * sin_t) / total;
  const double theta_acc = (kGravity * sin_t - cos_t * temp) /
                           (kHalfLength * (4.0 / 3.0 - kPoleMass * cos_t * cos_t / total));
  const double x_acc = temp - pml * theta_acc * cos_t / total;
  s[0] += kTau * x_dot;
  s[1] += kTau * x_acc;
  s[2] += kTau * theta_dot;
  s[3] += kTau * theta_acc;
}

static void agent_evaluate_one(const double* w, int32_t dim, double* out) {
  (void)dim;
  double total = 0.0;
  for (int k = 0; k < 4; ++k) {
    double s[4] = {kStarts[k][0], kStarts[k][1], kStarts[k][2], kStarts[k][3]};
    int t = 0;
    while (t < STEPS && s[2] > -kThetaLimit && s[2] < kThetaLimit && s[0] > -kXLimit && s[0] < kXLimit) {
      step(s, push(w, s));
      ++t;
    }
    total += t;
  }
  out[0] = STEPS - total / 4.0;
}

/* Controller entry: obs = 4 doubles of state and 5 of weights at obs, the force written to
 * action[0]. */
CHIMERA_EXPORT("chimera_act") int32_t chimera_act(int32_t obs, int32_t action) {
  const double* o = (const double*)(uintptr_t)obs;
  ((double*)(uintptr_t)action)[0] = push(o + 4, o);
  return CHIMERA_OK;
}
