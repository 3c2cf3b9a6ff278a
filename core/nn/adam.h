/* Adam with Keras semantics (tf.keras / Keras 3 `Adam`), the optimizer the study used.
 *
 * At step t = 1, 2, ... (t counts updates, not epochs), for every parameter:
 *     m <- m + (1 - beta1) (g - m)
 *     v <- v + (1 - beta2) (g^2 - v)
 *     alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 *     w <- w - alpha_t * m / (sqrt(v) + eps)
 * Keras folds the bias corrections into the step size, so eps is added to sqrt(v) WITHOUT the
 * sqrt(1 - beta2^t) correction ("epsilon hat" in Kingma & Ba, sec. 2). PyTorch's Adam adds eps to
 * the corrected sqrt(v_hat) instead; the two differ only when sqrt(v) is near eps. */
#ifndef PZ_NN_ADAM_H
#define PZ_NN_ADAM_H

#include <stddef.h>

typedef struct pz_adam_cfg {
    double lr, beta1, beta2, eps;
} pz_adam_cfg;

/* Keras defaults: lr 1e-3 is Keras' own default; pzflow's train stage sets 5e-4 (the study's). */
#define PZ_ADAM_DEFAULTS ((pz_adam_cfg){.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-7})

/* The step size alpha_t above, computed in double. */
double pz_adam_alpha(const pz_adam_cfg *cfg, long t);

/* One update of n parameters with gradient g, moments m and v, at step t (>= 1). */
void pz_adam_update(float *w, const float *g, float *m, float *v, size_t n, const pz_adam_cfg *cfg, long t);

#endif
