/* The multicast server's member table: which addresses are members of which group.
 *
 * Bounded twice, both fixed at start: the number of groups with members and the members
 * of one group. A group exists while it has members. Members are found by a walk of their
 * group: forwarding walks every member anyway, so an index would save nothing where it
 * matters. */
#ifndef MCAST_TABLE_H
#define MCAST_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <packos/kan.h>

struct mcast_member {
	uint8_t address[PK_IPV6_ADDR_SIZE];
	uint32_t lost; /* copies for it dropped since the last one it was sent */
	bool gone;     /* its address went away: to be removed by mcast_table_sweep */
};

struct mcast_group {
	uint8_t address[PK_IPV6_ADDR_SIZE];
	unsigned count;		      /* members; 0: the slot is free */
	struct mcast_member *members; /* room for the table's max_members */
};

struct mcast_table {
	struct mcast_group *groups;
	unsigned max_groups, max_members;
	unsigned groups_used, memberships;
};

/* 0, or -PK_ENOMEM. */
int mcast_table_init(struct mcast_table *t, unsigned max_groups, unsigned max_members);
void mcast_table_free(struct mcast_table *t);

/* The group of `address`, or NULL if it has no members. */
struct mcast_group *mcast_table_find(struct mcast_table *t,
				     const uint8_t address[PK_IPV6_ADDR_SIZE]);

/* -PK_EINVAL not a multicast address, -PK_EALREADY a member already, -PK_ENOSPC the
 * group is full or it is new and every group slot is taken. */
int mcast_table_join(struct mcast_table *t, const uint8_t group[PK_IPV6_ADDR_SIZE],
		     const uint8_t member[PK_IPV6_ADDR_SIZE]);
/* -PK_EINVAL not a multicast address, -PK_ENOTMEMBER not a member (or no one is). */
int mcast_table_leave(struct mcast_table *t, const uint8_t group[PK_IPV6_ADDR_SIZE],
		      const uint8_t member[PK_IPV6_ADDR_SIZE]);

/* Removes the members of `g` marked gone, freeing the group if none is left; returns how
 * many it removed. */
unsigned mcast_table_sweep(struct mcast_table *t, struct mcast_group *g);

#endif
