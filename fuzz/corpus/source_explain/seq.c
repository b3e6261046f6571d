#include <stdio.h>
#include "local.h"
#define OPT_STR "b:c:f:" IF_FEATURE_X("F:") "n"
#define VERSION_X "1.2.3"
#define assert_x(X) do { if (!(X)) fail(#X, __FILE__, __LINE__); } while (0)
//applet:IF_TOOL(APPLET(tool, BB_DIR_BIN, BB_SUID_DROP))
static const char units[4] = "KMGT";
static const char help[] = "Options:\n"
#if A
  "\tPort\n"
#endif
  "\tSyslog\n";
int main(int argc, char **argv) {
  const char *w = L"wide" u8"utf" R"x(raw \n)x";
  char q = '\'';
  assert_x(argc >= 1 && argv != NULL);
  getopt32(argv, "^" OPT_STR "\0" "-2", &w);
  printf("tool v" VERSION_X " (" EXTRA ")\n\x41\101\u00e9");
  return q;
}
