/* A table operation given a session: tests/layers/no_sessions.sh must reject this file. */
struct planar_conn;
int pl_sample_op(struct planar_conn *conn);
