// Learning-rate schedule: linear warmup, then cosine decay to a floor.
#pragma once

namespace sf::train {

// lr for the 1-based optimizer `step`:
//   step <= warmup:          max_lr * step / warmup        (warmup > 0)
//   warmup < step <= total:  min_lr + (max_lr - min_lr) * (1 + cos(pi * p)) / 2,
//                            p = (step - warmup) / (total - warmup)
//   step > total:            min_lr
// So step 1 already trains (max_lr / warmup), the peak is reached at step
// `warmup`, and the last step `total` runs at min_lr. warmup <= 0: no warmup;
// total <= warmup: the cosine part is empty (min_lr after warmup). Computed in
// double, returned as float, so every caller sees the same value for a step.
float lr_at(int step, int warmup, int total, float max_lr, float min_lr);

}  // namespace sf::train
