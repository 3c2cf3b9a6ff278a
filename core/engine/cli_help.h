/* `pzflow COMMAND --help`: the help of one command (usage, what it does, the options it takes,
 * its exit statuses), in the format of `pzflow --help`, each line at most 80 columns. */
#ifndef PZ_CLI_HELP_H
#define PZ_CLI_HELP_H

/* The text for `cmd`, or NULL for a command that has none of its own (the global help serves). */
const char *pz_cli_command_help(const char *cmd);

#endif
