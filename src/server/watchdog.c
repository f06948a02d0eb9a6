/*
 * watchdog.c -- per-query time limits: a query's session is registered with its deadline; a
 * background thread interrupts (planar_conn_interrupt) every session past its deadline, again on
 * each tick until it is removed, so the statement really stops and its worker is freed.
 */
#include <stdlib.h>
#include <time.h>

#include "server/internal.h"

static bool past(const struct timespec *now, const struct timespec *d)
{
	return now->tv_sec > d->tv_sec || (now->tv_sec == d->tv_sec && now->tv_nsec >= d->tv_nsec);
}

static void *watch_loop(void *arg)
{
	pl_srv *s = arg;
	pl_srv_watchdog *w = &s->watch;
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		for (size_t i = 0; i < w->n; i++) {
			if (w->slots[i].conn && past(&now, &w->slots[i].deadline)) {
				w->slots[i].fired = true;
				planar_conn_interrupt(w->slots[i].conn);
			}
		}
		pthread_mutex_unlock(&w->lock);
		struct timespec d = {0, 20 * 1000000L};
		nanosleep(&d, NULL);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int pl_srv_watch_start(pl_srv *s)
{
	pthread_mutex_init(&s->watch.lock, NULL);
	if (pthread_create(&s->watch.thread, NULL, watch_loop, s) != 0)
		return PLANAR_ERROR;
	s->watch.started = true;
	return 0;
}

void pl_srv_watch_stop(pl_srv *s)
{
	if (!s->watch.started)
		return;
	pthread_mutex_lock(&s->watch.lock);
	s->watch.stop = true;
	pthread_mutex_unlock(&s->watch.lock);
	pthread_join(s->watch.thread, NULL);
	free(s->watch.slots);
	s->watch.started = false;
}

int pl_srv_watch_add(pl_srv *s, planar_conn *conn, unsigned ms)
{
	pl_srv_watchdog *w = &s->watch;
	if (!w->started || ms == 0)
		return -1;
	struct timespec d;
	clock_gettime(CLOCK_MONOTONIC, &d);
	d.tv_sec += ms / 1000;
	d.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (d.tv_nsec >= 1000000000L) {
		d.tv_sec++;
		d.tv_nsec -= 1000000000L;
	}
	int slot = -1;
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->n && slot < 0; i++)
		if (!w->slots[i].conn)
			slot = (int)i;
	if (slot < 0) {
		pl_srv_watch_slot *p = realloc(w->slots, (w->n + 1) * sizeof *p);
		if (p) {
			w->slots = p;
			slot = (int)w->n++;
		}
	}
	if (slot >= 0)
		w->slots[slot] = (pl_srv_watch_slot){conn, d, false};
	pthread_mutex_unlock(&w->lock);
	return slot;
}

bool pl_srv_watch_fired(pl_srv *s, int slot)
{
	if (slot < 0)
		return false;
	pthread_mutex_lock(&s->watch.lock);
	bool f = s->watch.slots[slot].fired;
	pthread_mutex_unlock(&s->watch.lock);
	return f;
}

bool pl_srv_watch_remove(pl_srv *s, int slot)
{
	if (slot < 0)
		return false;
	pthread_mutex_lock(&s->watch.lock);
	bool f = s->watch.slots[slot].fired;
	s->watch.slots[slot].conn = NULL;
	pthread_mutex_unlock(&s->watch.lock);
	return f;
}
