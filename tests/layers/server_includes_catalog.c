/* The HTTP service may use the catalog's service tables: this must compile with its includes. */
#include "catalog/service.h"
#include "sql/service.h"
int pl_layers_server(void);
int pl_layers_server(void)
{
	return 0;
}
