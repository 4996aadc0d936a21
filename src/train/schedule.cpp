#include "train/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sf::train {

float lr_at(int step, int warmup, int total, float max_lr, float min_lr) {
  if (warmup > 0 && step <= warmup) return static_cast<float>(double(max_lr) * step / warmup);
  if (step > total || total <= warmup) return min_lr;
  const double p = double(step - std::max(warmup, 0)) / double(total - std::max(warmup, 0));
  const double c = 0.5 * (1.0 + std::cos(std::numbers::pi * p));
  return static_cast<float>(double(min_lr) + (double(max_lr) - double(min_lr)) * c);
}

}  // namespace sf::train
