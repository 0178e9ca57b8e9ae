;; SIMD kernels of computeStats (src/trace/stats.ts) for float32 tensors: the two passes of the JS
;; hot path, four lanes at a time, with the same float64 accumulation order (lane k of the sums and
;; squares = the JS path's accumulator k), so both paths give bit-identical statistics.
;; Assembled by scripts/build-wasm.mjs into stats-wasm.gen.ts (checked by src/trace/stats.test.ts), once
;; as is and once with the memory import declared shared (a threaded TF.js wasm heap).
;;
;; The memory is imported: either the kernel's own (stats-simd.ts: results at 0, histograms at 1024, the
;; values copied to 65536), or another module's heap, such as TF.js's wasm backend, where the values
;; already lie: then nothing is copied. Every pass takes the address of its values ($p), of 112
;; bytes for its results and scratch ($out) and of the four interleaved sub-histograms ($hist, 16·bins bytes of i32).
(module
  (import "env" "memory" (memory 1))

  ;; Pass 1 over the n4 values at $p (n4 a multiple of 4): lane-wise min, max (f32), sums (f64: lanes
  ;; 0,1 at $out+32; lanes 2,3 at $out+48) and zero counts (i32 at $out+64). min at $out, max at $out+16.
  (func (export "pass1") (param $p i32) (param $n4 i32) (param $out i32)
    (local $end i32) (local $v v128)
    (local $mn v128) (local $mx v128) (local $s01 v128) (local $s23 v128) (local $z v128)
    (local.set $mn (f32x4.splat (f32.const inf)))
    (local.set $mx (f32x4.splat (f32.const -inf)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n4) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $mn (f32x4.pmin (local.get $mn) (local.get $v)))
        (local.set $mx (f32x4.pmax (local.get $mx) (local.get $v)))
        (local.set $s01 (f64x2.add (local.get $s01) (f64x2.promote_low_f32x4 (local.get $v))))
        (local.set $s23 (f64x2.add (local.get $s23)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
        (local.set $z (i32x4.sub (local.get $z) (f32x4.eq (local.get $v) (f32x4.splat (f32.const 0)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next)))
    (v128.store offset=0 (local.get $out) (local.get $mn))
    (v128.store offset=16 (local.get $out) (local.get $mx))
    (v128.store offset=32 (local.get $out) (local.get $s01))
    (v128.store offset=48 (local.get $out) (local.get $s23))
    (v128.store offset=64 (local.get $out) (local.get $z)))

  ;; Pass 2 over the n4 values at $p: deviation sums (f64 lanes 0,1 at $out; 2,3 at $out+16), squared
  ;; deviation sums (at $out+32 and $out+48), and the histogram: bin = trunc((x − min)·k), at most
  ;; $last, counted into sub-histogram (index mod 4) at $hist + 16·bin + 4·lane (zeroed by the caller).
  (func (export "pass2") (param $p i32) (param $n4 i32) (param $mean f64) (param $min f64) (param $k f64) (param $last i32)
    (param $out i32) (param $hist i32)
    (local $end i32) (local $v v128) (local $lo v128) (local $hi v128) (local $dlo v128) (local $dhi v128)
    (local $ds01 v128) (local $ds23 v128) (local $q01 v128) (local $q23 v128) (local $b v128) (local $a i32)
    (local $meanv v128) (local $minv v128) (local $kv v128) (local $lastv v128) (local $lane v128) (local $magic v128)
    (local.set $meanv (f64x2.splat (local.get $mean)))
    (local.set $minv (f64x2.splat (local.get $min)))
    (local.set $kv (f64x2.splat (local.get $k)))
    (local.set $lastv (i32x4.splat (local.get $last)))
    (local.set $magic (f64x2.splat (f64.const 0x1p52)))
    (local.set $lane (i32x4.add (i32x4.splat (local.get $hist)) (v128.const i32x4 0 4 8 12)))
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n4) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))))
        (local.set $dlo (f64x2.sub (local.get $lo) (local.get $meanv)))
        (local.set $dhi (f64x2.sub (local.get $hi) (local.get $meanv)))
        (local.set $ds01 (f64x2.add (local.get $ds01) (local.get $dlo)))
        (local.set $ds23 (f64x2.add (local.get $ds23) (local.get $dhi)))
        (local.set $q01 (f64x2.add (local.get $q01) (f64x2.mul (local.get $dlo) (local.get $dlo))))
        (local.set $q23 (f64x2.add (local.get $q23) (f64x2.mul (local.get $dhi) (local.get $dhi))))
        ;; Bins of the four lanes: (x − min)·k lies in [0, bins·(1 + 2^-52)], so floor(y) + 2^52 holds
        ;; floor(y) exactly in its low 32 bits (cheaper than a saturating truncation, the same integers).
        (local.set $b (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
          (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $lo) (local.get $minv)) (local.get $kv))) (local.get $magic))
          (f64x2.add (f64x2.floor (f64x2.mul (f64x2.sub (local.get $hi) (local.get $minv)) (local.get $kv))) (local.get $magic))))
        (local.set $b (i32x4.add (i32x4.shl (i32x4.min_s (local.get $b) (local.get $lastv)) (i32.const 4)) (local.get $lane)))
        ;; The four counters' addresses through memory: one vector store and four loads cost less than
        ;; four lane extractions. $out + 96 is scratch until the results are stored below.
        (v128.store offset=96 (local.get $out) (local.get $b))
        (local.set $a (i32.load offset=96 (local.get $out)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load offset=100 (local.get $out)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load offset=104 (local.get $out)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.load offset=108 (local.get $out)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next)))
    (v128.store offset=0 (local.get $out) (local.get $ds01))
    (v128.store offset=16 (local.get $out) (local.get $ds23))
    (v128.store offset=32 (local.get $out) (local.get $q01))
    (v128.store offset=48 (local.get $out) (local.get $q23)))
)
