/* A layer may not include a layer above it: this must fail to compile in the table layer. */
#include "sql/lake.h"
int pl_layers_up(void);
int pl_layers_up(void)
{
	return 0;
}
