/* The command form of pzflow-predict: `pzflow predict MODEL CATALOG -o OUT [options]` (pzflow
 * execs `pzflow-predict MODEL CATALOG -o OUT ...`). stages/predict.c picks it or the stage
 * form (pzflow-predict SPEC.json) from its arguments. */
#ifndef PZ_NN_PREDICT_CLI_H
#define PZ_NN_PREDICT_CLI_H

/* Whether argv is the command form (anything but exactly one argument, or --help). */
int pz_predict_cli_wanted(int argc, char **argv);
/* Parse, predict, print the summary on stderr; the exit status (0, 1 error, 2 usage). */
int pz_predict_cli_main(int argc, char **argv);

#endif
