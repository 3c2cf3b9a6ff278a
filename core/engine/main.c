/* pzflow: the engine's command line (see core/engine/cli.h and docs/engine.md). */
#include "engine/cli.h"

int main(int argc, char **argv) { return pz_cli_main(argc, argv); }
