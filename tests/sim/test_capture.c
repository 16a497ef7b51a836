/* The pcap capture: what it writes, read back with libpcap (link type, lengths, bytes,
 * timestamps), a flush that makes records visible before close, a clear error for a path
 * it cannot create, and, when tshark is installed, that tshark decodes the file. */
#define _GNU_SOURCE
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture.h"
#include "packos/kan.h"
#include "packos/types.h"

#define OVERLONG_LENGTH (PK_FRAME_SIZE + 904u)

/* Each test gets a fresh directory, removed with whatever is left in it. */
struct fixture {
	char directory[256];
	char path[300];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	const char *tmp = getenv("TMPDIR");
	snprintf(f->directory, sizeof f->directory, "%s/packos-capture-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->directory)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/kan.pcap", f->directory);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->path);
	int result = rmdir(f->directory);
	free(f);
	return result;
}

/* A KAN packet of `length` bytes (at least the header) to fd6b:616e::<destination_iid>,
 * with No Next Header and a payload whose bytes depend on the position and a seed. */
static uint8_t *make_packet(uint32_t length, uint8_t destination_iid, uint8_t seed)
{
	uint8_t *packet = malloc(length);
	assert_non_null(packet);
	static const uint8_t prefix[PK_KAN_PREFIX_SIZE] = PK_KAN_DEFAULT_PREFIX;
	struct pk_ipv6_header header = {
		.version_class_flow = {0x60, 0, 0, 0},
		.next_header = 59, /* No Next Header: nothing after, whatever the length */
		.hop_limit = 64,
	};
	uint32_t payload = length - PK_IPV6_HEADER_SIZE;
	header.payload_length[0] = (uint8_t)(payload >> 8);
	header.payload_length[1] = (uint8_t)payload;
	memcpy(header.source, prefix, sizeof prefix);
	header.source[15] = 1;
	memcpy(header.destination, prefix, sizeof prefix);
	header.destination[15] = destination_iid;
	memcpy(packet, &header, sizeof header);
	for (uint32_t i = PK_IPV6_HEADER_SIZE; i < length; i++)
		packet[i] = (uint8_t)(i * 7 + seed);
	return packet;
}

struct sample {
	uint32_t length;
	uint8_t destination_iid;
};

/* A header alone, a small packet, a full frame, and one longer than a frame. */
static const struct sample samples[] = {
	{PK_IPV6_HEADER_SIZE, 7},
	{100, 8},
	{PK_FRAME_SIZE, 9},
	{OVERLONG_LENGTH, 10},
};
#define SAMPLE_COUNT (sizeof samples / sizeof samples[0])

static void write_samples(struct capture *c)
{
	for (unsigned i = 0; i < SAMPLE_COUNT; i++) {
		uint8_t *packet =
			make_packet(samples[i].length, samples[i].destination_iid, (uint8_t)i);
		capture_packet(c, packet, samples[i].length);
		free(packet);
	}
}

static pcap_t *open_for_reading(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *reader =
		pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!reader)
		fail_msg("pcap_open_offline %s: %s", path, errbuf);
	return reader;
}

static void test_capture_records_read_back_with_libpcap(void **state)
{
	struct fixture *f = *state;
	struct capture *c = NULL;
	char err[256] = "";
	if (capture_open(f->path, &c, err, sizeof err) != 0)
		fail_msg("capture_open: %s", err);
	assert_string_equal(capture_path(c), f->path);
	assert_int_equal(capture_packets(c), 0);
	write_samples(c);
	assert_int_equal(capture_packets(c), SAMPLE_COUNT);
	capture_close(c);

	pcap_t *reader = open_for_reading(f->path);
	assert_int_equal(pcap_datalink(reader), DLT_IPV6);
	assert_int_equal(pcap_snapshot(reader), PK_FRAME_SIZE);
	struct pcap_pkthdr *header;
	const u_char *bytes;
	long previous_sec = 0, previous_nsec = 0;
	for (unsigned i = 0; i < SAMPLE_COUNT; i++) {
		assert_int_equal(pcap_next_ex(reader, &header, &bytes), 1);
		uint32_t length = samples[i].length;
		uint32_t recorded = length < PK_FRAME_SIZE ? length : PK_FRAME_SIZE;
		assert_int_equal(header->len, length);
		assert_int_equal(header->caplen, recorded);
		uint8_t *expected = make_packet(length, samples[i].destination_iid, (uint8_t)i);
		assert_memory_equal(bytes, expected, recorded);
		free(expected);

		/* In a nanosecond reader tv_usec holds nanoseconds. */
		long sec = (long)header->ts.tv_sec, nsec = (long)header->ts.tv_usec;
		assert_true(nsec >= 0 && nsec < 1000000000L);
		assert_true(sec > previous_sec || (sec == previous_sec && nsec >= previous_nsec));
		previous_sec = sec;
		previous_nsec = nsec;
	}
	assert_int_equal(pcap_next_ex(reader, &header, &bytes), PCAP_ERROR_BREAK);
	pcap_close(reader);
}

static void test_capture_flush_makes_records_visible_before_close(void **state)
{
	struct fixture *f = *state;
	struct capture *c = NULL;
	char err[256] = "";
	assert_int_equal(capture_open(f->path, &c, err, sizeof err), 0);
	write_samples(c);
	capture_flush(c);

	pcap_t *reader = open_for_reading(f->path);
	struct pcap_pkthdr *header;
	const u_char *bytes;
	unsigned seen = 0;
	while (pcap_next_ex(reader, &header, &bytes) == 1)
		seen++;
	assert_int_equal(seen, SAMPLE_COUNT);
	pcap_close(reader);
	capture_close(c);
}

static void test_capture_open_of_an_unwritable_path_says_why(void **state)
{
	struct fixture *f = *state;
	char path[400];
	snprintf(path, sizeof path, "%s/no-such-directory/kan.pcap", f->directory);
	struct capture *untouched = (struct capture *)&path;
	struct capture *c = untouched;
	char err[512] = "";
	assert_int_equal(capture_open(path, &c, err, sizeof err), -1);
	assert_ptr_equal(c, untouched);
	if (!strstr(err, path) || !strstr(err, "No such file or directory"))
		fail_msg("unclear message: \"%s\"", err);
}

static void test_capture_close_of_null_is_fine(void **state)
{
	(void)state;
	capture_close(NULL);
}

static bool tshark_is_installed(void)
{
	const char *path = getenv("PATH");
	if (!path)
		return false;
	char *copy = strdup(path);
	assert_non_null(copy);
	bool found = false;
	char *saved = NULL;
	for (char *dir = strtok_r(copy, ":", &saved); dir && !found;
	     dir = strtok_r(NULL, ":", &saved)) {
		char candidate[4096];
		snprintf(candidate, sizeof candidate, "%s/tshark", dir);
		found = access(candidate, X_OK) == 0;
	}
	free(copy);
	return found;
}

static void test_capture_is_decoded_by_tshark(void **state)
{
	struct fixture *f = *state;
	if (!tshark_is_installed()) {
		/* CI installs tshark (scripts/install-deps --test): there, its absence fails. */
		if (getenv("CI") != NULL)
			fail_msg("CI is set and tshark is not on PATH");
		print_message("tshark is not on PATH: not checking that it decodes the file\n");
		skip();
	}
	struct capture *c = NULL;
	char err[256] = "";
	assert_int_equal(capture_open(f->path, &c, err, sizeof err), 0);
	write_samples(c);
	capture_close(c);

	/* The fixture's path holds no quote, so single quotes make it one shell word. */
	char command[512];
	snprintf(command, sizeof command, "tshark -r '%s' -T fields -e ipv6.dst 2>/dev/null",
		 f->path);
	FILE *output = popen(command, "r");
	assert_non_null(output);
	char line[128];
	unsigned lines = 0;
	while (fgets(line, sizeof line, output)) {
		line[strcspn(line, "\n")] = '\0';
		if (lines < SAMPLE_COUNT) {
			char expected[64];
			snprintf(expected, sizeof expected, "fd6b:616e::%x",
				 samples[lines].destination_iid);
			assert_string_equal(line, expected);
		}
		lines++;
	}
	assert_int_equal(pclose(output), 0);
	assert_int_equal(lines, SAMPLE_COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capture_records_read_back_with_libpcap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_capture_flush_makes_records_visible_before_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_open_of_an_unwritable_path_says_why,
						setup, teardown),
		cmocka_unit_test(test_capture_close_of_null_is_fine),
		cmocka_unit_test_setup_teardown(test_capture_is_decoded_by_tshark, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
