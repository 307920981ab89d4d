//! The 2-D toy datasets of TensorFlow Playground, seeded. Points lie in
//! `[-6, 6]²`; labels are 1 and 0; `noise` is in `[0, 0.5]`.

use super::Dataset;
use crate::rng::Rng;
use crate::tensor::Tensor;

fn dataset(points: Vec<([f32; 2], f32)>) -> Dataset {
    let n = points.len();
    let x = points.iter().flat_map(|(p, _)| *p).collect();
    let y = points.iter().map(|(_, l)| *l).collect();
    Dataset::new(Tensor::new(vec![n, 2], x).expect("n×2"), Tensor::new(vec![n, 1], y).expect("n×1")).expect("same rows")
}

/// A disc of one class inside a ring of the other.
pub fn circle(n: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let radius = 5.0;
    let points = (0..n)
        .map(|i| {
            let (low, high) = if i < n / 2 { (0.0, radius * 0.5) } else { (radius * 0.7, radius) };
            let r = rng.uniform_in(low, high);
            let angle = rng.uniform_in(0.0, std::f32::consts::TAU);
            let (x, y) = (r * libm::sinf(angle), r * libm::cosf(angle));
            let (nx, ny) = (rng.uniform_in(-radius, radius) * noise, rng.uniform_in(-radius, radius) * noise);
            let inside = (x + nx).hypot(y + ny) < radius * 0.5;
            ([x, y], inside as u8 as f32)
        })
        .collect();
    dataset(points)
}

/// Quadrants: the class is the sign of `x·y`.
pub fn xor(n: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let pad = |v: f32| if v > 0.0 { v + 0.3 } else { v - 0.3 };
    let points = (0..n)
        .map(|_| {
            let (x, y) = (pad(rng.uniform_in(-5.0, 5.0)), pad(rng.uniform_in(-5.0, 5.0)));
            let (nx, ny) = (rng.uniform_in(-5.0, 5.0) * noise, rng.uniform_in(-5.0, 5.0) * noise);
            ([x, y], ((x + nx) * (y + ny) >= 0.0) as u8 as f32)
        })
        .collect();
    dataset(points)
}

/// Two Gaussian blobs around (2, 2) and (−2, −2).
pub fn gaussian(n: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let spread = 0.5 + (4.0 - 0.5) * (noise / 0.5);
    let points = (0..n)
        .map(|i| {
            let (c, label) = if i < n / 2 { (2.0, 1.0) } else { (-2.0, 0.0) };
            ([c + rng.normal() * spread.sqrt(), c + rng.normal() * spread.sqrt()], label)
        })
        .collect();
    dataset(points)
}

/// Two interleaved spirals.
pub fn spiral(n: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let half = (n / 2).max(1);
    let points = (0..n)
        .map(|i| {
            let (j, offset, label) = if i < half { (i, 0.0, 1.0) } else { (i - half, std::f32::consts::PI, 0.0) };
            let r = j as f32 / half as f32 * 5.0;
            let t = 1.75 * j as f32 / half as f32 * std::f32::consts::TAU + offset;
            let x = r * libm::sinf(t) + rng.uniform_in(-1.0, 1.0) * noise;
            let y = r * libm::cosf(t) + rng.uniform_in(-1.0, 1.0) * noise;
            ([x, y], label)
        })
        .collect();
    dataset(points)
}

/// Regression: the target is a tilted plane, `(x₁ + x₂) / 10`, plus noise.
pub fn plane(n: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let points = (0..n)
        .map(|_| {
            let (x, y) = (rng.uniform_in(-6.0, 6.0), rng.uniform_in(-6.0, 6.0));
            let (nx, ny) = (rng.uniform_in(-6.0, 6.0) * noise, rng.uniform_in(-6.0, 6.0) * noise);
            ([x, y], (x + nx + y + ny) / 12.0)
        })
        .collect();
    dataset(points)
}

/// Regression: the target is the signed height of the nearest of six Gaussian bumps.
pub fn multi_gaussian(n: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let bumps: [(f32, f32, f32); 6] =
        [(-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0), (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0)];
    let points = (0..n)
        .map(|_| {
            let (x, y) = (rng.uniform_in(-6.0, 6.0), rng.uniform_in(-6.0, 6.0));
            let (nx, ny) = (rng.uniform_in(-6.0, 6.0) * noise, rng.uniform_in(-6.0, 6.0) * noise);
            let (px, py) = (x + nx, y + ny);
            let (cx, cy, sign) = bumps
                .iter()
                .copied()
                .min_by(|a, b| (px - a.0).hypot(py - a.1).total_cmp(&(px - b.0).hypot(py - b.1)))
                .expect("six bumps");
            let d2 = (px - cx) * (px - cx) + (py - cy) * (py - cy);
            ([x, y], sign * libm::expf(-d2 / 2.0))
        })
        .collect();
    dataset(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_set_is_seeded_balanced_and_in_range() {
        type Make = fn(usize, f32, u64) -> Dataset;
        let classification: [Make; 4] = [circle, xor, gaussian, spiral];
        for make in classification {
            let d = make(200, 0.2, 3);
            assert_eq!(d, make(200, 0.2, 3));
            assert_ne!(d, make(200, 0.2, 4));
            let positives = d.y.data.iter().filter(|&&l| l == 1.0).count();
            assert!((60..=140).contains(&positives), "{positives} of 200 positive");
            assert!(d.x.data.iter().all(|v| v.abs() <= 8.0));
        }
        for make in [plane as Make, multi_gaussian] {
            let d = make(200, 0.0, 1);
            assert!(d.y.data.iter().all(|v| v.abs() <= 1.0));
            assert!(d.y.data.iter().any(|v| v.abs() > 0.3));
        }
    }
}
