/* The three network stages as library functions over a loaded spec; stages/train.c,
 * stages/fine_tune.c and stages/predict.c are thin mains around them. Params, inputs and
 * outputs are documented in docs/network.md. */
#ifndef PZ_NN_STAGE_H
#define PZ_NN_STAGE_H

#include "util/err.h"
#include "util/spec.h"

/* Train a new network (NN-Base, or NN-Combo when `train` lists several tables). */
extern const pz_stage_def pz_nn_train_stage;
/* Fine-tune a trained network on new data (NN-TL), keeping its scaler. */
extern const pz_stage_def pz_nn_fine_tune_stage;
/* Apply a network to a table, writing the predictions table. */
extern const pz_stage_def pz_nn_predict_stage;

#endif
