/* Catalog SQL outside src/catalog: tests/layers/catalog_sql.sh must reject this file. */
static const char *const query = "SELECT \"value\" FROM ducklake_metadata WHERE \"key\" = ?";
