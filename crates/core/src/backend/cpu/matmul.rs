//! Register-blocked, cache-blocked f32 matrix multiply.
//!
//! The core is a 4 × 8 micro-kernel: a block of `c` is held in registers while
//! rank-1 updates `a[i, p] · b[p, j..j+8]` stream through it, so each loaded
//! value of `b` is used four times and `c` is loaded and stored once per
//! block of `p`. The `b` values a kernel needs (up to 256 rows × 8 columns)
//! are first packed into one small contiguous panel that stays in L1 cache
//! while every row block of `a` passes over it; packing also absorbs
//! transposition. The inner loops are plain arrays that vectorize (SSE/AVX
//! natively, SIMD128 in wasm).
//!
//! Each output element is always summed in the same order (`p = 0, 1, …`), so
//! results are bit-identical whatever the vector width of the machine.

use std::cell::RefCell;

use crate::backend::MatmulSpec;

/// Rows and columns of `c` per micro-kernel.
const MR: usize = 4;
const NR: usize = 8;
/// Rows of `b` per packed panel.
const KC: usize = 256;

thread_local! {
    /// The packed panel of `b`, allocated once per thread.
    static PANEL: RefCell<Vec<f32>> = RefCell::new(vec![0.0; KC * NR]);
}

pub fn matmul(a: &[f32], b: &[f32], c: &mut [f32], spec: MatmulSpec) {
    let MatmulSpec { m, k, n, .. } = spec;
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n, "matmul operands are too small for {spec:?}");
    let c = &mut c[..m * n];
    if !spec.accumulate {
        c.fill(0.0);
    }
    if m < MR && !spec.transpose_b {
        // A row or two (inference on one example): packing would cost as much
        // as the product, so stream rows of `b` directly.
        for i in 0..m {
            let c_row = &mut c[i * n..(i + 1) * n];
            for p in 0..k {
                let a_value = a_at(a, &spec, i, p);
                c_row.iter_mut().zip(&b[p * n..(p + 1) * n]).for_each(|(c, b)| *c += a_value * b);
            }
        }
        return;
    }
    let full_cols = n - n % NR;
    PANEL.with(|panel| {
        let panel = &mut panel.borrow_mut()[..];
        for j in (0..full_cols).step_by(NR) {
            for p0 in (0..k).step_by(KC) {
                let p1 = (p0 + KC).min(k);
                for p in p0..p1 {
                    for l in 0..NR {
                        panel[(p - p0) * NR + l] = b_at(b, &spec, p, j + l);
                    }
                }
                let mut i = 0;
                while i + MR <= m {
                    micro_kernel::<MR>(a, panel, c, &spec, i, j, p0..p1);
                    i += MR;
                }
                for i in i..m {
                    micro_kernel::<1>(a, panel, c, &spec, i, j, p0..p1);
                }
            }
        }
    });
    // Columns left over past the last full panel (e.g. a single output unit).
    for i in 0..m {
        for j in full_cols..n {
            c[i * n + j] = (0..k).fold(c[i * n + j], |acc, p| acc + a_at(a, &spec, i, p) * b_at(b, &spec, p, j));
        }
    }
}

/// `a` at logical position `(i, p)`.
#[inline(always)]
fn a_at(a: &[f32], spec: &MatmulSpec, i: usize, p: usize) -> f32 {
    if spec.transpose_a {
        a[p * spec.m + i]
    } else {
        a[i * spec.k + p]
    }
}

/// `b` at logical position `(p, j)`.
#[inline(always)]
fn b_at(b: &[f32], spec: &MatmulSpec, p: usize, j: usize) -> f32 {
    if spec.transpose_b {
        b[j * spec.k + p]
    } else {
        b[p * spec.n + j]
    }
}

/// `c[i..i+ROWS, j..j+8] += op(a)[i..i+ROWS, ps] · panel`, in registers.
#[inline(always)]
fn micro_kernel<const ROWS: usize>(
    a: &[f32],
    panel: &[f32],
    c: &mut [f32],
    spec: &MatmulSpec,
    i: usize,
    j: usize,
    ps: std::ops::Range<usize>,
) {
    let n = spec.n;
    let mut acc = [[0.0f32; NR]; ROWS];
    for (r, row) in acc.iter_mut().enumerate() {
        row.copy_from_slice(&c[(i + r) * n + j..(i + r) * n + j + NR]);
    }
    for (offset, p) in ps.enumerate() {
        let b_row: &[f32; NR] = panel[offset * NR..(offset + 1) * NR].try_into().expect("NR wide");
        for (r, row) in acc.iter_mut().enumerate() {
            let a_value = a_at(a, spec, i + r, p);
            for l in 0..NR {
                row[l] += a_value * b_row[l];
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        c[(i + r) * n + j..(i + r) * n + j + NR].copy_from_slice(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn naive(a: &[f32], b: &[f32], spec: MatmulSpec) -> Vec<f32> {
        let mut c = vec![0.0f64; spec.m * spec.n];
        for i in 0..spec.m {
            for j in 0..spec.n {
                for p in 0..spec.k {
                    let av = a_at(a, &spec, i, p) as f64;
                    let bv = if spec.transpose_b { b[j * spec.k + p] } else { b[p * spec.n + j] } as f64;
                    c[i * spec.n + j] += av * bv;
                }
            }
        }
        c.into_iter().map(|x| x as f32).collect()
    }

    #[test]
    fn every_transpose_case_matches_the_naive_product() {
        let mut rng = Rng::new(11);
        for &(m, k, n) in &[(1, 1, 1), (5, 3, 7), (4, 9, 600), (13, 17, 3), (33, 128, 513)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let spec = MatmulSpec { m, k, n, transpose_a: ta, transpose_b: tb, accumulate: false };
                let a: Vec<f32> = (0..m * k).map(|_| rng.normal()).collect();
                let b: Vec<f32> = (0..k * n).map(|_| rng.normal()).collect();
                let mut c = vec![f32::NAN; m * n];
                matmul(&a, &b, &mut c, spec);
                for (x, y) in c.iter().zip(naive(&a, &b, spec)) {
                    assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{m}x{k}x{n} {ta} {tb}: {x} vs {y}");
                }
            }
        }
    }

    #[test]
    fn accumulate_adds_to_the_existing_values() {
        let spec = MatmulSpec::new(2, 2, 2).accumulate();
        let mut c = vec![1.0; 4];
        matmul(&[1.0, 2.0, 3.0, 4.0], &[1.0, 0.0, 0.0, 1.0], &mut c, spec);
        assert_eq!(c, vec![2.0, 3.0, 4.0, 5.0]);
    }
}
