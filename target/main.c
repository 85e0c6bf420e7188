/* SPDX-License-Identifier: MIT */
/*
 * znstcpd: parse the configuration, build the daemon context (subsystems,
 * namespaces, reactors), listen, run until SIGINT/SIGTERM, tear down.
 */
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "target/core.h"

void znst_log(const struct znst_daemon *d, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (d && level > d->cfg.verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "znstcpd: %s\n", line);
}

static int open_listener(struct znst_daemon *d)
{
	const struct znst_config *cfg = &d->cfg;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res, *ai;
	char port[8], host[INET6_ADDRSTRLEN];
	int fd = -1, err, one = 1;

	snprintf(port, sizeof(port), "%u", cfg->listen_port);
	err = getaddrinfo(cfg->listen_addr, port, &hints, &res);
	if (err) {
		fprintf(stderr, "znstcpd: --listen: cannot resolve '%s': %s\n",
			cfg->listen_addr, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 512) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
		errno = err;
	}
	if (fd < 0) {
		fprintf(stderr, "znstcpd: --listen: cannot listen on %s:%u: %s\n",
			cfg->listen_addr, cfg->listen_port, strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	if (ai->ai_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr,
			  host, sizeof(host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr,
			  host, sizeof(host));
	snprintf(d->listen_desc, sizeof(d->listen_desc),
		 ai->ai_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, cfg->listen_port);
	freeaddrinfo(res);
	return fd;
}

static void *reactor_thread(void *arg)
{
	struct znst_reactor *r = arg;

	if (reactor_run(r) != 0) {
		atomic_store(&r->daemon->stop, true);
		/* wake reactor 0 so the whole daemon stops */
		uint64_t one = 1;
		if (write(r->daemon->reactors[0].wake_fd, &one, sizeof(one)) < 0)
			perror("znstcpd: wake");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct znst_daemon *d = calloc(1, sizeof(*d));
	char err[256], desc[512];
	sigset_t sigs;
	int ret = 1, sfd;

	if (!d)
		return 1;
	switch (znst_config_from_args(&d->cfg, argc, argv, err, sizeof(err))) {
	case ZNST_CLI_EXIT_OK:
		free(d);
		return 0;
	case ZNST_CLI_ERROR:
		fprintf(stderr, "znstcpd: %s\n", err);
		free(d);
		return 2;
	case ZNST_CLI_RUN:
		break;
	}
	/* Data buffers up to MDTS come and go per command: keep them on the
	 * heap instead of an mmap/munmap pair each, and keep the heap's top
	 * instead of trimming it whenever 128 KiB are free there: every trim
	 * made the next buffers fault their pages in again, on the reactor
	 * (6% of it at 1.2 GB/s of 128K writes). */
	mallopt(M_MMAP_THRESHOLD, 16 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);

	if ((ret = subsys_init_nvm(&d->nvm, d)) != 0) {
		fprintf(stderr, "znstcpd: cannot create namespaces: %s\n", strerror(-ret));
		return 1;
	}
	subsys_init_disc(&d->disc, d);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);	/* print the lateness report */
	sigaddset(&sigs, SIGUSR2);	/* start the lateness counts over */
	sigaddset(&sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sigdelset(&sigs, SIGPIPE);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

	d->listen_fd = open_listener(d);
	if (d->listen_fd < 0)
		return 1;
	if (d->cfg.zoned.prefault && d->cfg.zoned.nr_zones &&
	    (ret = prefault_start(&d->prefault)) != 0)
		znst_log(d, LOG_INFO, "no populator thread (%s): first writes fault "
			 "on the I/O path", strerror(-ret));
	d->nr_reactors = d->cfg.reactors;
	d->reactors = calloc(d->nr_reactors, sizeof(*d->reactors));
	for (unsigned i = 0; i < d->nr_reactors; i++)
		reactor_init(&d->reactors[i], d, i);
	d->reactors[0].listen_fd = d->listen_fd;
	d->reactors[0].signal_fd = sfd;
	for (unsigned i = 1; i < d->nr_reactors; i++)
		pthread_create(&d->reactors[i].thread, NULL, reactor_thread, &d->reactors[i]);

	znst_config_describe(&d->cfg, desc, sizeof(desc));
	znst_log(d, LOG_INFO, "%s", desc);
	printf("znstcpd: listening on %s, subsystem %s\n", d->listen_desc, d->cfg.nqn);
	fflush(stdout);

	ret = reactor_run(&d->reactors[0]);
	atomic_store(&d->stop, true);
	for (unsigned i = 1; i < d->nr_reactors; i++) {
		uint64_t one = 1;

		if (write(d->reactors[i].wake_fd, &one, sizeof(one)) < 0)
			perror("znstcpd: wake");
		pthread_join(d->reactors[i].thread, NULL);
	}
	prefault_stop(&d->prefault);
	if (d->nvm.timing.p.kind != TIMING_MODEL_NONE ||
	    d->nvm.conv_timing.p.kind != TIMING_MODEL_NONE)
		daemon_report_lateness(d);
	for (unsigned i = 0; i < d->nr_reactors; i++)
		reactor_fini(&d->reactors[i]);
	close(d->listen_fd);
	close(sfd);
	subsys_fini(&d->disc);
	subsys_fini(&d->nvm);
	free(d->reactors);
	free(d);
	printf("znstcpd: stopped\n");
	return ret ? 1 : 0;
}
