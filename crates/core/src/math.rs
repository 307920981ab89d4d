//! Scalar functions with one implementation on every platform.
//!
//! `std`'s `exp` and `tanh` call the platform's C library, whose last bits
//! differ between Linux, macOS and wasm32; `libm` is pure Rust, so a seeded
//! training run gives the same bytes everywhere.

pub fn exp(x: f32) -> f32 {
    libm::expf(x)
}

pub fn ln(x: f32) -> f32 {
    libm::logf(x)
}

pub fn ln_1p(x: f32) -> f32 {
    libm::log1pf(x)
}

pub fn tanh(x: f32) -> f32 {
    libm::tanhf(x)
}

/// Logistic sigmoid, without overflow for large |x|.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + exp(-x))
    } else {
        let e = exp(x);
        e / (1.0 + e)
    }
}

/// `ln(1 + e^x)` without overflow.
pub fn softplus(x: f32) -> f32 {
    x.max(0.0) + ln_1p(exp(-x.abs()))
}
