// Losses with their gradients and running metrics (see
// neuroglow_core::backend::LossOp). With a padding mask, `loss_count_rows`
// first counts the rows that count (the loss is their mean, as in Keras).
// `loss_rows` handles one row per invocation and leaves (loss, correct,
// judged) per row; `loss_totals` adds them up in one workgroup and
// accumulates into the metrics buffer.

struct Params {
    rows: u32,
    cols: u32,
    // 0 binary, 1 categorical, 2 sparse categorical cross-entropy, 3 mean squared error.
    kind: u32,
    // 1 when the gradient is with respect to the logits (sigmoid or softmax fused in).
    fused: u32,
    // 1 when `mask` says which rows count.
    masked: u32,
    // Examples in the batch: the weight of its mean loss in the metrics.
    examples: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> output: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
// [rows, 3]: loss, correct, judged; then the number of rows that count.
@group(0) @binding(5) var<storage, read_write> row_stats: array<f32>;
// loss sum, correct, examples, judged.
@group(0) @binding(6) var<storage, read_write> metrics: array<f32>;
// [rows]: 1 for a row that counts, 0 for padding (read when p.masked).
@group(0) @binding(7) var<storage, read> mask: array<f32>;

const EPSILON: f32 = 1e-7;

fn softplus(x: f32) -> f32 {
    return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

// The target probability of class j in row r.
fn target_of(r: u32, j: u32) -> f32 {
    if (p.kind == 2u) {
        return select(0.0, 1.0, u32(labels[r]) == j);
    }
    return labels[r * p.cols + j];
}

// The rows that count, at least 1 (a batch of padding has loss 0, as
// Keras's divide_no_nan gives).
fn counted_rows() -> f32 {
    if (p.masked != 0u) {
        return max(row_stats[p.rows * 3u], 1.0);
    }
    return f32(p.rows);
}

fn argmax_output(start: u32) -> u32 {
    var best = 0u;
    for (var j = 1u; j < p.cols; j++) {
        if (output[start + j] > output[start + best]) {
            best = j;
        }
    }
    return best;
}

fn argmax_target(r: u32) -> u32 {
    if (p.kind == 2u) {
        return u32(labels[r]);
    }
    var best = 0u;
    for (var j = 1u; j < p.cols; j++) {
        if (labels[r * p.cols + j] > labels[r * p.cols + best]) {
            best = j;
        }
    }
    return best;
}

@compute @workgroup_size(256)
fn loss_rows(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let r = flat_index(id, groups);
    if (r >= p.rows) {
        return;
    }
    let start = r * p.cols;
    if (p.masked != 0u && mask[r] == 0.0) {
        // Padding: no loss, no gradient, not judged.
        for (var j = 0u; j < p.cols; j++) {
            grad[start + j] = 0.0;
        }
        row_stats[r * 3u] = 0.0;
        row_stats[r * 3u + 1u] = 0.0;
        row_stats[r * 3u + 2u] = 0.0;
        return;
    }
    let counted = counted_rows();
    let values = counted * f32(p.cols);
    var loss = 0.0;
    var correct = 0.0;
    var judged = 0.0;
    switch p.kind {
        case 0u: {
            for (var j = 0u; j < p.cols; j++) {
                let t = labels[start + j];
                let y = output[start + j];
                if (p.fused != 0u) {
                    let z = logits[start + j];
                    loss += softplus(z) - t * z;
                    grad[start + j] = (y - t) / values;
                } else {
                    let q = clamp(y, EPSILON, 1.0 - EPSILON);
                    loss -= t * log(q) + (1.0 - t) * log(1.0 - q);
                    grad[start + j] = (q - t) / (q * (1.0 - q)) / values;
                }
                correct += select(0.0, 1.0, (y > 0.5) == (t > 0.5));
            }
            loss /= f32(p.cols);
            judged = f32(p.cols);
        }
        case 1u, 2u: {
            if (p.fused != 0u) {
                var peak = -3.4e38;
                for (var j = 0u; j < p.cols; j++) {
                    peak = max(peak, logits[start + j]);
                }
                var sum = 0.0;
                for (var j = 0u; j < p.cols; j++) {
                    sum += exp(logits[start + j] - peak);
                }
                let log_sum_exp = peak + log(sum);
                for (var j = 0u; j < p.cols; j++) {
                    let t = target_of(r, j);
                    loss += t * (log_sum_exp - logits[start + j]);
                    grad[start + j] = (output[start + j] - t) / counted;
                }
            } else {
                for (var j = 0u; j < p.cols; j++) {
                    let t = target_of(r, j);
                    let q = clamp(output[start + j], EPSILON, 1.0);
                    loss -= t * log(q);
                    grad[start + j] = -t / q / counted;
                }
            }
            correct = select(0.0, 1.0, argmax_output(start) == argmax_target(r));
            judged = 1.0;
        }
        default: {
            for (var j = 0u; j < p.cols; j++) {
                let d = output[start + j] - labels[start + j];
                loss += d * d;
                grad[start + j] = 2.0 * d / values;
            }
            loss /= f32(p.cols);
        }
    }
    row_stats[r * 3u] = loss;
    row_stats[r * 3u + 1u] = correct;
    row_stats[r * 3u + 2u] = judged;
}

var<workgroup> partial: array<vec3<f32>, 256>;

// Adds up `partial` into partial[0]; every thread of the workgroup calls it.
fn sum_partials(thread: u32) {
    for (var half = 128u; half > 0u; half >>= 1u) {
        workgroupBarrier();
        if (thread < half) {
            partial[thread] += partial[thread + half];
        }
    }
    workgroupBarrier();
}

// One workgroup: the number of rows that count, into row_stats[rows * 3].
@compute @workgroup_size(256)
fn loss_count_rows(@builtin(local_invocation_index) thread: u32) {
    var sum = 0.0;
    for (var r = thread; r < p.rows; r += 256u) {
        sum += mask[r];
    }
    partial[thread] = vec3<f32>(sum, 0.0, 0.0);
    sum_partials(thread);
    if (thread == 0u) {
        row_stats[p.rows * 3u] = partial[0].x;
    }
}

// One workgroup.
@compute @workgroup_size(256)
fn loss_totals(@builtin(local_invocation_index) thread: u32) {
    var sum = vec3<f32>(0.0);
    for (var r = thread; r < p.rows; r += 256u) {
        sum += vec3<f32>(row_stats[r * 3u], row_stats[r * 3u + 1u], row_stats[r * 3u + 2u]);
    }
    partial[thread] = sum;
    sum_partials(thread);
    if (thread == 0u) {
        // The batch's mean loss, weighted by its examples.
        metrics[0] += partial[0].x * (f32(p.examples) / counted_rows());
        metrics[1] += partial[0].y;
        metrics[2] += f32(p.examples);
        metrics[3] += partial[0].z;
    }
}
