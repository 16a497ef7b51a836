/* The trace's records as steps a student can follow: who acted, what happened in one
 * sentence, and the stage of the seed's figure the step belongs to (process, top half,
 * NIC, interrupt, bottom half).
 *
 * A stage comes from the record alone, and from the driver's records before it: the NIC's
 * work is the NIC's; a raise is the interrupt; a call of any process but the NIC's driver
 * is the process's; the driver is in its bottom half when it receives an interrupt packet
 * or acknowledges one, and in its top half when it receives or sends any other packet;
 * its other calls (a receive that waits, an allocation) stay in the half it was in. */
#ifndef PACKOS_SIM_TRACE_STEPS_H
#define PACKOS_SIM_TRACE_STEPS_H

#include "control_wire.h"
#include "trace.h"

/* The answer of `packosctl trace show`: an object "trace" (running, capacity, held,
 * overwritten) and a table "steps", one row per record held, oldest first, with columns
 * step, since_first_ns, stage, who, process, pid, event and what. */
void trace_steps_write(const struct trace *t, struct ctl_out *o);

#endif
