;; Int8 dot-product scan for dense retrieval (WebAssembly SIMD).
;;
;; Compiled by scripts/build-wasm.mjs into vectorKernel.wasm.ts (base64); vectorKernel.ts drives
;; it and holds a JS fallback with identical results. test/unit/vectorKernel.test.ts fails when the
;; committed bytes differ from a fresh compile of this file.
;;
;; out[r] = f32( f64(sum_j qq[j] * data[r*dim + j]) * f64(scales[r]) * qScale )   for r in [0, n)
;;
;;   qq     int16[dim] at $q       the query quantised to int16 (|qq| <= 32767)
;;   data   int8[n*dim] at $data   row-major rows quantised to int8 (|x| <= 127, never -128)
;;   scales f32[n] at $scales      one scale per row
;;   out    f32[n] at $out
;;
;; dim must be a positive multiple of 16 and at most 2048 (the caller checks; see the bound below).
;; Pointers need no alignment, but 16-byte aligned ones are faster.
;;
;; Overflow: every product is at most 32767 * 127 = 4,161,409 in magnitude. i32x4.dot_i16x8_s adds
;; two products per lane (<= 8,322,818; it only wraps for -32768 * -32768 * 2, which cannot occur).
;; Per 16 row elements each lane of acc gains 4 products, so after a row of dim elements a lane holds
;; dim/4 products: dim <= 2048 gives <= 512 * 4,161,409 = 2,130,641,408 < 2^31 - 1 = 2,147,483,647.
;; The four lanes (up to 4x that) are summed in i64, exactly, so the integer dot product is exact
;; and the only rounding is the final scaling in f64 and the store to f32.
;;
;; The memory is imported so that JS can size it exactly up front (one Memory per block of
;; vectors, never grown, so views into it stay valid); it is re-exported for convenience.
(module
  (import "env" "memory" (memory $mem 1))
  (export "memory" (memory $mem))

  (func $scan (export "scan")
    (param $q i32) (param $data i32) (param $scales i32) (param $n i32) (param $dim i32)
    (param $out i32) (param $qScale f64)
    (local $p i32)        ;; current position in data (rows are contiguous, so it just advances)
    (local $rowEnd i32)
    (local $qp i32)       ;; current position in the query
    (local $outEnd i32)
    (local $v v128)
    (local $acc0 v128)
    (local $acc1 v128)
    (local $acc v128)
    (local $wide v128)

    (if (i32.le_s (local.get $n) (i32.const 0)) (then (return)))
    (local.set $p (local.get $data))
    (local.set $outEnd (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))

    (loop $rows
      (local.set $rowEnd (i32.add (local.get $p) (local.get $dim)))
      (local.set $qp (local.get $q))
      (local.set $acc0 (v128.const i32x4 0 0 0 0))
      (local.set $acc1 (v128.const i32x4 0 0 0 0))

      ;; 16 int8 of the row against 16 int16 of the query per iteration; two accumulators so
      ;; the two multiply-adds do not wait on each other.
      (loop $cols
        (local.set $v (v128.load (local.get $p)))
        (local.set $acc0
          (i32x4.add (local.get $acc0)
            (i32x4.dot_i16x8_s
              (i16x8.extend_low_i8x16_s (local.get $v))
              (v128.load (local.get $qp)))))
        (local.set $acc1
          (i32x4.add (local.get $acc1)
            (i32x4.dot_i16x8_s
              (i16x8.extend_high_i8x16_s (local.get $v))
              (v128.load offset=16 (local.get $qp)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $qp (i32.add (local.get $qp) (i32.const 32)))
        (br_if $cols (i32.lt_u (local.get $p) (local.get $rowEnd))))

      ;; Horizontal sum: lanes widened to i64 (see the overflow note above).
      (local.set $acc (i32x4.add (local.get $acc0) (local.get $acc1)))
      (local.set $wide
        (i64x2.add
          (i64x2.extend_low_i32x4_s (local.get $acc))
          (i64x2.extend_high_i32x4_s (local.get $acc))))
      (f32.store (local.get $out)
        (f32.demote_f64
          (f64.mul
            (f64.mul
              (f64.convert_i64_s
                (i64.add
                  (i64x2.extract_lane 0 (local.get $wide))
                  (i64x2.extract_lane 1 (local.get $wide))))
              (f64.promote_f32 (f32.load (local.get $scales))))
            (local.get $qScale))))

      (local.set $scales (i32.add (local.get $scales) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br_if $rows (i32.lt_u (local.get $out) (local.get $outEnd))))))
