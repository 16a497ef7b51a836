/* IPv6 addresses as text (RFC 4291 section 2.2 to read, RFC 5952 to write) and the fixed
 * header. Written here rather than borrowed from the host's libc, so programs stay free
 * of host headers and the same code runs on every port. */
#include <stddef.h>

#include "pk/pk.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads a dotted IPv4 tail ("192.0.2.1") into 4 bytes; returns 0 or -1. */
static int parse_ipv4_tail(const char *text, uint8_t ret[4])
{
	for (int part = 0; part < 4; part++) {
		unsigned value = 0, digits = 0;
		while (*text >= '0' && *text <= '9') {
			if (digits > 0 && value == 0)
				return -1; /* no leading zeros */
			value = value * 10 + (unsigned)(*text++ - '0');
			if (++digits > 3 || value > 255)
				return -1;
		}
		if (digits == 0)
			return -1;
		ret[part] = (uint8_t)value;
		if (part < 3 && *text++ != '.')
			return -1;
	}
	return *text == '\0' ? 0 : -1;
}

int pk_addr_parse(const char *text, uint8_t ret_address[PK_IPV6_ADDR_SIZE])
{
	uint16_t groups[8] = {0};
	int count = 0, gap = -1;
	const char *p = text;

	if (p[0] == ':') {
		if (p[1] != ':')
			return -PK_EINVAL;
		gap = 0;
		p += 2;
	}
	while (*p != '\0') {
		if (count == 8)
			return -PK_EINVAL;
		const char *start = p;
		unsigned value = 0, digits = 0;
		int d;
		while ((d = hex_digit(*p)) >= 0) {
			value = value << 4 | (unsigned)d;
			if (++digits > 4)
				return -PK_EINVAL;
			p++;
		}
		if (*p == '.') {
			uint8_t v4[4];
			if (count > 6 || parse_ipv4_tail(start, v4) < 0)
				return -PK_EINVAL;
			groups[count++] = (uint16_t)(v4[0] << 8 | v4[1]);
			groups[count++] = (uint16_t)(v4[2] << 8 | v4[3]);
			break;
		}
		if (digits == 0)
			return -PK_EINVAL;
		groups[count++] = (uint16_t)value;
		if (*p == '\0')
			break;
		if (*p++ != ':')
			return -PK_EINVAL;
		if (*p == ':') {
			if (gap >= 0)
				return -PK_EINVAL;
			gap = count;
			p++;
		} else if (*p == '\0') {
			return -PK_EINVAL; /* a single trailing colon */
		}
	}
	if (gap < 0 ? count != 8 : count > 7)
		return -PK_EINVAL;

	int out = 0;
	for (int i = 0; i < 8; i++) {
		uint16_t value = 0;
		if (gap < 0 || i < gap)
			value = groups[i];
		else if (i >= 8 - (count - gap))
			value = groups[gap + (i - (8 - (count - gap)))];
		ret_address[out++] = (uint8_t)(value >> 8);
		ret_address[out++] = (uint8_t)value;
	}
	return 0;
}

void pk_addr_format(const uint8_t address[PK_IPV6_ADDR_SIZE], char ret_text[PK_ADDR_STRLEN])
{
	static const char digits[] = "0123456789abcdef";
	uint16_t groups[8];
	for (int i = 0; i < 8; i++)
		groups[i] = (uint16_t)(address[2 * i] << 8 | address[2 * i + 1]);

	/* RFC 5952: the longest run of two or more zero groups, the first if tied, is "::". */
	int best = -1, best_length = 1;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && groups[j] == 0)
			j++;
		if (j - i > best_length) {
			best = i;
			best_length = j - i;
		}
		i = j > i ? j : i + 1;
	}

	char *out = ret_text;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*out++ = ':';
			if (i == 0)
				*out++ = ':';
			i += best_length - 1;
			continue;
		}
		int shift = 12;
		while (shift > 0 && (groups[i] >> shift) == 0)
			shift -= 4;
		for (; shift >= 0; shift -= 4)
			*out++ = digits[(groups[i] >> shift) & 0xf];
		if (i < 7)
			*out++ = ':';
	}
	*out = '\0';
}

void pk_ipv6_header_init(void *packet, const uint8_t source[PK_IPV6_ADDR_SIZE],
			 const uint8_t destination[PK_IPV6_ADDR_SIZE], uint8_t next_header,
			 uint16_t payload_length, uint8_t hop_limit)
{
	struct pk_ipv6_header *h = packet;
	h->version_class_flow[0] = 0x60;
	h->version_class_flow[1] = 0;
	h->version_class_flow[2] = 0;
	h->version_class_flow[3] = 0;
	h->payload_length[0] = (uint8_t)(payload_length >> 8);
	h->payload_length[1] = (uint8_t)payload_length;
	h->next_header = next_header;
	h->hop_limit = hop_limit;
	for (unsigned i = 0; i < PK_IPV6_ADDR_SIZE; i++) {
		h->source[i] = source[i];
		h->destination[i] = destination[i];
	}
}

void pk_ipv6_swap_addresses(void *packet)
{
	struct pk_ipv6_header *h = packet;
	for (unsigned i = 0; i < PK_IPV6_ADDR_SIZE; i++) {
		uint8_t byte = h->source[i];
		h->source[i] = h->destination[i];
		h->destination[i] = byte;
	}
}

uint16_t pk_ipv6_payload_length(const void *packet)
{
	const struct pk_ipv6_header *h = packet;
	return (uint16_t)(h->payload_length[0] << 8 | h->payload_length[1]);
}

/* The one's-complement sum of RFC 1071 does not depend on the order of the bytes within
 * the words summed, as long as the result is swapped back (§2(B)), nor on their width, as
 * long as the carries are folded in (§2(C)). So the bytes are summed as native 32-bit
 * words into 64 bits, and folded and swapped once: a quarter of the additions of a sum of
 * big-endian 16-bit words, and no shifting of bytes. Returns the sum of `bytes` as
 * big-endian 16-bit words, folded to 16 bits. */
static uint32_t sum_be16(const uint8_t *bytes, uint32_t length)
{
	uint64_t sum = 0;
	uint32_t i = 0;
	for (; i + 4 <= length; i += 4) {
		uint32_t word;
		__builtin_memcpy(&word, bytes + i, sizeof word);
		sum += word;
	}
	/* The last two or three bytes, and an odd one padded with zero, as a word of memory. */
	uint8_t tail[4] = {0};
	for (uint32_t k = 0; i + k < length; k++)
		tail[k] = bytes[i + k];
	uint32_t word;
	__builtin_memcpy(&word, tail, sizeof word);
	sum += word;
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	sum = (sum >> 8 | sum << 8) & 0xffff;
#endif
	return (uint32_t)sum;
}

uint16_t pk_ipv6_checksum_at(const void *packet, uint8_t next_header, uint32_t offset,
			     uint32_t length)
{
	const struct pk_ipv6_header *h = packet;
	uint32_t sum = sum_be16(h->source, 2 * PK_IPV6_ADDR_SIZE);
	sum += length >> 16;
	sum += length & 0xffff;
	sum += next_header;
	sum += sum_be16((const uint8_t *)packet + offset, length);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t pk_ipv6_upper_checksum(const void *packet, uint8_t next_header, uint32_t length)
{
	return pk_ipv6_checksum_at(packet, next_header, PK_IPV6_HEADER_SIZE, length);
}
