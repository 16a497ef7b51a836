/* The multicast server's member table (table.h). */
#include <stdlib.h>
#include <string.h>

#include <packos/errors.h>

#include "table.h"

int mcast_table_init(struct mcast_table *t, unsigned max_groups, unsigned max_members)
{
	*t = (struct mcast_table){.max_groups = max_groups, .max_members = max_members};
	t->groups = calloc(max_groups, sizeof *t->groups);
	for (unsigned i = 0; t->groups != NULL && i < max_groups; i++) {
		t->groups[i].members = calloc(max_members, sizeof *t->groups[i].members);
		if (t->groups[i].members == NULL) {
			mcast_table_free(t);
			return -PK_ENOMEM;
		}
	}
	return t->groups != NULL ? 0 : -PK_ENOMEM;
}

void mcast_table_free(struct mcast_table *t)
{
	for (unsigned i = 0; t->groups != NULL && i < t->max_groups; i++)
		free(t->groups[i].members);
	free(t->groups);
	*t = (struct mcast_table){0};
}

static bool same_address(const uint8_t a[PK_IPV6_ADDR_SIZE], const uint8_t b[PK_IPV6_ADDR_SIZE])
{
	return memcmp(a, b, PK_IPV6_ADDR_SIZE) == 0;
}

struct mcast_group *mcast_table_find(struct mcast_table *t,
				     const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	for (unsigned i = 0; i < t->max_groups; i++)
		if (t->groups[i].count > 0 && same_address(t->groups[i].address, address))
			return &t->groups[i];
	return NULL;
}

static struct mcast_member *find_member(struct mcast_group *g,
					const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	for (unsigned i = 0; g != NULL && i < g->count; i++)
		if (same_address(g->members[i].address, address))
			return &g->members[i];
	return NULL;
}

static bool is_multicast(const uint8_t address[PK_IPV6_ADDR_SIZE])
{
	return address[0] == 0xff;
}

int mcast_table_join(struct mcast_table *t, const uint8_t group[PK_IPV6_ADDR_SIZE],
		     const uint8_t member[PK_IPV6_ADDR_SIZE])
{
	if (!is_multicast(group))
		return -PK_EINVAL;
	struct mcast_group *g = mcast_table_find(t, group);
	if (find_member(g, member) != NULL)
		return -PK_EALREADY;
	if (g == NULL) {
		for (unsigned i = 0; g == NULL && i < t->max_groups; i++)
			if (t->groups[i].count == 0)
				g = &t->groups[i];
		if (g == NULL)
			return -PK_ENOSPC;
		memcpy(g->address, group, PK_IPV6_ADDR_SIZE);
		t->groups_used++;
	} else if (g->count == t->max_members) {
		return -PK_ENOSPC;
	}
	struct mcast_member *m = &g->members[g->count++];
	*m = (struct mcast_member){0};
	memcpy(m->address, member, PK_IPV6_ADDR_SIZE);
	t->memberships++;
	return 0;
}

/* Fills the hole at `m` with the group's last member. */
static void remove_member(struct mcast_table *t, struct mcast_group *g, struct mcast_member *m)
{
	*m = g->members[--g->count];
	t->memberships--;
	if (g->count == 0)
		t->groups_used--;
}

int mcast_table_leave(struct mcast_table *t, const uint8_t group[PK_IPV6_ADDR_SIZE],
		      const uint8_t member[PK_IPV6_ADDR_SIZE])
{
	if (!is_multicast(group))
		return -PK_EINVAL;
	struct mcast_group *g = mcast_table_find(t, group);
	struct mcast_member *m = find_member(g, member);
	if (m == NULL)
		return -PK_ENOTMEMBER;
	remove_member(t, g, m);
	return 0;
}

unsigned mcast_table_sweep(struct mcast_table *t, struct mcast_group *g)
{
	unsigned removed = 0;
	for (unsigned i = 0; i < g->count;) {
		if (g->members[i].gone) {
			remove_member(t, g, &g->members[i]);
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}
