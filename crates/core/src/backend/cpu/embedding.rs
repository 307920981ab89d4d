//! Embedding lookup and its scatter-add gradient.

/// The row index for `id`, or `None` when it is outside the vocabulary
/// (ids are stored as f32 and must be whole numbers).
#[inline]
fn row_of(id: f32, vocab: usize) -> Option<usize> {
    (id >= 0.0 && (id as usize) < vocab).then_some(id as usize)
}

pub fn embedding_forward(
    ids: &[f32],
    table: &[f32],
    out: &mut [f32],
    mut mask: Option<&mut [f32]>,
    vocab: usize,
    dim: usize,
) {
    for (i, &id) in ids.iter().enumerate() {
        let dst = &mut out[i * dim..(i + 1) * dim];
        match row_of(id, vocab) {
            Some(r) => dst.copy_from_slice(&table[r * dim..(r + 1) * dim]),
            None => dst.fill(0.0),
        }
        if let Some(mask) = mask.as_deref_mut() {
            mask[i] = if id == 0.0 { 0.0 } else { 1.0 };
        }
    }
}

pub fn embedding_backward(ids: &[f32], grad_out: &[f32], grad_table: &mut [f32], vocab: usize, dim: usize) {
    grad_table[..vocab * dim].fill(0.0);
    for (i, &id) in ids.iter().enumerate() {
        if let Some(r) = row_of(id, vocab) {
            let src = &grad_out[i * dim..(i + 1) * dim];
            grad_table[r * dim..(r + 1) * dim].iter_mut().zip(src).for_each(|(g, s)| *g += s);
        }
    }
}
