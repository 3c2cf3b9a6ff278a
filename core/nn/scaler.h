/* Per-feature min-max scaling, x' = (x - min) / (max - min), fitted on the training split only
 * and stored with the model (the study's preprocessing). A constant feature (max == min) is
 * scaled by 1 instead of divided by zero, as scikit-learn's MinMaxScaler does. */
#ifndef PZ_NN_SCALER_H
#define PZ_NN_SCALER_H

#include <stddef.h>

typedef struct pz_scaler {
    size_t nfeat;
    double *min, *max; /* nfeat each, malloc'd */
} pz_scaler;

/* Fit on x[rows x nfeat] (finite values assumed). */
void pz_scaler_fit(pz_scaler *s, const float *x, size_t rows, size_t nfeat);
/* Scale in place. Non-finite values stay non-finite. */
void pz_scaler_apply(const pz_scaler *s, float *x, size_t rows);
void pz_scaler_init(pz_scaler *s, size_t nfeat);
void pz_scaler_copy(pz_scaler *dst, const pz_scaler *src);
void pz_scaler_free(pz_scaler *s);

#endif
