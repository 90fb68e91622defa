"""A WebAssembly agent whose individuals misbehave on purpose, one way each (the genome's first
gene picks which), and the limits the tests run it under."""

from __future__ import annotations

from chimera.execution import Limits

# Genome (kind, x): kind 0 scores x; the others misbehave in their own way.
NORMAL, LOOP, MEMORY_BOMB, RECURSION, OUT_OF_BOUNDS, UNREACHABLE, NAN, LOG = range(8)
HOSTILE = """
(module
  (import "chimera" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wasm")
  (func (export "chimera_abi_version") (result i32) (i32.const 1))
  (func (export "chimera_dim") (result i32) (i32.const 2))
  (func (export "chimera_buffer") (param $bytes i32) (result i32)
    (local $need i32) (local $have i32)
    (local.set $need (i32.add (i32.const 65536) (local.get $bytes)))
    (local.set $have (i32.mul (memory.size) (i32.const 65536)))
    (if (i32.gt_u (local.get $need) (local.get $have)) (then
      (if (i32.eq (memory.grow (i32.div_u (i32.add (i32.sub (local.get $need) (local.get $have))
                                                   (i32.const 65535)) (i32.const 65536)))
                  (i32.const -1))
        (then (return (i32.const 0))))))
    (i32.const 65536))
  (func $recurse (param i32) (result i32) (call $recurse (i32.add (local.get 0) (i32.const 1))))
  (func (export "chimera_evaluate") (param $g i32) (param $n i32) (param $dim i32) (param $out i32)
    (result i32)
    (local $i i32) (local $kind i32) (local $x f64) (local $at i32)
    (if (i32.ne (local.get $dim) (i32.const 2)) (then (return (i32.const -1))))
    (block $done (loop $next
      (br_if $done (i32.ge_s (local.get $i) (local.get $n)))
      (local.set $at (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 4))))
      (local.set $kind (i32.trunc_f64_s (f64.load (local.get $at))))
      (local.set $x (f64.load offset=8 (local.get $at)))
      (if (i32.eq (local.get $kind) (i32.const 1)) (then (loop $forever (br $forever))))
      (if (i32.eq (local.get $kind) (i32.const 2)) (then
        (block $full (loop $grow
          (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1))) (br $grow)))
        (i64.store (i32.const -8) (i64.const 0))))
      (if (i32.eq (local.get $kind) (i32.const 3)) (then (drop (call $recurse (i32.const 0)))))
      (if (i32.eq (local.get $kind) (i32.const 4))
        (then (i64.store (i32.const 0x7ffffff0) (i64.const 1))))
      (if (i32.eq (local.get $kind) (i32.const 5)) (then unreachable))
      (if (i32.eq (local.get $kind) (i32.const 6))
        (then (local.set $x (f64.div (f64.const 0) (f64.const 0)))))
      (if (i32.eq (local.get $kind) (i32.const 7)) (then (call $log (i32.const 16) (i32.const 15))))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))) (local.get $x))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.const 0)))
"""
LIMITS = Limits(fuel=2_000_000, timeout=2.0, memory=4 << 20, stack=256 << 10, worst_fitness=1e9)
