//! Cache-friendly f32 matrix multiply.
//!
//! Two kernels cover all transpose cases. When `b` is not transposed, rows of
//! `c` are built as sums of scaled rows of `b` ("axpy" form), four rows of `c`
//! at a time so that each loaded row of `b` is used four times; the inner loop
//! runs along contiguous memory and vectorizes (SSE/AVX natively, SIMD128 in
//! wasm). When `b` is transposed, each `c[i, j]` is a dot product of two
//! contiguous rows, summed in eight independent lanes.
//!
//! Each output element is always summed in the same order, so results are
//! bit-identical whatever the vector width of the machine.

use crate::backend::MatmulSpec;

/// Columns of `c` processed per block, so four rows of `c` plus a row of `b`
/// stay in L1 cache.
const COLUMN_BLOCK: usize = 512;

pub fn matmul(a: &[f32], b: &[f32], c: &mut [f32], spec: MatmulSpec) {
    let MatmulSpec { m, k, n, .. } = spec;
    let c = &mut c[..m * n];
    if !spec.accumulate {
        c.fill(0.0);
    }
    if spec.transpose_b {
        matmul_dot(a, b, c, spec);
    } else {
        matmul_axpy(a, b, c, spec);
    }
    debug_assert!(a.len() >= m * k && b.len() >= k * n);
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

fn matmul_axpy(a: &[f32], b: &[f32], c: &mut [f32], spec: MatmulSpec) {
    let MatmulSpec { m, k, n, .. } = spec;
    for j0 in (0..n).step_by(COLUMN_BLOCK) {
        let j1 = (j0 + COLUMN_BLOCK).min(n);
        let mut i = 0;
        while i + 4 <= m {
            let (c0, rest) = c[i * n..(i + 4) * n].split_at_mut(n);
            let (c1, rest) = rest.split_at_mut(n);
            let (c2, c3) = rest.split_at_mut(n);
            let (c0, c1, c2, c3) = (&mut c0[j0..j1], &mut c1[j0..j1], &mut c2[j0..j1], &mut c3[j0..j1]);
            for p in 0..k {
                let (a0, a1, a2, a3) = (
                    a_at(a, &spec, i, p),
                    a_at(a, &spec, i + 1, p),
                    a_at(a, &spec, i + 2, p),
                    a_at(a, &spec, i + 3, p),
                );
                let b_row = &b[p * n + j0..p * n + j1];
                for ((((x0, x1), x2), x3), &bv) in
                    c0.iter_mut().zip(c1.iter_mut()).zip(c2.iter_mut()).zip(c3.iter_mut()).zip(b_row)
                {
                    *x0 += a0 * bv;
                    *x1 += a1 * bv;
                    *x2 += a2 * bv;
                    *x3 += a3 * bv;
                }
            }
            i += 4;
        }
        for i in i..m {
            let c_row = &mut c[i * n + j0..i * n + j1];
            for p in 0..k {
                let ap = a_at(a, &spec, i, p);
                let b_row = &b[p * n + j0..p * n + j1];
                for (x, &bv) in c_row.iter_mut().zip(b_row) {
                    *x += ap * bv;
                }
            }
        }
    }
}

fn matmul_dot(a: &[f32], b: &[f32], c: &mut [f32], spec: MatmulSpec) {
    let MatmulSpec { m, k, n, .. } = spec;
    let mut a_row = vec![0.0; if spec.transpose_a { k } else { 0 }];
    for i in 0..m {
        let row: &[f32] = if spec.transpose_a {
            a_row.iter_mut().enumerate().for_each(|(p, x)| *x = a[p * m + i]);
            &a_row
        } else {
            &a[i * k..(i + 1) * k]
        };
        for j in 0..n {
            c[i * n + j] += dot(row, &b[j * k..(j + 1) * k]);
        }
    }
}

/// Dot product in eight lanes, reduced in a fixed order.
pub fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (xs, ys) in xc.zip(yc) {
        for l in 0..8 {
            lanes[l] += xs[l] * ys[l];
        }
    }
    for (l, (a, b)) in xr.iter().zip(yr).enumerate() {
        lanes[l] += a * b;
    }
    ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
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
