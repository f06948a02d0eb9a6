/* The HTTP service does not reach below the public API into tables: this must fail to compile. */
#include "table/context.h"
int pl_layers_server(void);
int pl_layers_server(void)
{
	return 0;
}
