/* The command line uses only the public API: this must fail to compile with the CLI's includes. */
#include "sql/session.h"
int pl_layers_cli(void);
int pl_layers_cli(void)
{
	return 0;
}
