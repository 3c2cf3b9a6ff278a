#include <stdio.h>
int main(void) { fputs("pzflow: engine not built yet\n", stderr); return 1; }
