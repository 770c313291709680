/* SPDX-License-Identifier: MIT */
/* The table for a person and the JSON for a script; ratios are to inproc. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static double gbps(const struct bench_result *r)
{
	return r->seconds > 0 ? (double)r->bytes / r->seconds / 1e9 : 0;
}

static double mops(const struct bench_result *r)
{
	return r->seconds > 0 ? (double)r->ops / r->seconds / 1e6 : 0;
}

/* CPU seconds per 10^9 bytes copied in the throughput pass; < 0: not known. */
static double s_per_gb(double cpu_s, const struct bench_result *r)
{
	return cpu_s < 0 || !r->bytes ? -1 : cpu_s / ((double)r->bytes / 1e9);
}

/* The in-process result for the same size, or NULL when it did not run. */
static const struct bench_result *baseline(const struct bench_result *r, size_t n, size_t size)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].size == size && !strcmp(r[i].mode, "inproc"))
			return &r[i];
	return NULL;
}

static const char *size_str(size_t size, char *buf, size_t len)
{
	if (size >= (1u << 20) && size % (1u << 20) == 0)
		snprintf(buf, len, "%zu MiB", size >> 20);
	else if (size >= 1024 && size % 1024 == 0)
		snprintf(buf, len, "%zu KiB", size >> 10);
	else
		snprintf(buf, len, "%zu B", size);
	return buf;
}

void report_table(FILE *f, const struct bench_result *r, size_t n)
{
	char sz[32];

	fprintf(f, "%8s  %-8s %3s %4s %9s %9s %9s %9s %7s %7s %9s %9s  %s\n", "size", "mode", "ch",
		"win", "GB/s", "Mops/s", "p50 us", "p99 us", "GB/s x", "p50 x", "cli s/GB",
		"dmad s/GB", "data");
	for (size_t i = 0; i < n; i++) {
		const struct bench_result *b = baseline(r, n, r[i].size);
		double cli = s_per_gb(r[i].client_cpu_s, &r[i]),
		       dmad = s_per_gb(r[i].dmad_cpu_s, &r[i]);

		fprintf(f, "%8s  %-8s %3u %4u %9.3f %9.3f %9.2f %9.2f",
			size_str(r[i].size, sz, sizeof(sz)), r[i].mode, r[i].channels, r[i].window,
			gbps(&r[i]), mops(&r[i]), r[i].lat_p50_us, r[i].lat_p99_us);
		if (b && gbps(b) > 0 && b->lat_p50_us > 0)
			fprintf(f, " %7.2f %7.2f", gbps(&r[i]) / gbps(b),
				r[i].lat_p50_us / b->lat_p50_us);
		else
			fprintf(f, " %7s %7s", "-", "-");
		if (cli >= 0)
			fprintf(f, " %9.3f", cli);
		else
			fprintf(f, " %9s", "-");
		if (dmad >= 0)
			fprintf(f, " %9.3f", dmad);
		else
			fprintf(f, " %9s", "-");
		fprintf(f, "  %-4s %s\n", r[i].verified ? "ok" : "BAD", r[i].engine);
	}
	fprintf(f,
		"GB/s x, p50 x: ratio to inproc at the same size. Latency: depth-1, submit to "
		"observed completion.\n"
		"cli s/GB, dmad s/GB: CPU seconds per 10^9 bytes in the throughput pass, the bench "
		"process's and dmad's.\n");
}

static void json_ratio(FILE *f, const char *key, double num, double den)
{
	if (den > 0)
		fprintf(f, ", \"%s\": %.4f", key, num / den);
	else
		fprintf(f, ", \"%s\": null", key);
}

static void json_num(FILE *f, const char *key, double v)
{
	if (v >= 0)
		fprintf(f, ", \"%s\": %.4f", key, v);
	else
		fprintf(f, ", \"%s\": null", key);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

int report_json(FILE *f, const struct bench_result *r, size_t n, const char *cmdline)
{
	fprintf(f, "{\n  \"command\": ");
	json_string(f, cmdline);
	fprintf(f, ",\n  \"cpus\": %ld,\n", sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(f, "  \"latency\": \"depth-1, submit to observed completion\",\n");
	fprintf(f, "  \"cases\": [");
	for (size_t i = 0; i < n; i++) {
		const struct bench_result *b = baseline(r, n, r[i].size);

		fprintf(f,
			"%s\n    {\"size\": %zu, \"mode\": \"%s\", \"channels\": %u, "
			"\"window\": %u, \"ops\": %llu, \"bytes\": %llu, \"seconds\": %.6f, "
			"\"gbps\": %.4f, \"mops\": %.4f, \"lat_samples\": %u, "
			"\"lat_p50_us\": %.3f, \"lat_p99_us\": %.3f",
			i ? "," : "", r[i].size, r[i].mode, r[i].channels, r[i].window,
			(unsigned long long)r[i].ops, (unsigned long long)r[i].bytes, r[i].seconds,
			gbps(&r[i]), mops(&r[i]), r[i].lat_n, r[i].lat_p50_us, r[i].lat_p99_us);
		json_ratio(f, "gbps_vs_inproc", gbps(&r[i]), b ? gbps(b) : 0);
		json_ratio(f, "lat_p50_vs_inproc", r[i].lat_p50_us, b ? b->lat_p50_us : 0);
		json_num(f, "client_cpu_s", r[i].client_cpu_s);
		json_num(f, "dmad_cpu_s", r[i].dmad_cpu_s);
		json_num(f, "client_cpu_s_per_gb", s_per_gb(r[i].client_cpu_s, &r[i]));
		json_num(f, "dmad_cpu_s_per_gb", s_per_gb(r[i].dmad_cpu_s, &r[i]));
		fprintf(f, ", \"engine\": ");
		json_string(f, r[i].engine);
		fprintf(f, ", \"verified\": %s}", r[i].verified ? "true" : "false");
	}
	fprintf(f, "\n  ]\n}\n");
	return ferror(f) ? -EIO : 0;
}
