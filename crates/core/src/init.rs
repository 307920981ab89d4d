//! Keras's default weight initializers, drawn from a seeded [`Rng`].

use crate::rng::Rng;

/// Glorot (Xavier) uniform: `U(-l, l)` with `l = sqrt(6 / (fan_in + fan_out))`.
pub fn glorot_uniform(rng: &mut Rng, fan_in: usize, fan_out: usize) -> Vec<f32> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
    (0..fan_in * fan_out).map(|_| rng.uniform_in(-limit, limit)).collect()
}

/// Uniform in `[-limit, limit)`; Keras embeddings use `limit = 0.05`.
pub fn uniform(rng: &mut Rng, len: usize, limit: f32) -> Vec<f32> {
    (0..len).map(|_| rng.uniform_in(-limit, limit)).collect()
}

/// A `rows × cols` matrix with orthonormal rows or columns (whichever are
/// fewer), as Keras's `Orthogonal` initializer makes for recurrent kernels:
/// orthonormalize a Gaussian matrix by Gram–Schmidt (equivalent to QR with the
/// sign fix `q · sign(diag(r))`).
pub fn orthogonal(rng: &mut Rng, rows: usize, cols: usize) -> Vec<f32> {
    let (long, short) = (rows.max(cols), rows.min(cols));
    // `short` vectors of length `long`, each orthonormalized against the ones before.
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(short);
    for _ in 0..short {
        let mut v: Vec<f64> = (0..long).map(|_| rng.normal() as f64).collect();
        for _pass in 0..2 {
            for q in &basis {
                let d: f64 = v.iter().zip(q).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(q).for_each(|(a, b)| *a -= d * b);
            }
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        v.iter_mut().for_each(|a| *a /= norm);
        basis.push(v);
    }
    let mut out = vec![0.0f32; rows * cols];
    for (s, vector) in basis.iter().enumerate() {
        for (l, &value) in vector.iter().enumerate() {
            let (r, c) = if rows >= cols { (l, s) } else { (s, l) };
            out[r * cols + c] = value as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthogonal_rows_are_orthonormal() {
        let (rows, cols) = (8, 32);
        let w = orthogonal(&mut Rng::new(4), rows, cols);
        for a in 0..rows {
            for b in 0..rows {
                let dot: f32 = (0..cols).map(|c| w[a * cols + c] * w[b * cols + c]).sum();
                let expected = if a == b { 1.0 } else { 0.0 };
                assert!((dot - expected).abs() < 1e-5, "rows {a},{b}: {dot}");
            }
        }
    }

    #[test]
    fn glorot_stays_within_its_limit() {
        let w = glorot_uniform(&mut Rng::new(1), 10, 6);
        let limit = (6.0f32 / 16.0).sqrt();
        assert_eq!(w.len(), 60);
        assert!(w.iter().all(|x| x.abs() <= limit));
    }
}
