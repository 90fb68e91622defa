/* Double-pole balancing (Wieland 1991, with the masses, lengths and friction of the
 * neuroevolution benchmark): two poles of 1 m and 0.1 m hinged on one cart, both to be kept
 * upright by pushing the cart. The genome is a linear policy's 7 weights: the force is
 * 10 N * tanh(w . s + w6) for the state s = (x, x', theta1, theta1', theta2, theta2').
 *
 * Each genome is run from four fixed starts for at most 1000 steps of 0.01 s (fourth-order
 * Runge-Kutta); a start ends when a pole leans past 36 degrees or the cart leaves its 4.8 m
 * track. The objective is a cost, lower is better, so that evolution keeps finding better
 * policies after the first that balances: every step after a fall costs 1, and every step
 * balanced costs how far the cart is from the centre and the poles from upright (the mean of
 * the three squared fractions of their limits, below 1). The objective is the mean over the
 * starts, from 0 (never moving from the centre, never possible) to 1000 (falling at once). */
#include <math.h>

#include "chimera_agent.h"

#define STEPS 1000
static const double kGravity = -9.8, kCartMass = 1.0, kCartFriction = 5e-4, kPoleFriction = 2e-6;
static const double kMass[2] = {0.1, 0.01}, kHalfLength[2] = {0.5, 0.05};
static const double kForce = 10.0, kTau = 0.01, kThetaLimit = 0.6283185307179586, kXLimit = 2.4;
static const double kStarts[4][6] = {{0.0, 0.0, 0.07854, 0.0, 0.0, 0.0},
                                     {0.5, 0.0, -0.05, 0.1, 0.02, 0.0},
                                     {-0.8, 0.2, 0.04, -0.2, -0.03, 0.1},
                                     {0.2, -0.3, -0.1, 0.0, 0.05, 0.0}};

static int32_t agent_objectives(void) { return 1; }
static int32_t agent_dim(void) { return 7; }

static double push(const double* w, const double* s) {
  double v = w[6];
  for (int i = 0; i < 6; ++i) v += w[i] * s[i];
  return kForce * tanh(v);
}

/* ds/dt at s under force f. */
static void derivative(const double* s, double f, double* ds) {
  double pull = 0.0, mass = kCartMass, sin_t[2], cos_t[2];
  for (int i = 0; i < 2; ++i) {
    const double theta = s[2 + 2 * i], theta_dot = s[3 + 2 * i], ml = kMass[i] * kHalfLength[i];
    sin_t[i] = sin(theta);
    cos_t[i] = cos(theta);
    pull += ml * theta_dot * theta_dot * sin_t[i] +
            0.75 * kMass[i] * cos_t[i] * (kPoleFriction * theta_dot / ml + kGravity * sin_t[i]);
    mass += kMass[i] * (1.0 - 0.75 * cos_t[i] * cos_t[i]);
  }
  const double friction = s[1] > 0.0 ? kCartFriction : (s[1] < 0.0 ? -kCartFriction : 0.0);
  const double x_acc = (f - friction + pull) / mass;
  ds[0] = s[1];
  ds[1] = x_acc;
  for (int i = 0; i < 2; ++i) {
    const double theta_dot = s[3 + 2 * i], ml = kMass[i] * kHalfLength[i];
    ds[2 + 2 * i] = theta_dot;
    ds[3 + 2 * i] = -0.75 * (x_acc * cos_t[i] + kGravity * sin_t[i] + kPoleFriction * theta_dot / ml) /
                    kHalfLength[i];
  }
}

static void step(double* s, double f) {
  double k1[6], k2[6], k3[6], k4[6], t[6];
  derivative(s, f, k1);
  for (int j = 0; j < 6; ++j) t[j] = s[j] + 0.5 * kTau * k1[j];
  derivative(t, f, k2);
  for (int j = 0; j < 6; ++j) t[j] = s[j] + 0.5 * kTau * k2[j];
  derivative(t, f, k3);
  for (int j = 0; j < 6; ++j) t[j] = s[j] + kTau * k3[j];
  derivative(t, f, k4);
  for (int j = 0; j < 6; ++j) s[j] += kTau / 6.0 * (k1[j] + 2.0 * k2[j] + 2.0 * k3[j] + k4[j]);
}

static int upright(const double* s) {
  return fabs(s[0]) < kXLimit && fabs(s[2]) < kThetaLimit && fabs(s[4]) < kThetaLimit;
}

static void agent_evaluate_one(const double* w, int32_t dim, double* out) {
  (void)dim;
  double cost = 0.0;
  for (int k = 0; k < 4; ++k) {
    double s[6];
    for (int j = 0; j < 6; ++j) s[j] = kStarts[k][j];
    int t = 0;
    for (; t < STEPS && upright(s); ++t) {
      step(s, push(w, s));
      const double x = s[0] / kXLimit, a = s[2] / kThetaLimit, b = s[4] / kThetaLimit;
      cost += (x * x + a * a + b * b) / 3.0;
    }
    cost += STEPS - t;
  }
  out[0] = cost / 4.0;
}
