// Products of a few long rows, the limited-memory strategies' hot path: lambda samples against
// m direction vectors, each n long (m, lambda ~ 30, n ~ 10,000). BLAS runs these skinny shapes
// at well under its peak, and OpenBLAS picks its AVX2 kernels on CPUs whose AVX-512 is twice as
// wide. Here each result is defined operation by operation (no FMA, a fixed order), so the
// AVX-512, AVX2 and baseline clones and the Numba twin give the same doubles
// (docs/kernels.md, "Evolution strategies").
#pragma once

#include <cstddef>

namespace chimera::es {

// out (ra, rb) = A B^T for A (ra, n), B (rb, n), all row-major. Each dot product runs in eight
// lanes: lane l sums the products A[i, c] B[j, c] of the columns c = l (mod 8) in ascending
// order from 0.0, and the lanes s_0..s_7 are added as ((s0 + s4) + (s2 + s6)) +
// ((s1 + s5) + (s3 + s7)). (A NaN result's sign and payload are not defined: x86 passes on
// either operand's NaN, and the compiler may swap the operands of + and *.)
// simd caps the instruction set (2: AVX-512 where the CPU has it, 1: AVX2 at most, 0: the
// baseline), for the tests that hold the clones to one another.
void dot_rows(double* out, const double* A, const double* B, std::size_t ra, std::size_t rb,
              std::size_t n, int simd = 2);

// Y (rows, n) = a Z + C M for Z (rows, n), C (rows, k), M (k, n), all row-major: each element
// starts at a Z[i, c] and adds C[i, j] M[j, c] for j = 0, 1, ..., k - 1 in turn. Y must not
// share memory with Z, C or M.
void add_combination(double* Y, double a, const double* Z, const double* C, const double* M,
                     std::size_t rows, std::size_t k, std::size_t n, int simd = 2);

}  // namespace chimera::es
