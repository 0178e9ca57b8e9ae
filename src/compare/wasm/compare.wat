;; SIMD kernel of tensorMetrics (src/compare/metrics.ts) for float32 pairs: the fused metrics pass.
;; The float64 sums keep two lanes (lane k takes the pairs i ≡ k mod 2, in index order), as the JS lane
;; pass (metrics.ts lanePass) does, so both paths give bit-identical sums; the extrema and the first
;; argmax are exact whatever the order, so they take whatever layout is cheapest here.
;; Assembled by scripts/build-wasm.mjs into compare-wasm.gen.ts (checked by src/compare/metrics.test.ts).
;;
;; Memory: [0, 176) the state, read and written back by every call so a tensor is fed in chunks:
;; f64x2 Σd² at 0, Σ|d| at 16, Σab at 32, Σa² at 48, Σb² at 64; at 80 lane l's max |d| over the pairs
;; ≡ l mod 2, at 96 the first index of the group of four holding it (the pair is g + l or g + 2 + l:
;; the caller picks the first that matches); f32x4 min a at 112, max a at 128, min b at 144, max b at 160.
;; The chunk's edge values at A = 65536, reference values at B = 131072 (at most 16384 pairs each,
;; copied by the caller).
(module
  (memory (export "memory") 3)

  ;; Folds pairs [0, n8) of the chunk (n8 a multiple of 8; pair j has index base + j) into the state,
  ;; assuming every value is finite. A NaN or ±Inf makes Σa² + Σb² non-finite (no float32 square
  ;; overflows a float64 sum): then the state is left as it was and -1 is returned (the caller runs
  ;; chunkSlow); otherwise 0.
  (func (export "chunk") (param $n8 i32) (param $base f64) (result i32)
    (local $p i32) (local $end i32) (local $va v128) (local $vb v128)
    (local $x01 v128) (local $x23 v128) (local $y01 v128) (local $y23 v128)
    (local $d01 v128) (local $d23 v128) (local $ad01 v128) (local $ad23 v128) (local $m v128)
    (local $sd v128) (local $sa v128) (local $ab v128) (local $aa v128) (local $bb v128)
    (local $mx v128) (local $mj v128) (local $g v128)
    (local $mnA v128) (local $mxA v128) (local $mnB v128) (local $mxB v128)
    (local.set $sd (v128.load (i32.const 0)))
    (local.set $sa (v128.load (i32.const 16)))
    (local.set $ab (v128.load (i32.const 32)))
    (local.set $aa (v128.load (i32.const 48)))
    (local.set $bb (v128.load (i32.const 64)))
    (local.set $mx (v128.load (i32.const 80)))
    (local.set $mj (v128.load (i32.const 96)))
    (local.set $mnA (v128.load (i32.const 112)))
    (local.set $mxA (v128.load (i32.const 128)))
    (local.set $mnB (v128.load (i32.const 144)))
    (local.set $mxB (v128.load (i32.const 160)))
    (local.set $g (f64x2.splat (local.get $base)))
    (local.set $end (i32.shl (local.get $n8) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $va (v128.load offset=65536 (local.get $p)))
        (local.set $vb (v128.load offset=131072 (local.get $p)))
        (local.set $x01 (f64x2.promote_low_f32x4 (local.get $va)))
        (local.set $x23 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $va) (local.get $va))))
        (local.set $y01 (f64x2.promote_low_f32x4 (local.get $vb)))
        (local.set $y23 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $vb) (local.get $vb))))
        (local.set $d01 (f64x2.sub (local.get $x01) (local.get $y01)))
        (local.set $d23 (f64x2.sub (local.get $x23) (local.get $y23)))
        (local.set $ad01 (f64x2.abs (local.get $d01)))
        (local.set $ad23 (f64x2.abs (local.get $d23)))
        (local.set $sd (f64x2.add (f64x2.add (local.get $sd) (f64x2.mul (local.get $d01) (local.get $d01))) (f64x2.mul (local.get $d23) (local.get $d23))))
        (local.set $sa (f64x2.add (f64x2.add (local.get $sa) (local.get $ad01)) (local.get $ad23)))
        (local.set $ab (f64x2.add (f64x2.add (local.get $ab) (f64x2.mul (local.get $x01) (local.get $y01))) (f64x2.mul (local.get $x23) (local.get $y23))))
        (local.set $aa (f64x2.add (f64x2.add (local.get $aa) (f64x2.mul (local.get $x01) (local.get $x01))) (f64x2.mul (local.get $x23) (local.get $x23))))
        (local.set $bb (f64x2.add (f64x2.add (local.get $bb) (f64x2.mul (local.get $y01) (local.get $y01))) (f64x2.mul (local.get $y23) (local.get $y23))))
        ;; Group max per lane (pmax keeps the first on ties), then strictly greater replaces: the
        ;; first group holding the lane's max.
        (local.set $m (f64x2.pmax (local.get $ad01) (local.get $ad23)))
        (local.set $mj (v128.bitselect (local.get $g) (local.get $mj) (f64x2.lt (local.get $mx) (local.get $m))))
        (local.set $mx (f64x2.pmax (local.get $mx) (local.get $m)))
        ;; pmin(m, v) = v < m ? v : m (a NaN never replaces m).
        (local.set $mnA (f32x4.pmin (local.get $mnA) (local.get $va)))
        (local.set $mxA (f32x4.pmax (local.get $mxA) (local.get $va)))
        (local.set $mnB (f32x4.pmin (local.get $mnB) (local.get $vb)))
        (local.set $mxB (f32x4.pmax (local.get $mxB) (local.get $vb)))
        (local.set $g (f64x2.add (local.get $g) (v128.const f64x2 4 4)))
        ;; The next group of four (two per iteration: ~13% faster in V8).
        (local.set $va (v128.load offset=65552 (local.get $p)))
        (local.set $vb (v128.load offset=131088 (local.get $p)))
        (local.set $x01 (f64x2.promote_low_f32x4 (local.get $va)))
        (local.set $x23 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $va) (local.get $va))))
        (local.set $y01 (f64x2.promote_low_f32x4 (local.get $vb)))
        (local.set $y23 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $vb) (local.get $vb))))
        (local.set $d01 (f64x2.sub (local.get $x01) (local.get $y01)))
        (local.set $d23 (f64x2.sub (local.get $x23) (local.get $y23)))
        (local.set $ad01 (f64x2.abs (local.get $d01)))
        (local.set $ad23 (f64x2.abs (local.get $d23)))
        (local.set $sd (f64x2.add (f64x2.add (local.get $sd) (f64x2.mul (local.get $d01) (local.get $d01))) (f64x2.mul (local.get $d23) (local.get $d23))))
        (local.set $sa (f64x2.add (f64x2.add (local.get $sa) (local.get $ad01)) (local.get $ad23)))
        (local.set $ab (f64x2.add (f64x2.add (local.get $ab) (f64x2.mul (local.get $x01) (local.get $y01))) (f64x2.mul (local.get $x23) (local.get $y23))))
        (local.set $aa (f64x2.add (f64x2.add (local.get $aa) (f64x2.mul (local.get $x01) (local.get $x01))) (f64x2.mul (local.get $x23) (local.get $x23))))
        (local.set $bb (f64x2.add (f64x2.add (local.get $bb) (f64x2.mul (local.get $y01) (local.get $y01))) (f64x2.mul (local.get $y23) (local.get $y23))))
        (local.set $m (f64x2.pmax (local.get $ad01) (local.get $ad23)))
        (local.set $mj (v128.bitselect (local.get $g) (local.get $mj) (f64x2.lt (local.get $mx) (local.get $m))))
        (local.set $mx (f64x2.pmax (local.get $mx) (local.get $m)))
        (local.set $mnA (f32x4.pmin (local.get $mnA) (local.get $va)))
        (local.set $mxA (f32x4.pmax (local.get $mxA) (local.get $va)))
        (local.set $mnB (f32x4.pmin (local.get $mnB) (local.get $vb)))
        (local.set $mxB (f32x4.pmax (local.get $mxB) (local.get $vb)))
        (local.set $g (f64x2.add (local.get $g) (v128.const f64x2 4 4)))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $next)))
    (local.set $m (f64x2.add (local.get $aa) (local.get $bb)))
    (if (i32.eqz (i64x2.all_true (f64x2.eq (f64x2.sub (local.get $m) (local.get $m)) (v128.const f64x2 0 0))))
      (then (return (i32.const -1))))
    (v128.store (i32.const 0) (local.get $sd))
    (v128.store (i32.const 16) (local.get $sa))
    (v128.store (i32.const 32) (local.get $ab))
    (v128.store (i32.const 48) (local.get $aa))
    (v128.store (i32.const 64) (local.get $bb))
    (v128.store (i32.const 80) (local.get $mx))
    (v128.store (i32.const 96) (local.get $mj))
    (v128.store (i32.const 112) (local.get $mnA))
    (v128.store (i32.const 128) (local.get $mxA))
    (v128.store (i32.const 144) (local.get $mnB))
    (v128.store (i32.const 160) (local.get $mxB))
    (i32.const 0))

  ;; chunk (n4 a multiple of 4) for a chunk holding NaN or ±Inf: those pairs are left out of every
  ;; quantity (the caller classifies them); returns how many there were.
  (func (export "chunkSlow") (param $n4 i32) (param $base f64) (result i32)
    (local $p i32) (local $end i32) (local $nf i32) (local $nfin v128) (local $m01 v128) (local $m23 v128) (local $va v128) (local $vb v128)
    (local $x01 v128) (local $x23 v128) (local $y01 v128) (local $y23 v128)
    (local $d01 v128) (local $d23 v128) (local $ad01 v128) (local $ad23 v128) (local $m v128)
    (local $sd v128) (local $sa v128) (local $ab v128) (local $aa v128) (local $bb v128)
    (local $mx v128) (local $mj v128) (local $g v128)
    (local $mnA v128) (local $mxA v128) (local $mnB v128) (local $mxB v128)
    (local.set $sd (v128.load (i32.const 0)))
    (local.set $sa (v128.load (i32.const 16)))
    (local.set $ab (v128.load (i32.const 32)))
    (local.set $aa (v128.load (i32.const 48)))
    (local.set $bb (v128.load (i32.const 64)))
    (local.set $mx (v128.load (i32.const 80)))
    (local.set $mj (v128.load (i32.const 96)))
    (local.set $mnA (v128.load (i32.const 112)))
    (local.set $mxA (v128.load (i32.const 128)))
    (local.set $mnB (v128.load (i32.const 144)))
    (local.set $mxB (v128.load (i32.const 160)))
    (local.set $g (f64x2.splat (local.get $base)))
    (local.set $end (i32.shl (local.get $n4) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $va (v128.load offset=65536 (local.get $p)))
        (local.set $vb (v128.load offset=131072 (local.get $p)))
        ;; x − x is 0 for finite x and NaN for NaN / ±Inf (the JS test, lane-wise). A non-finite pair
        ;; is counted, kept out of the extrema (an all-ones lane is a NaN, which pmin / pmax never
        ;; take), out of the sums (+0 adds nothing to a sum that is never −0) and out of the argmax
        ;; (|d| = −Inf never wins).
        (local.set $nfin (f32x4.ne
          (f32x4.add (f32x4.sub (local.get $va) (local.get $va)) (f32x4.sub (local.get $vb) (local.get $vb)))
          (v128.const f32x4 0 0 0 0)))
        (local.set $nf (i32.add (local.get $nf) (i32.popcnt (i32x4.bitmask (local.get $nfin)))))
        (local.set $mnA (f32x4.pmin (local.get $mnA) (v128.or (local.get $va) (local.get $nfin))))
        (local.set $mxA (f32x4.pmax (local.get $mxA) (v128.or (local.get $va) (local.get $nfin))))
        (local.set $mnB (f32x4.pmin (local.get $mnB) (v128.or (local.get $vb) (local.get $nfin))))
        (local.set $mxB (f32x4.pmax (local.get $mxB) (v128.or (local.get $vb) (local.get $nfin))))
        (local.set $va (v128.andnot (local.get $va) (local.get $nfin)))
        (local.set $vb (v128.andnot (local.get $vb) (local.get $nfin)))
        (local.set $m01 (i64x2.extend_low_i32x4_s (local.get $nfin)))
        (local.set $m23 (i64x2.extend_high_i32x4_s (local.get $nfin)))
        (local.set $x01 (f64x2.promote_low_f32x4 (local.get $va)))
        (local.set $x23 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $va) (local.get $va))))
        (local.set $y01 (f64x2.promote_low_f32x4 (local.get $vb)))
        (local.set $y23 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $vb) (local.get $vb))))
        (local.set $d01 (f64x2.sub (local.get $x01) (local.get $y01)))
        (local.set $d23 (f64x2.sub (local.get $x23) (local.get $y23)))
        (local.set $ad01 (f64x2.abs (local.get $d01)))
        (local.set $ad23 (f64x2.abs (local.get $d23)))
        (local.set $sd (f64x2.add (f64x2.add (local.get $sd) (f64x2.mul (local.get $d01) (local.get $d01))) (f64x2.mul (local.get $d23) (local.get $d23))))
        (local.set $sa (f64x2.add (f64x2.add (local.get $sa) (local.get $ad01)) (local.get $ad23)))
        (local.set $ab (f64x2.add (f64x2.add (local.get $ab) (f64x2.mul (local.get $x01) (local.get $y01))) (f64x2.mul (local.get $x23) (local.get $y23))))
        (local.set $aa (f64x2.add (f64x2.add (local.get $aa) (f64x2.mul (local.get $x01) (local.get $x01))) (f64x2.mul (local.get $x23) (local.get $x23))))
        (local.set $bb (f64x2.add (f64x2.add (local.get $bb) (f64x2.mul (local.get $y01) (local.get $y01))) (f64x2.mul (local.get $y23) (local.get $y23))))
        ;; Group max per lane (pmax keeps the first on ties), then strictly greater replaces: the
        ;; first group holding the lane's max.
        (local.set $m (f64x2.pmax
          (v128.bitselect (v128.const f64x2 -inf -inf) (local.get $ad01) (local.get $m01))
          (v128.bitselect (v128.const f64x2 -inf -inf) (local.get $ad23) (local.get $m23))))
        (local.set $mj (v128.bitselect (local.get $g) (local.get $mj) (f64x2.lt (local.get $mx) (local.get $m))))
        (local.set $mx (f64x2.pmax (local.get $mx) (local.get $m)))
        (local.set $g (f64x2.add (local.get $g) (v128.const f64x2 4 4)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next)))
    (v128.store (i32.const 0) (local.get $sd))
    (v128.store (i32.const 16) (local.get $sa))
    (v128.store (i32.const 32) (local.get $ab))
    (v128.store (i32.const 48) (local.get $aa))
    (v128.store (i32.const 64) (local.get $bb))
    (v128.store (i32.const 80) (local.get $mx))
    (v128.store (i32.const 96) (local.get $mj))
    (v128.store (i32.const 112) (local.get $mnA))
    (v128.store (i32.const 128) (local.get $mxA))
    (v128.store (i32.const 144) (local.get $mnB))
    (v128.store (i32.const 160) (local.get $mxB))
    (local.get $nf))
)
